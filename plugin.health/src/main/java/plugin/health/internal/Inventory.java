package plugin.health.internal;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The asset inventory of {@code health.inventory}: one structured document read from {@code /proc}, {@code /sys},
 * {@code /etc} and the firmware's SMBIOS table, starting no process. Sections that the host does not have (no DMI in
 * a container, no batteries in a server) are null or empty; a section that exists but cannot be read says why.
 */
final class Inventory {
    private final HostFiles host;
    /** whether addresses come from this JVM's view of the interfaces (the real host) rather than only from files */
    private final boolean liveNetwork;

    Inventory(Path root) {
        this.host = new HostFiles(root);
        this.liveNetwork = root.toString().equals("/");
    }

    Map<String, Object> collect() {
        Map<String, Object> inv = new LinkedHashMap<>();
        inv.put("time", Instant.now().toString());
        inv.put("os", os());
        inv.put("kernel", kernel());
        inv.put("architecture", architecture());
        String hostname = host.line("/proc/sys/kernel/hostname");
        inv.put("hostname", hostname);
        String fqdn = fqdn(hostname);
        inv.put("fqdn", fqdn);
        inv.put("domain", fqdn != null && fqdn.indexOf('.') > 0 ? fqdn.substring(fqdn.indexOf('.') + 1) : null);
        inv.put("hostId", hostId(hostname));
        inv.put("identity", identity());
        inv.put("virtualization", Virtualization.detect(host));
        inv.put("dmi", dmi());
        Smbios smbios = smbios();
        inv.put("smbiosAvailable", smbios != null);
        inv.put("cpu", cpu(smbios));
        inv.put("memory", memory(smbios));
        List<Object> blocks = blockDevices();
        inv.put("blockDevices", blocks);
        inv.put("filesystems", filesystems());
        inv.put("network", network());
        // a virtio disk's vendor is a PCI vendor id (0x1af4): named from the same database as the PCI devices
        Set<String> blockVendors = new HashSet<>();
        for (Object o : blocks) {
            String v = (String) ((Map<?, ?>) o).get("vendor");
            if (v != null && v.matches("0x[0-9a-fA-F]{4}")) blockVendors.add(v.substring(2).toLowerCase(Locale.ROOT));
        }
        DeviceIds[] ids = new DeviceIds[1];
        Map<String, Object> pci = pci(blockVendors, ids);
        inv.putAll(pci);
        if (ids[0] != null) {
            for (Object o : blocks) {
                @SuppressWarnings("unchecked")
                Map<String, Object> d = (Map<String, Object>) o;
                String v = (String) d.get("vendor");
                if (v != null && v.matches("0x[0-9a-fA-F]{4}") && ids[0].vendor(v.substring(2).toLowerCase(Locale.ROOT)) != null) {
                    d.put("vendor", ids[0].vendor(v.substring(2).toLowerCase(Locale.ROOT)));
                }
            }
        }
        inv.put("usb", usb());
        inv.put("slots", smbios == null ? null : smbios.slots());
        inv.put("ports", smbios == null ? null : smbios.ports());
        inv.put("powerSupplies", smbios == null ? null : smbios.powerSupplies());
        inv.put("batteries", batteries());
        inv.put("soundCards", soundCards());
        inv.put("inputs", inputs());
        inv.put("monitors", monitors());
        inv.put("timezone", timezone());
        String up = host.line("/proc/uptime");
        inv.put("uptimeSeconds", up == null ? null : (long) Double.parseDouble(HostFiles.fields(up).get(0)));
        inv.put("bootTime", bootTime());
        return inv;
    }

    // ------------------------------------------------------------------ system

    private Map<String, Object> os() {
        Map<String, String> r = host.pairs("/etc/os-release", '=');
        if (r.isEmpty()) r = host.pairs("/usr/lib/os-release", '=');
        Map<String, Object> os = new LinkedHashMap<>();
        os.put("name", r.get("NAME"));
        os.put("prettyName", r.get("PRETTY_NAME"));
        os.put("id", r.get("ID"));
        os.put("idLike", r.get("ID_LIKE"));
        os.put("version", r.get("VERSION"));
        os.put("versionId", r.get("VERSION_ID"));
        os.put("codename", r.get("VERSION_CODENAME"));
        // the point release, which os-release leaves out on Debian (12 → 12.11) and RHEL-alikes
        String point = host.line("/etc/debian_version");
        if (point == null) point = host.line("/etc/redhat-release");
        os.put("release", point);
        return os;
    }

    private Map<String, Object> kernel() {
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("name", host.line("/proc/sys/kernel/ostype"));
        k.put("release", host.line("/proc/sys/kernel/osrelease"));
        k.put("version", host.line("/proc/sys/kernel/version"));
        return k;
    }

    private String architecture() {
        String arch = host.line("/proc/sys/kernel/arch"); // the kernel's uname -m, since Linux 6.1
        if (arch != null) return arch;
        String jvm = System.getProperty("os.arch", "");
        return switch (jvm) {
            case "amd64" -> "x86_64";
            case "x86", "i386" -> "i686";
            default -> jvm;
        };
    }

    private String fqdn(String hostname) {
        if (hostname == null) return null;
        if (hostname.indexOf('.') > 0) return hostname;
        // /etc/hosts first, as the resolver would answer for the host's own name: no DNS round trip for the common case
        String hosts = host.read("/etc/hosts");
        if (hosts != null) {
            for (String line : hosts.split("\n")) {
                int hash = line.indexOf('#');
                List<String> f = HostFiles.fields(hash < 0 ? line : line.substring(0, hash));
                if (f.size() < 2 || !f.subList(1, f.size()).contains(hostname)) continue;
                for (String name : f.subList(1, f.size())) {
                    if (name.startsWith(hostname + ".")) return name;
                }
            }
        }
        if (!liveNetwork) return hostname;
        try {
            String canonical = InetAddress.getLocalHost().getCanonicalHostName();
            return canonical.startsWith(hostname + ".") ? canonical : hostname;
        } catch (IOException | SecurityException e) {
            return hostname;
        }
    }

    /**
     * gethostid(3) as glibc computes it, without calling it: the 4 bytes of {@code /etc/hostid} if it exists, else the
     * host name's first IPv4 address with its 16-bit halves swapped. What {@code hostid} prints and inventories show.
     */
    private String hostId(String hostname) {
        try {
            byte[] b = Files.readAllBytes(host.path("/etc/hostid"));
            if (b.length >= 4) {
                return String.format("%08x", (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24); // x86's byte order
            }
        } catch (IOException | SecurityException e) {
            // no /etc/hostid: derived from the address
        }
        byte[] a = ipv4Of(hostname);
        if (a == null) return null;
        long sAddr = (a[0] & 0xffL) | (a[1] & 0xffL) << 8 | (a[2] & 0xffL) << 16 | (a[3] & 0xffL) << 24; // in_addr as read on little-endian
        return String.format("%08x", ((sAddr << 16) | (sAddr >>> 16)) & 0xffffffffL);
    }

    private byte[] ipv4Of(String hostname) {
        if (hostname == null) return null;
        String hosts = host.read("/etc/hosts");
        if (hosts != null) {
            for (String line : hosts.split("\n")) {
                int hash = line.indexOf('#');
                List<String> f = HostFiles.fields(hash < 0 ? line : line.substring(0, hash));
                if (f.size() >= 2 && f.subList(1, f.size()).contains(hostname) && f.get(0).matches("[0-9]+(\\.[0-9]+){3}")) {
                    String[] p = f.get(0).split("\\.");
                    byte[] b = new byte[4];
                    for (int i = 0; i < 4; i++) b[i] = (byte) Integer.parseInt(p[i]);
                    return b;
                }
            }
        }
        if (!liveNetwork) return null;
        try {
            for (InetAddress a : InetAddress.getAllByName(hostname)) if (a instanceof Inet4Address) return a.getAddress();
        } catch (IOException | SecurityException e) {
            return null;
        }
        return null;
    }

    /** The values the agent id is made of when the config sets none (docs/protocol.md §2), and which one it takes. */
    private Map<String, Object> identity() {
        Map<String, Object> id = new LinkedHashMap<>();
        boolean xen = host.exists("/proc/xen") || host.exists("/dev/xen");
        // the domain's handle, which XAPI sets to the VM's UUID: what `xenstore-read vm` names, without the tool
        String xenUuid = xen ? host.line("/sys/hypervisor/uuid") : null;
        if (xenUuid != null && xenUuid.equals("00000000-0000-0000-0000-000000000000")) xenUuid = null; // dom0
        String product = host.line("/sys/class/dmi/id/product_uuid");
        String machine = host.line("/etc/machine-id");
        id.put("xenVmUuid", xenUuid);
        id.put("productUuid", product == null ? null : product.toLowerCase(Locale.ROOT));
        id.put("machineId", machine);
        String source = xenUuid != null ? "xen" : product != null ? "dmi" : machine != null ? "machine-id" : null;
        id.put("agentIdSource", source);
        id.put("agentIdDefault", xenUuid != null ? xenUuid : product != null ? product.toLowerCase(Locale.ROOT) : machine);
        id.put("note", "the agent's id is this default unless its config sets agent_id");
        return id;
    }

    private static final String[] CHASSIS = {null, "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box",
        "Mini Tower", "Tower", "Portable", "Laptop", "Notebook", "Hand Held", "Docking Station", "All in One", "Sub Notebook",
        "Space-saving", "Lunch Box", "Main Server Chassis", "Expansion Chassis", "SubChassis", "Bus Expansion Chassis",
        "Peripheral Chassis", "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC", "Multi-system chassis",
        "Compact PCI", "Advanced TCA", "Blade", "Blade Enclosure", "Tablet", "Convertible", "Detachable", "IoT Gateway",
        "Embedded PC", "Mini PC", "Stick PC"};

    /** DMI as the kernel exports it in sysfs; serial numbers and the UUID are readable by root only. */
    private Map<String, Object> dmi() {
        String d = "/sys/class/dmi/id/";
        if (!host.exists(d)) return null;
        Map<String, Object> dmi = new LinkedHashMap<>();
        Map<String, Object> system = new LinkedHashMap<>();
        system.put("vendor", clean(host.line(d + "sys_vendor")));
        system.put("product", clean(host.line(d + "product_name")));
        system.put("version", clean(host.line(d + "product_version")));
        system.put("serial", clean(host.line(d + "product_serial")));
        String uuid = host.line(d + "product_uuid");
        system.put("uuid", uuid == null ? null : uuid.toLowerCase(Locale.ROOT));
        system.put("sku", clean(host.line(d + "product_sku")));
        system.put("family", clean(host.line(d + "product_family")));
        dmi.put("system", system);
        Map<String, Object> board = new LinkedHashMap<>();
        board.put("vendor", clean(host.line(d + "board_vendor")));
        board.put("name", clean(host.line(d + "board_name")));
        board.put("version", clean(host.line(d + "board_version")));
        board.put("serial", clean(host.line(d + "board_serial")));
        board.put("assetTag", clean(host.line(d + "board_asset_tag")));
        dmi.put("board", board);
        Map<String, Object> bios = new LinkedHashMap<>();
        bios.put("vendor", clean(host.line(d + "bios_vendor")));
        bios.put("version", clean(host.line(d + "bios_version")));
        bios.put("date", clean(host.line(d + "bios_date")));
        bios.put("release", clean(host.line(d + "bios_release")));
        dmi.put("bios", bios);
        Map<String, Object> chassis = new LinkedHashMap<>();
        chassis.put("vendor", clean(host.line(d + "chassis_vendor")));
        Long type = host.number(d + "chassis_type");
        chassis.put("type", type == null ? null : type > 0 && type < CHASSIS.length ? CHASSIS[type.intValue()] : "type " + type);
        chassis.put("serial", clean(host.line(d + "chassis_serial")));
        chassis.put("assetTag", clean(host.line(d + "chassis_asset_tag")));
        dmi.put("chassis", chassis);
        return dmi;
    }

    /** Firmware placeholders say "nothing here": treated as absent, as dmidecode's readers do. */
    private static String clean(String s) {
        if (s == null) return null;
        String l = s.toLowerCase(Locale.ROOT);
        if (l.isEmpty() || l.equals("not specified") || l.equals("to be filled by o.e.m.") || l.equals("default string")
            || l.equals("not applicable") || l.equals("none") || l.equals("0123456789") || l.equals("system serial number")) {
            return null;
        }
        return s;
    }

    private Smbios smbios() {
        try {
            return Smbios.parse(Files.readAllBytes(host.path("/sys/firmware/dmi/tables/DMI")));
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ cpu and memory

    private Map<String, Object> cpu(Smbios smbios) {
        Map<String, Object> c = new LinkedHashMap<>();
        String cpuinfo = host.read("/proc/cpuinfo");
        Map<String, String> first = new LinkedHashMap<>();
        int logical = 0;
        Set<String> packages = new HashSet<>();
        Set<String> cores = new HashSet<>();
        if (cpuinfo != null) {
            String physical = "0";
            for (String line : cpuinfo.split("\n")) {
                int colon = line.indexOf(':');
                if (colon < 0) continue;
                String k = line.substring(0, colon).strip();
                String v = line.substring(colon + 1).strip();
                if (k.equals("processor")) logical++;
                if (logical <= 1) first.putIfAbsent(k, v);
                if (k.equals("physical id")) {
                    physical = v;
                    packages.add(v);
                }
                if (k.equals("core id")) cores.add(physical + ":" + v);
            }
        }
        // topology from sysfs where present: it is right on every architecture, cpuinfo's fields are x86's
        List<String> cpus = new ArrayList<>();
        for (String n : host.list("/sys/devices/system/cpu")) if (n.matches("cpu[0-9]+")) cpus.add(n);
        Set<String> sysPackages = new HashSet<>();
        Set<String> sysCores = new HashSet<>();
        for (String n : cpus) {
            String t = "/sys/devices/system/cpu/" + n + "/topology/";
            String pkg = host.line(t + "physical_package_id");
            String core = host.line(t + "core_id");
            if (pkg != null && core != null) {
                sysPackages.add(pkg);
                sysCores.add(pkg + ":" + core);
            }
        }
        String model = first.getOrDefault("model name", first.getOrDefault("Model name", first.get("cpu model")));
        c.put("model", model);
        String vendor = first.getOrDefault("vendor_id", first.get("CPU implementer"));
        c.put("vendor", vendor);
        c.put("manufacturer", "GenuineIntel".equals(vendor) ? "Intel" : "AuthenticAMD".equals(vendor) ? "AMD"
            : "HygonGenuine".equals(vendor) ? "Hygon" : "CentaurHauls".equals(vendor) ? "Centaur" : vendor);
        c.put("family", first.get("cpu family"));
        c.put("modelNumber", first.get("model"));
        c.put("stepping", first.get("stepping"));
        c.put("microcode", first.get("microcode"));
        int threads = logical > 0 ? logical : cpus.size();
        c.put("sockets", !sysPackages.isEmpty() ? sysPackages.size() : !packages.isEmpty() ? packages.size() : 1);
        c.put("cores", !sysCores.isEmpty() ? sysCores.size() : !cores.isEmpty() ? cores.size() : threads);
        c.put("threads", threads);
        String mhz = first.get("cpu MHz");
        c.put("mhz", mhz == null ? null : (long) Double.parseDouble(mhz));
        Long max = host.number("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
        c.put("maxMhz", max == null ? null : max / 1000);
        c.put("cacheSize", first.get("cache size"));
        c.put("firmware", smbios == null ? null : smbios.processors());
        return c;
    }

    private Map<String, Object> memory(Smbios smbios) {
        Map<String, String> mem = host.pairs("/proc/meminfo", ':');
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("totalBytes", kb(mem.get("MemTotal")));
        m.put("swapBytes", kb(mem.get("SwapTotal")));
        if (smbios != null) {
            List<Object> modules = smbios.memoryModules();
            m.put("modules", modules);
            m.put("slots", smbios.memorySlots());
            long installed = 0;
            for (Object o : modules) installed += (Long) ((Map<?, ?>) o).get("sizeBytes");
            m.put("installedBytes", modules.isEmpty() ? null : installed);
        } else {
            m.put("modules", null);
            m.put("modulesUnavailable", host.exists("/sys/firmware/dmi/tables")
                ? "the SMBIOS table (/sys/firmware/dmi/tables/DMI) is readable by root only"
                : "this host exports no SMBIOS table (a container, or firmware without one)");
        }
        return m;
    }

    private static Long kb(String v) {
        if (v == null) return null;
        List<String> f = HostFiles.fields(v);
        return f.isEmpty() ? null : HostFiles.parseLong(f.get(0)) * 1024;
    }

    // ------------------------------------------------------------------ storage

    private List<Object> blockDevices() {
        List<Object> out = new ArrayList<>();
        for (String name : host.list("/sys/block")) {
            String b = "/sys/block/" + name + "/";
            Long sectors = host.number(b + "size");
            if (sectors == null || sectors == 0) continue; // unused loop devices, empty drives
            if (name.startsWith("ram")) continue;
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("name", name);
            d.put("type", blockType(name, b));
            d.put("sizeBytes", sectors * 512);
            d.put("vendor", host.line(b + "device/vendor"));
            d.put("model", host.line(b + "device/model"));
            String serial = host.line(b + "device/serial");
            if (serial == null) serial = host.line(b + "serial");
            d.put("serial", serial);
            String fw = host.line(b + "device/firmware_rev");
            if (fw == null) fw = host.line(b + "device/rev");
            d.put("firmware", fw);
            d.put("wwid", host.line(b + "device/wwid"));
            Long rot = host.number(b + "queue/rotational");
            d.put("rotational", rot == null ? null : rot == 1);
            Long rem = host.number(b + "removable");
            d.put("removable", rem == null ? null : rem == 1);
            Long ro = host.number(b + "ro");
            d.put("readOnly", ro == null ? null : ro == 1);
            String dmName = host.line(b + "dm/name");
            if (dmName != null) {
                d.put("dmName", dmName);
                String uuid = host.line(b + "dm/uuid");
                d.put("lvm", uuid != null && uuid.startsWith("LVM-"));
            }
            String level = host.line(b + "md/level");
            if (level != null) d.put("raidLevel", level);
            List<String> slaves = host.list(b + "slaves");
            if (!slaves.isEmpty()) d.put("slaves", slaves);
            List<Object> parts = new ArrayList<>();
            for (String p : host.list("/sys/block/" + name)) {
                if (!host.exists(b + p + "/partition")) continue;
                Map<String, Object> part = new LinkedHashMap<>();
                part.put("name", p);
                part.put("number", host.number(b + p + "/partition"));
                Long ps = host.number(b + p + "/size");
                part.put("sizeBytes", ps == null ? null : ps * 512);
                Long start = host.number(b + p + "/start");
                part.put("startBytes", start == null ? null : start * 512);
                parts.add(part);
            }
            d.put("partitions", parts);
            out.add(d);
        }
        return out;
    }

    private String blockType(String name, String b) {
        if (name.startsWith("loop")) return "loop";
        if (name.startsWith("dm-")) return "dm";
        if (name.startsWith("md")) return "raid";
        if (name.startsWith("zram")) return "zram";
        if (name.startsWith("sr")) return "rom";
        if (name.startsWith("nvme")) return "nvme";
        String link = host.link(b + "device/subsystem");
        if (link != null && link.endsWith("/virtio")) return "virtio";
        if (name.startsWith("xvd")) return "xen";
        return "disk";
    }

    private List<Object> filesystems() {
        Filesystems fss = new Filesystems(host);
        Map<String, String> uuids = byLinks("/dev/disk/by-uuid");
        Map<String, String> labels = byLinks("/dev/disk/by-label");
        List<Object> out = new ArrayList<>();
        for (Filesystems.Mount m : fss.mounted()) {
            Map<String, Object> fs = fss.measure(m);
            if (fs == null) continue;
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("mountpoint", fs.get("mountpoint"));
            f.put("device", fs.get("device"));
            f.put("fstype", fs.get("fstype"));
            f.put("readOnly", fs.get("readOnly"));
            f.put("sizeBytes", fs.get("sizeBytes"));
            f.put("usedBytes", fs.get("usedBytes"));
            f.put("availableBytes", fs.get("availableBytes"));
            f.put("inodes", fs.get("inodes"));
            String dev = m.source().startsWith("/dev/") ? m.source().substring(5) : null;
            f.put("uuid", dev == null ? null : uuids.get(dev));
            f.put("label", dev == null ? null : labels.get(dev));
            out.add(f);
        }
        return out;
    }

    /** @return device name (as under /dev) per link name, from udev's /dev/disk/by-* (absent without udev) */
    private Map<String, String> byLinks(String dir) {
        Map<String, String> out = new HashMap<>();
        for (String n : host.list(dir)) {
            String target = host.link(dir + "/" + n);
            if (target == null) continue;
            String dev = Path.of("/dev/disk/by-x").resolveSibling(target).normalize().toString();
            if (dev.startsWith("/dev/")) out.put(dev.substring(5), unescapeUdev(n));
        }
        return out;
    }

    private static String unescapeUdev(String s) {
        if (!s.contains("\\x")) return s;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            if (s.startsWith("\\x", i) && i + 3 < s.length() && Character.digit(s.charAt(i + 2), 16) >= 0
                && Character.digit(s.charAt(i + 3), 16) >= 0) {
                sb.append((char) Integer.parseInt(s.substring(i + 2, i + 4), 16));
                i += 3;
            } else {
                sb.append(s.charAt(i));
            }
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ network

    private Map<String, Object> network() {
        Map<String, Object> net = new LinkedHashMap<>();
        Map<String, List<Object>> addresses = liveNetwork ? addresses() : Map.of();
        List<Object> ifs = new ArrayList<>();
        for (String name : host.list("/sys/class/net")) {
            String n = "/sys/class/net/" + name + "/";
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("name", name);
            i.put("mac", host.line(n + "address"));
            i.put("mtu", host.number(n + "mtu"));
            i.put("state", host.line(n + "operstate"));
            Long speed = host.number(n + "speed"); // unreadable (EINVAL) while the link is down
            i.put("speedMbps", speed == null || speed < 0 ? null : speed);
            Long type = host.number(n + "type");
            i.put("type", type == null ? null : type == 1 ? "ethernet" : type == 772 ? "loopback" : type == 32 ? "infiniband"
                : type == 65534 ? "none (tunnel)" : "arphrd " + type);
            String link = host.link("/sys/class/net/" + name);
            i.put("virtual", link != null && link.contains("/devices/virtual/"));
            String driver = host.link(n + "device/driver");
            i.put("driver", driver == null ? null : Path.of(driver).getFileName().toString());
            String dev = host.link(n + "device");
            i.put("busId", dev == null ? null : Path.of(dev).getFileName().toString());
            if (host.exists(n + "bonding")) i.put("bondSlaves", HostFiles.fields(String.valueOf(host.line(n + "bonding/slaves"))));
            String master = host.link(n + "master");
            i.put("master", master == null ? null : Path.of(master).getFileName().toString());
            i.put("addresses", addresses.getOrDefault(name, List.of()));
            ifs.add(i);
        }
        net.put("interfaces", ifs);
        net.put("defaultRoute", defaultRoute4());
        net.put("defaultRoute6", defaultRoute6());
        List<String> dns = new ArrayList<>();
        List<String> search = new ArrayList<>();
        String resolv = host.read("/etc/resolv.conf");
        if (resolv != null) {
            for (String line : resolv.split("\n")) {
                List<String> f = HostFiles.fields(line);
                if (f.size() >= 2 && f.get(0).equals("nameserver")) dns.add(f.get(1));
                if (f.size() >= 2 && (f.get(0).equals("search") || f.get(0).equals("domain"))) search.addAll(f.subList(1, f.size()));
            }
        }
        net.put("dns", dns);
        net.put("searchDomains", new ArrayList<>(new LinkedHashSet<>(search)));
        return net;
    }

    /** Addresses by interface from the JVM (getifaddrs underneath: the kernel's own list, no tool). */
    private static Map<String, List<Object>> addresses() {
        Map<String, List<Object>> out = new HashMap<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                List<Object> list = new ArrayList<>();
                for (InterfaceAddress a : ni.getInterfaceAddresses()) {
                    InetAddress addr = a.getAddress();
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("family", addr instanceof Inet4Address ? "inet" : addr instanceof Inet6Address ? "inet6" : "other");
                    String text = addr.getHostAddress();
                    int pct = text.indexOf('%');
                    text = pct < 0 ? text : text.substring(0, pct);
                    m.put("address", addr instanceof Inet6Address ? compress(text) : text);
                    m.put("prefix", (int) a.getNetworkPrefixLength());
                    list.add(m);
                }
                out.put(ni.getName(), list);
            }
        } catch (SocketException e) {
            return out;
        }
        return out;
    }

    private Map<String, Object> defaultRoute4() {
        String route = host.read("/proc/net/route");
        if (route == null) return null;
        for (String line : route.split("\n")) {
            List<String> f = HostFiles.fields(line);
            // Iface Destination Gateway Flags RefCnt Use Metric Mask ...: the default route has destination and mask 0
            if (f.size() < 8 || !f.get(1).equals("00000000") || !f.get(7).equals("00000000")) continue;
            long gw = Long.parseLong(f.get(2), 16);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("gateway", (gw & 0xff) + "." + (gw >> 8 & 0xff) + "." + (gw >> 16 & 0xff) + "." + (gw >> 24 & 0xff)); // little-endian
            r.put("interface", f.get(0));
            r.put("metric", HostFiles.parseLong(f.get(6)));
            return r;
        }
        return null;
    }

    private Map<String, Object> defaultRoute6() {
        String route = host.read("/proc/net/ipv6_route");
        if (route == null) return null;
        for (String line : route.split("\n")) {
            List<String> f = HostFiles.fields(line);
            // dest prefix src prefix nexthop metric refcnt use flags iface
            if (f.size() < 10 || !f.get(0).equals("00000000000000000000000000000000") || !f.get(1).equals("00")) continue;
            if (f.get(9).equals("lo")) continue; // the unreachable default of the loopback table
            StringBuilder gw = new StringBuilder();
            for (int i = 0; i < 32; i += 4) {
                if (i > 0) gw.append(':');
                gw.append(Integer.toHexString(Integer.parseInt(f.get(4).substring(i, i + 4), 16)));
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("gateway", compress(gw.toString()));
            r.put("interface", f.get(9));
            r.put("metric", Long.parseLong(f.get(5), 16));
            return r;
        }
        return null;
    }

    /**
     * @param full an IPv6 address as eight groups of hex digits ({@code 0:0:0:0:0:0:0:1}, Java's form)
     * @return it in the form RFC 5952 recommends and {@code ip} prints: leading zeros dropped, the longest run of two or
     *         more zero groups (the first of equal ones) written {@code ::}
     */
    static String compress(String full) {
        String[] g = full.split(":");
        if (g.length != 8) return full;
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            if (Integer.parseInt(g[i], 16) != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && Integer.parseInt(g[j], 16) == 0) j++;
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append(i == 0 ? "::" : ":");
                i += bestLen - 1;
                continue;
            }
            sb.append(Integer.toHexString(Integer.parseInt(g[i], 16)));
            if (i < 7) sb.append(':');
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ buses and peripherals

    /**
     * @param extraVendors vendor ids to name besides the PCI devices' own
     * @param idsOut       receives the names looked up
     * @return {@code pci} (every device, lspci's view), {@code video}, {@code sound} and {@code modems} (the display,
     *         audio and modem controllers among them, as FusionInventory reports them) and {@code pciIdsFile}
     */
    private Map<String, Object> pci(Set<String> extraVendors, DeviceIds[] idsOut) {
        List<String> slots = host.list("/sys/bus/pci/devices");
        Set<String> vendors = new HashSet<>();
        Set<String> devices = new HashSet<>();
        Set<String> classes = new HashSet<>();
        List<Map<String, String>> raw = new ArrayList<>();
        for (String slot : slots) {
            String p = "/sys/bus/pci/devices/" + slot + "/";
            Map<String, String> r = new HashMap<>();
            r.put("slot", slot);
            r.put("vendor", hex4(host.line(p + "vendor")));
            r.put("device", hex4(host.line(p + "device")));
            r.put("subVendor", hex4(host.line(p + "subsystem_vendor")));
            r.put("subDevice", hex4(host.line(p + "subsystem_device")));
            String cls = host.line(p + "class"); // 0xCCSSPP
            r.put("class", cls != null && cls.length() >= 8 ? cls.substring(2, 4) : null);
            r.put("subclass", cls != null && cls.length() >= 8 ? cls.substring(4, 6) : null);
            r.put("revision", host.line(p + "revision"));
            String driver = host.link(p + "driver");
            r.put("driver", driver == null ? null : Path.of(driver).getFileName().toString());
            raw.add(r);
            vendors.add(r.get("vendor"));
            vendors.add(r.get("subVendor"));
            devices.add(r.get("vendor") + ":" + r.get("device"));
            if (r.get("class") != null) {
                classes.add(r.get("class"));
                classes.add(r.get("class") + ":" + r.get("subclass"));
            }
        }
        vendors.addAll(extraVendors);
        DeviceIds ids = raw.isEmpty() && extraVendors.isEmpty() ? null : DeviceIds.lookup(host, DeviceIds.PCI_FILES, vendors, devices, classes);
        idsOut[0] = ids;
        List<Object> pci = new ArrayList<>();
        List<Object> video = new ArrayList<>();
        List<Object> sound = new ArrayList<>();
        List<Object> modems = new ArrayList<>();
        for (Map<String, String> r : raw) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("slot", r.get("slot"));
            d.put("class", r.get("class") == null ? null : r.get("class") + r.get("subclass"));
            d.put("className", ids == null ? null : ids.pciClass(r.get("class"), r.get("subclass")));
            d.put("vendorId", r.get("vendor"));
            d.put("deviceId", r.get("device"));
            d.put("vendor", ids == null ? null : ids.vendor(r.get("vendor")));
            d.put("name", ids == null ? null : ids.device(r.get("vendor"), r.get("device")));
            d.put("subsystemId", r.get("subVendor") + ":" + r.get("subDevice"));
            d.put("subsystemVendor", ids == null ? null : ids.vendor(r.get("subVendor")));
            d.put("revision", r.get("revision"));
            d.put("driver", r.get("driver"));
            pci.add(d);
            if ("03".equals(r.get("class"))) video.add(d);
            if ("04".equals(r.get("class")) && ("01".equals(r.get("subclass")) || "03".equals(r.get("subclass")))) sound.add(d);
            if ("07".equals(r.get("class")) && "03".equals(r.get("subclass"))) modems.add(d);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pci", pci);
        out.put("pciIdsFile", ids == null ? null : ids.source);
        out.put("video", video);
        out.put("sound", sound);
        out.put("modems", modems);
        return out;
    }

    private static String hex4(String v) {
        if (v == null) return null;
        String h = v.startsWith("0x") ? v.substring(2) : v;
        return h.toLowerCase(Locale.ROOT);
    }

    private List<Object> usb() {
        List<Map<String, Object>> raw = new ArrayList<>();
        Set<String> vendors = new HashSet<>();
        Set<String> devices = new HashSet<>();
        for (String n : host.list("/sys/bus/usb/devices")) {
            String p = "/sys/bus/usb/devices/" + n + "/";
            String vendor = host.line(p + "idVendor");
            if (vendor == null) continue; // an interface, not a device
            String product = host.line(p + "idProduct");
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("port", n);
            d.put("vendorId", vendor);
            d.put("productId", product);
            d.put("manufacturer", host.line(p + "manufacturer"));
            d.put("product", host.line(p + "product"));
            d.put("serial", host.line(p + "serial"));
            d.put("class", host.line(p + "bDeviceClass"));
            d.put("speedMbps", host.line(p + "speed"));
            raw.add(d);
            vendors.add(vendor);
            devices.add(vendor + ":" + product);
        }
        if (raw.isEmpty()) return List.of();
        DeviceIds ids = DeviceIds.lookup(host, DeviceIds.USB_FILES, vendors, devices, Set.of());
        List<Object> out = new ArrayList<>();
        for (Map<String, Object> d : raw) {
            if (d.get("manufacturer") == null) d.put("manufacturer", ids.vendor((String) d.get("vendorId")));
            if (d.get("product") == null) d.put("product", ids.device((String) d.get("vendorId"), (String) d.get("productId")));
            out.add(d);
        }
        return out;
    }

    private List<Object> batteries() {
        List<Object> out = new ArrayList<>();
        for (String n : host.list("/sys/class/power_supply")) {
            String p = "/sys/class/power_supply/" + n + "/";
            if (!"Battery".equals(host.line(p + "type"))) continue;
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("name", n);
            b.put("manufacturer", host.line(p + "manufacturer"));
            b.put("model", host.line(p + "model_name"));
            b.put("serial", host.line(p + "serial_number"));
            b.put("technology", host.line(p + "technology"));
            b.put("capacityPercent", host.number(p + "capacity"));
            Long energy = host.number(p + "energy_full_design"); // µWh
            b.put("designCapacityWh", energy == null ? null : HostFiles.round2(energy / 1e6));
            Long volts = host.number(p + "voltage_min_design"); // µV
            b.put("designVoltageV", volts == null ? null : HostFiles.round2(volts / 1e6));
            b.put("status", host.line(p + "status"));
            out.add(b);
        }
        return out;
    }

    /** Sound cards as ALSA lists them ({@code /proc/asound/cards}: " 0 [PCH ]: HDA-Intel - HDA Intel PCH"). */
    private List<Object> soundCards() {
        List<Object> out = new ArrayList<>();
        String cards = host.read("/proc/asound/cards");
        if (cards == null) return out;
        for (String line : cards.split("\n")) {
            int open = line.indexOf('[');
            int close = line.indexOf("]:");
            if (open < 0 || close < 0 || line.charAt(0) == '\t' || !line.substring(0, open).strip().matches("[0-9]+")) continue;
            String rest = line.substring(close + 2).strip();
            int dash = rest.indexOf(" - ");
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("index", Integer.parseInt(line.substring(0, open).strip()));
            c.put("id", line.substring(open + 1, close).strip());
            c.put("driver", dash < 0 ? null : rest.substring(0, dash));
            c.put("name", dash < 0 ? rest : rest.substring(dash + 3));
            out.add(c);
        }
        return out;
    }

    /** Input devices as the kernel lists them ({@code /proc/bus/input/devices}): keyboards, mice, power buttons. */
    private List<Object> inputs() {
        List<Object> out = new ArrayList<>();
        String text = host.read("/proc/bus/input/devices");
        if (text == null) return out;
        for (String block : text.split("\n\n")) {
            Map<String, Object> d = new LinkedHashMap<>();
            for (String line : block.split("\n")) {
                if (line.startsWith("N: Name=")) d.put("name", unquote(line.substring(8)));
                else if (line.startsWith("P: Phys=")) d.put("phys", emptyToNull(line.substring(8)));
                else if (line.startsWith("H: Handlers=")) d.put("handlers", HostFiles.fields(line.substring(12)));
                else if (line.startsWith("I: ")) d.put("id", line.substring(3).strip());
            }
            if (d.containsKey("name")) out.add(d);
        }
        return out;
    }

    private static String unquote(String s) {
        String t = s.strip();
        return t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"") ? t.substring(1, t.length() - 1) : t;
    }

    private static String emptyToNull(String s) { return s == null || s.isBlank() ? null : s.strip(); }

    /** Displays with an EDID ({@code /sys/class/drm/card*-*}): maker, name and serial from the EDID's descriptors. */
    private List<Object> monitors() {
        List<Object> out = new ArrayList<>();
        for (String n : host.list("/sys/class/drm")) {
            if (!n.contains("-")) continue;
            byte[] edid;
            try {
                edid = Files.readAllBytes(host.path("/sys/class/drm/" + n + "/edid"));
            } catch (IOException | SecurityException e) {
                continue;
            }
            if (edid.length < 128) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("connector", n);
            int id = (edid[8] & 0xff) << 8 | (edid[9] & 0xff);
            m.put("manufacturer", "" + (char) ('A' - 1 + (id >> 10 & 0x1f)) + (char) ('A' - 1 + (id >> 5 & 0x1f)) + (char) ('A' - 1 + (id & 0x1f)));
            m.put("productCode", String.format("%04x", (edid[10] & 0xff) | (edid[11] & 0xff) << 8));
            for (int d = 54; d <= 108; d += 18) {
                if (edid[d] != 0 || edid[d + 1] != 0) continue; // a timing, not a descriptor
                int tag = edid[d + 3] & 0xff;
                String text = new String(edid, d + 5, 13, java.nio.charset.StandardCharsets.US_ASCII).split("\n")[0].strip();
                if (tag == 0xFC) m.put("name", text);
                if (tag == 0xFF) m.put("serial", text);
            }
            out.add(m);
        }
        return out;
    }

    // ------------------------------------------------------------------ time

    private Map<String, Object> timezone() {
        String zone = null;
        String source = null;
        String link = host.link("/etc/localtime");
        if (link != null) {
            int i = link.lastIndexOf("zoneinfo/");
            if (i >= 0) {
                zone = link.substring(i + "zoneinfo/".length());
                if (zone.startsWith("posix/")) zone = zone.substring(6);
                source = "/etc/localtime";
            }
        }
        if (zone == null) {
            zone = host.line("/etc/timezone");
            if (zone != null) source = "/etc/timezone";
        }
        if (zone == null) {
            zone = ZoneId.systemDefault().getId();
            source = "jvm";
        }
        Map<String, Object> tz = new LinkedHashMap<>();
        tz.put("name", zone);
        tz.put("source", source);
        try {
            tz.put("utcOffset", ZoneId.of(zone).getRules().getOffset(Instant.now()).getId().replace("Z", "+00:00"));
        } catch (DateTimeException e) {
            tz.put("utcOffset", null);
        }
        return tz;
    }

    private String bootTime() {
        String stat = host.read("/proc/stat");
        if (stat == null) return null;
        for (String line : stat.split("\n")) {
            if (line.startsWith("btime ")) return Instant.ofEpochSecond(HostFiles.parseLong(line.substring(6).strip())).toString();
        }
        return null;
    }
}
