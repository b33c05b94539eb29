package plugin.health.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * health.inventory on this host, checked against the tools an administrator would ask (uname, nproc, lspci, ip,
 * systemd-detect-virt), and the SMBIOS decoding against a table built here byte by byte as the DMTF specification
 * lays it out.
 */
class InventoryTest {
    @TempDir
    Path tmp;

    static String tool(String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError(cmd[0] + " is needed by this test (packages coreutils, pciutils, iproute2, systemd): " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out.strip();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) { return (List<Map<String, Object>>) o; }

    private static Map<String, Object> map(Object o) { return InventoryFixturesTest.map(o); }

    @Test
    void theInventoryOfThisHostAgreesWithItsTools() throws Exception {
        Map<String, Object> inv = InventoryFixturesTest.inventory(Path.of("/"));
        assertThat(inv.get("hostname")).isEqualTo(tool("uname", "-n"));
        assertThat(map(inv.get("kernel"))).containsEntry("release", tool("uname", "-r")).containsEntry("name", tool("uname", "-s"))
            .containsEntry("version", tool("uname", "-v"));
        assertThat(inv.get("architecture")).isEqualTo(tool("uname", "-m"));
        assertThat(inv.get("hostId")).isEqualTo(tool("hostid"));
        String prettyName = null;
        for (String l : Files.readAllLines(Path.of("/etc/os-release"))) {
            if (l.startsWith("PRETTY_NAME=")) prettyName = l.substring(12).replace("\"", "");
        }
        assertThat(map(inv.get("os"))).containsEntry("prettyName", prettyName);

        Map<String, Object> cpu = map(inv.get("cpu"));
        assertThat(((Number) cpu.get("threads")).longValue()).isEqualTo(Long.parseLong(tool("nproc", "--all")));

        long memTotal = 0;
        for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (l.startsWith("MemTotal:")) memTotal = Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
        }
        assertThat(((Number) map(inv.get("memory")).get("totalBytes")).longValue()).isEqualTo(memTotal);

        // PCI: every device lspci sees, with the names it gives them
        List<Map<String, Object>> pci = list(inv.get("pci"));
        List<String> lspci = tool("lspci", "-D", "-n").lines().map(l -> l.split(" ")[0]).toList();
        assertThat(pci).extracting(d -> d.get("slot")).containsExactlyElementsOf(lspci);
        for (String line : tool("lspci", "-D", "-mm").lines().toList()) {
            // 0000:00:00.0 "Host bridge" "Intel Corporation" "Device 0d57" ...
            String[] q = line.split("\"");
            Map<String, Object> d = pci.stream().filter(x -> x.get("slot").equals(line.split(" ")[0])).findFirst().orElseThrow();
            assertThat(d.get("className")).as(line).isEqualTo(q[1]);
            assertThat(d.get("vendor")).as(line).isEqualTo(q[3]);
            if (!q[5].startsWith("Device ")) assertThat(d.get("name")).as(line).isEqualTo(q[5]);
        }

        // network: the interfaces, their MACs and addresses, the default route, as ip shows them
        Map<String, Object> net = map(inv.get("network"));
        List<Map<String, Object>> ifs = list(net.get("interfaces"));
        List<String> names = new ArrayList<>();
        try (var s = Files.list(Path.of("/sys/class/net"))) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        assertThat(ifs).extracting(i -> i.get("name")).containsExactlyInAnyOrderElementsOf(names);
        for (String line : tool("ip", "-o", "link").lines().toList()) {
            // 2: eth0: <...> mtu 1500 ... link/ether 02:fc:00:00:00:01 brd ...
            String name = line.split(": ")[1].split("@")[0];
            Map<String, Object> i = ifs.stream().filter(x -> x.get("name").equals(name)).findFirst().orElseThrow();
            assertThat(((Number) i.get("mtu")).longValue()).as(name).isEqualTo(Long.parseLong(line.replaceAll(".* mtu ([0-9]+) .*", "$1")));
            if (line.contains("link/ether ")) assertThat(i.get("mac")).as(name).isEqualTo(line.replaceAll(".*link/ether ([0-9a-f:]+).*", "$1"));
        }
        for (String line : tool("ip", "-o", "addr").lines().toList()) {
            // 2: eth0    inet 192.0.2.2/24 brd ... scope global eth0
            String[] f = line.trim().split("\\s+");
            String name = f[1];
            String[] addr = f[3].split("/");
            Map<String, Object> i = ifs.stream().filter(x -> x.get("name").equals(name)).findFirst().orElseThrow();
            assertThat(list(i.get("addresses"))).as(name).anySatisfy(a -> {
                assertThat(a.get("address")).isEqualTo(addr[0]);
                assertThat(((Number) a.get("prefix")).intValue()).isEqualTo(Integer.parseInt(addr[1]));
            });
        }
        String route = tool("ip", "-4", "route", "show", "default");
        if (route.isEmpty()) {
            assertThat(net.get("defaultRoute")).isNull();
        } else {
            String[] f = route.split("\\s+"); // default via 192.0.2.1 dev eth0 ...
            assertThat(map(net.get("defaultRoute"))).containsEntry("gateway", f[2]).containsEntry("interface", f[4]);
        }

        // virtualisation, as systemd sees the container (its VM check reads CPUID, which Java cannot)
        Map<String, Object> virt = map(inv.get("virtualization"));
        String container = tool("systemd-detect-virt", "--container");
        assertThat(virt.get("container")).isEqualTo(container.equals("none") ? null : container);
        boolean hypervisorFlag = Files.readString(Path.of("/proc/cpuinfo")).contains(" hypervisor");
        assertThat(virt.get("hypervisor") != null).as("hypervisor flag in /proc/cpuinfo: %s, %s", hypervisorFlag, virt).isEqualTo(hypervisorFlag);

        List<Map<String, Object>> disks = list(inv.get("blockDevices"));
        for (Map<String, Object> d : disks) {
            // loop devices come and go and grow under other tests running on the machine (plugin.disk's): not the host's disks
            if (((String) d.get("name")).startsWith("loop")) continue;
            if (d.get("vendor") != null) assertThat((String) d.get("vendor")).as("a PCI vendor id is named").doesNotStartWith("0x");
            long sectors = Long.parseLong(Files.readString(Path.of("/sys/block", (String) d.get("name"), "size")).trim());
            assertThat(((Number) d.get("sizeBytes")).longValue()).isEqualTo(sectors * 512);
        }
        assertThat(map(inv.get("timezone")).get("name")).isNotNull();
        assertThat(map(inv.get("identity")).get("agentIdDefault")).isNotNull();
    }

    /** Builds an SMBIOS structure: header, formatted area (after the 4 header bytes), strings. */
    private static byte[] structure(int type, int handle, int[] formatted, String... strings) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(type);
        b.write(4 + formatted.length);
        b.write(handle & 0xff);
        b.write(handle >> 8);
        for (int x : formatted) b.write(x);
        if (strings.length == 0) {
            b.write(0);
        } else {
            for (String s : strings) {
                b.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
                b.write(0);
            }
        }
        b.write(0);
        return b.toByteArray();
    }

    /** Bytes of a formatted area from offset 4 up to {@code len}, with values set at their spec offsets. */
    private static int[] area(int len, int... offsetValueWidth) {
        int[] a = new int[len - 4];
        for (int i = 0; i < offsetValueWidth.length; i += 3) {
            int off = offsetValueWidth[i] - 4;
            long v = offsetValueWidth[i + 1] & 0xffffffffL;
            for (int w = 0; w < offsetValueWidth[i + 2]; w++) a[off + w] = (int) (v >> (8 * w) & 0xff);
        }
        return a;
    }

    @Test
    void smbiosMemoryModulesSlotsPortsAndPowerSuppliesAreDecoded() throws Exception {
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        // type 16: system memory (use 3), 4 devices
        t.writeBytes(structure(16, 0x1000, area(0x17, 0x05, 3, 1, 0x0D, 4, 2)));
        // type 17: a 16 GiB DDR4 RDIMM at 3200 MT/s, configured 2933
        t.writeBytes(structure(17, 0x1100, area(0x28, 0x0C, 16384, 2, 0x0E, 0x09, 1, 0x10, 1, 1, 0x11, 2, 1, 0x12, 0x1A, 1, 0x15, 3200, 2,
            0x17, 3, 1, 0x18, 4, 1, 0x19, 5, 1, 0x1A, 6, 1, 0x20, 2933, 2), "DIMM A1", "P0_Node0_Channel0_Dimm0", "Samsung", "0x3A1B2C3D",
            "A1_AssetTag", "M393A4K40DB3-CWE    "));
        // type 17: an empty slot
        t.writeBytes(structure(17, 0x1101, area(0x28, 0x0C, 0, 2, 0x10, 1, 1), "DIMM A2"));
        // type 17: 64 GiB, too big for the size field: 0x7FFF there means "see the extended size", in MiB
        t.writeBytes(structure(17, 0x1102, area(0x28, 0x0C, 0x7FFF, 2, 0x10, 1, 1, 0x12, 0x22, 1, 0x1C, 65536, 4), "DIMM B1"));
        // type 17: 512 KiB given in KiB (bit 15)
        t.writeBytes(structure(17, 0x1103, area(0x28, 0x0C, 0x8000 | 512, 2, 0x10, 1, 1), "NVRAM"));
        // type 9: a PCIe Gen 4 x16 slot in use
        t.writeBytes(structure(9, 0x0900, area(0x11, 0x04, 1, 1, 0x05, 0xBD, 1, 0x07, 4, 1, 0x09, 3, 2), "SLOT3 PCIe Gen4 x16"));
        // type 8: an external network port
        t.writeBytes(structure(8, 0x0800, area(0x09, 0x04, 1, 1, 0x06, 2, 1, 0x08, 0x1F, 1), "J1A1", "NIC 1"));
        // type 39: a present, plugged, hot-replaceable 1400 W supply
        t.writeBytes(structure(39, 0x2700, area(0x16, 0x05, 1, 1, 0x06, 2, 1, 0x07, 3, 1, 0x08, 4, 1, 0x0A, 5, 1, 0x0B, 6, 1, 0x0C, 1400, 2,
            0x0E, 0x3, 2), "PSU 1", "PWR SPLY,1400W", "DELL", "CNDED0012345", "0ABCDEA00", "A00"));
        // type 4: a populated socket, 28 cores, 56 threads
        t.writeBytes(structure(4, 0x0400, area(0x30, 0x04, 1, 1, 0x07, 2, 1, 0x10, 3, 1, 0x12, 100, 2, 0x14, 4000, 2, 0x16, 2000, 2,
            0x18, 0x41, 1, 0x23, 28, 1, 0x25, 56, 1), "CPU1", "Intel", "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"));
        t.writeBytes(structure(127, 0xFEFF, new int[0]));
        Smbios s = Smbios.parse(t.toByteArray());

        assertThat(s.memorySlots()).isEqualTo(4);
        List<Object> modules = s.memoryModules();
        assertThat(modules).hasSize(3);
        assertThat(map(modules.get(0))).containsEntry("locator", "DIMM A1").containsEntry("bank", "P0_Node0_Channel0_Dimm0")
            .containsEntry("sizeBytes", 16L << 30).containsEntry("type", "DDR4").containsEntry("formFactor", "DIMM")
            .containsEntry("speedMts", 3200).containsEntry("configuredSpeedMts", 2933).containsEntry("manufacturer", "Samsung")
            .containsEntry("serial", "0x3A1B2C3D").containsEntry("partNumber", "M393A4K40DB3-CWE");
        assertThat(map(modules.get(1))).containsEntry("locator", "DIMM B1").containsEntry("sizeBytes", 64L << 30).containsEntry("type", "DDR5");
        assertThat(map(modules.get(2))).containsEntry("sizeBytes", 512L << 10).containsEntry("type", null);
        assertThat(s.slots()).singleElement().satisfies(x -> assertThat(map(x)).containsEntry("designation", "SLOT3 PCIe Gen4 x16")
            .containsEntry("type", "PCI Express Gen 4 x16").containsEntry("status", "in use").containsEntry("id", 3));
        assertThat(s.ports()).singleElement().satisfies(x -> assertThat(map(x)).containsEntry("internalDesignator", "J1A1")
            .containsEntry("externalDesignator", "NIC 1").containsEntry("type", "Network Port"));
        assertThat(s.powerSupplies()).singleElement().satisfies(x -> assertThat(map(x)).containsEntry("location", "PSU 1")
            .containsEntry("manufacturer", "DELL").containsEntry("maxPowerWatts", 1400).containsEntry("present", true)
            .containsEntry("pluggedIn", true).containsEntry("hotReplaceable", true));
        assertThat(s.processors()).singleElement().satisfies(x -> assertThat(map(x)).containsEntry("socket", "CPU1").containsEntry("populated", true)
            .containsEntry("cores", 28).containsEntry("threads", 56).containsEntry("maxSpeedMhz", 4000));

        // and through the inventory, from the file the kernel exports
        Path root = tmp.resolve("host");
        Files.createDirectories(root.resolve("sys/firmware/dmi/tables"));
        Files.write(root.resolve("sys/firmware/dmi/tables/DMI"), t.toByteArray());
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/meminfo"), "MemTotal:       97000000 kB\nSwapTotal:             0 kB\n");
        Map<String, Object> inv = InventoryFixturesTest.inventory(root);
        Map<String, Object> mem = map(inv.get("memory"));
        assertThat(mem).containsEntry("slots", 4L).containsEntry("installedBytes", (16L << 30) + (64L << 30) + (512L << 10))
            .containsEntry("totalBytes", 97000000L * 1024);
        assertThat(list(inv.get("slots"))).hasSize(1);
        assertThat(list(inv.get("powerSupplies"))).hasSize(1);
        assertThat(list(map(inv.get("cpu")).get("firmware"))).hasSize(1);
    }

    @Test
    void aDamagedTableYieldsWhatPrecedesTheDamage() {
        byte[] good = structure(9, 1, area(0x11, 0x04, 1, 1, 0x05, 0xA6, 1, 0x07, 3, 1), "SLOT1");
        byte[] table = new byte[good.length + 3];
        System.arraycopy(good, 0, table, 0, good.length);
        table[good.length] = 17;
        table[good.length + 1] = (byte) 200; // claims 200 bytes, 1 remains
        assertThat(Smbios.parse(table).slots()).singleElement().satisfies(x -> assertThat(map(x)).containsEntry("type", "PCI Express x1")
            .containsEntry("status", "available"));
    }

    @Test
    void ipv6AddressesAreWrittenAsIpWritesThem() {
        String[][] cases = {
            {"0:0:0:0:0:0:0:1", "::1"}, {"0:0:0:0:0:0:0:0", "::"}, {"fe80:0:0:0:2fc:ff:fe00:1", "fe80::2fc:ff:fe00:1"},
            {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"}, {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
            {"1:0:0:0:0:0:0:0", "1::"}, {"2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"},
            {"2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"}};
        for (String[] c : cases) assertThat(Inventory.compress(c[0])).as(c[0]).isEqualTo(c[1]);
    }
}
