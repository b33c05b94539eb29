package plugin.health.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/**
 * health.inventory on fixture /sys and /proc trees (src/test/resources/hosts): an XCP-ng HVM guest, a KVM guest
 * under Proxmox and a bare-metal Dell server, and variants of them made in the test.
 */
class InventoryFixturesTest {
    @TempDir
    Path tmp;
    private int copies;

    static Path fixture(String name) throws Exception {
        return Path.of(InventoryFixturesTest.class.getResource("/hosts/" + name).toURI());
    }

    /** @return the fixture copied into a temp dir, to be changed by the test */
    private Path copy(String name) throws Exception {
        Path src = fixture(name);
        Path dst = tmp.resolve(name + "-" + copies++);
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dst;
    }

    private static void write(Path root, String file, String content) throws IOException {
        Path p = root.resolve(file);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }

    /** @return the data as the server gets it: JSON, where a null value is left out (so "absent" reads "null") */
    @SuppressWarnings("unchecked")
    static Map<String, Object> inventory(Path root) {
        InventoryReader r = new InventoryReader();
        r.root = root;
        Outcome o = TestContext.forAction("health.inventory").run(r);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.executed()).isEmpty();
        return (Map<String, Object>) o.wireData();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) { return (Map<String, Object>) o; }

    @Test
    void anXcpNgGuestIsAXenVmAndItsIdIsTheVmUuid() throws Exception {
        Map<String, Object> inv = inventory(fixture("xen-domu"));
        Map<String, Object> v = map(inv.get("virtualization"));
        assertThat(v).containsEntry("type", "vm").containsEntry("hypervisor", "xen").containsEntry("role", "guest")
            .doesNotContainKey("container").containsEntry("guestType", "HVM").containsEntry("hypervisorVersion", "4.17.4-1");
        assertThat((List<String>) v.get("evidence")).containsExactly("/sys/hypervisor/type: xen");
        Map<String, Object> id = map(inv.get("identity"));
        assertThat(id).containsEntry("xenVmUuid", "7e4a1d3c-5b2f-4c8e-9a61-0d2f3b4c5e6f").containsEntry("agentIdSource", "xen")
            .containsEntry("agentIdDefault", "7e4a1d3c-5b2f-4c8e-9a61-0d2f3b4c5e6f")
            .containsEntry("productUuid", "7e4a1d3c-5b2f-4c8e-9a61-0d2f3b4c5e6f").containsEntry("machineId", "3f1c9a7e2b4d4e6f8a0b1c2d3e4f5a6b");
        Map<String, Object> dmi = map(inv.get("dmi"));
        assertThat(map(dmi.get("system"))).containsEntry("vendor", "Xen").containsEntry("product", "HVM domU");
        assertThat(map(dmi.get("bios"))).containsEntry("vendor", "Xen").containsEntry("version", "4.17.4-1").containsEntry("date", "06/13/2024");
        assertThat(map(dmi.get("chassis"))).containsEntry("type", "Other");
        assertThat(map(inv.get("cpu"))).containsEntry("sockets", 1L).containsEntry("cores", 2L).containsEntry("threads", 2L)
            .containsEntry("model", "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz").containsEntry("vendor", "GenuineIntel");
    }

    @Test
    void aProxmoxGuestIsAKvmVm() throws Exception {
        Map<String, Object> inv = inventory(fixture("kvm"));
        Map<String, Object> v = map(inv.get("virtualization"));
        assertThat(v).containsEntry("type", "vm").containsEntry("hypervisor", "kvm").containsEntry("role", "guest").doesNotContainKey("container");
        assertThat((List<String>) v.get("evidence")).containsExactly("/sys/class/dmi/id/sys_vendor: QEMU");
        assertThat(map(inv.get("identity"))).containsEntry("agentIdSource", "dmi").doesNotContainKey("xenVmUuid")
            .containsEntry("agentIdDefault", "2b5e8f3a-1c4d-4e7f-9a2b-3c4d5e6f7a8b");
        assertThat(map(map(inv.get("dmi")).get("bios"))).containsEntry("vendor", "SeaBIOS");
        assertThat(map(inv.get("cpu"))).containsEntry("sockets", 4L).containsEntry("cores", 4L).containsEntry("threads", 4L);
    }

    @Test
    void aBareMetalServerIsNotVirtualised() throws Exception {
        Map<String, Object> inv = inventory(fixture("bare-metal"));
        Map<String, Object> v = map(inv.get("virtualization"));
        assertThat(v).containsEntry("type", "none").doesNotContainKey("hypervisor").doesNotContainKey("role").doesNotContainKey("container");
        assertThat((List<String>) v.get("evidence")).containsExactly("no hypervisor or container marker found");
        Map<String, Object> dmi = map(inv.get("dmi"));
        assertThat(map(dmi.get("system"))).containsEntry("vendor", "Dell Inc.").containsEntry("product", "PowerEdge R650")
            .containsEntry("serial", "7XQ4K93").containsEntry("sku", "SKU=090F;ModelName=PowerEdge R650");
        assertThat(map(dmi.get("board"))).containsEntry("vendor", "Dell Inc.").containsEntry("name", "0Y2G81").containsEntry("version", "A01");
        assertThat(map(dmi.get("chassis"))).containsEntry("type", "Rack Mount Chassis").containsEntry("serial", "7XQ4K93");
        assertThat(map(inv.get("cpu"))).containsEntry("sockets", 2L).containsEntry("cores", 4L).containsEntry("threads", 4L)
            .containsEntry("model", "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz");
        assertThat(map(inv.get("identity"))).containsEntry("agentIdSource", "dmi");
    }

    @Test
    void otherHostsEachByTheirOwnEvidence() throws Exception {
        // an XCP-ng host's control domain runs on Xen but is the host, not a guest
        Path dom0 = copy("xen-domu");
        write(dom0, "proc/xen/capabilities", "control_d\n");
        write(dom0, "sys/hypervisor/uuid", "00000000-0000-0000-0000-000000000000\n");
        Map<String, Object> d0 = inventory(dom0);
        assertThat(map(d0.get("virtualization"))).containsEntry("type", "none").containsEntry("hypervisor", "xen").containsEntry("role", "host");
        assertThat(map(d0.get("identity"))).doesNotContainKey("xenVmUuid").containsEntry("agentIdSource", "dmi");

        // a Docker container in the KVM guest: both are reported
        Path docker = copy("kvm");
        write(docker, ".dockerenv", "");
        assertThat(map(inventory(docker).get("virtualization"))).containsEntry("type", "container").containsEntry("container", "docker")
            .containsEntry("hypervisor", "kvm");

        Path lxc = copy("bare-metal");
        write(lxc, "proc/1/environ", "PATH=/usr/bin\u0000container=lxc\u0000");
        assertThat(map(inventory(lxc).get("virtualization"))).containsEntry("type", "container").containsEntry("container", "lxc")
            .doesNotContainKey("hypervisor");

        Path k8s = copy("kvm");
        write(k8s, "proc/1/cgroup", "0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-0123.scope\n");
        assertThat(map(inventory(k8s).get("virtualization"))).containsEntry("container", "kubernetes");

        Path vmware = copy("bare-metal");
        write(vmware, "sys/class/dmi/id/sys_vendor", "VMware, Inc.\n");
        write(vmware, "sys/class/dmi/id/product_name", "VMware Virtual Platform\n");
        assertThat(map(inventory(vmware).get("virtualization"))).containsEntry("type", "vm").containsEntry("hypervisor", "vmware");

        Path hyperv = copy("bare-metal");
        write(hyperv, "sys/class/dmi/id/sys_vendor", "Microsoft Corporation\n");
        write(hyperv, "sys/class/dmi/id/product_name", "Virtual Machine\n");
        write(hyperv, "sys/class/dmi/id/board_vendor", "Microsoft Corporation\n");
        write(hyperv, "sys/class/dmi/id/bios_vendor", "Microsoft Corporation\n");
        assertThat(map(inventory(hyperv).get("virtualization"))).containsEntry("hypervisor", "hyperv");

        // a Microsoft-made physical machine is not Hyper-V
        Path surface = copy("bare-metal");
        write(surface, "sys/class/dmi/id/sys_vendor", "Microsoft Corporation\n");
        write(surface, "sys/class/dmi/id/product_name", "Surface Laptop 5\n");
        write(surface, "sys/class/dmi/id/board_vendor", "Microsoft Corporation\n");
        write(surface, "sys/class/dmi/id/bios_vendor", "Microsoft Corporation\n");
        assertThat(map(inventory(surface).get("virtualization"))).doesNotContainKey("hypervisor").containsEntry("type", "none");

        // QEMU without KVM's clock is emulation
        Path tcg = copy("kvm");
        write(tcg, "sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc\n");
        write(tcg, "sys/devices/system/clocksource/clocksource0/available_clocksource", "tsc acpi_pm\n");
        assertThat(map(inventory(tcg).get("virtualization"))).containsEntry("hypervisor", "qemu");

        // no DMI at all (a microVM), only KVM's clock
        Path micro = copy("kvm");
        deleteTree(micro.resolve("sys/class/dmi"));
        assertThat(map(inventory(micro).get("virtualization"))).containsEntry("hypervisor", "kvm")
            .containsEntry("evidence", List.of("clock source kvm-clock (KVM's paravirtual clock)"));
        assertThat(inventory(micro).get("dmi")).isNull();
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
