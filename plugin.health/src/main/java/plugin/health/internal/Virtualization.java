package plugin.health.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What this host runs on, from files only ({@code /sys}, {@code /proc}, marker files): a hypervisor (Xen/XCP-ng, KVM,
 * VMware, Hyper-V, VirtualBox, ...) and, separately, a container (Docker, Podman, LXC, Kubernetes, ...): a container
 * in a VM has both. The evidence each answer rests on is listed with it, so that a surprising answer can be checked.
 *
 * <p>Order of the checks, strongest first: Xen's own sysfs and procfs (and its control domain, which is the host,
 * not a guest); the DMI vendor and product strings every hypervisor fills in for HVM guests; Hyper-V's VMBus; the
 * paravirtual clock source; and last the CPU's {@code hypervisor} flag, which says "some hypervisor" and no more.
 */
final class Virtualization {
    private final HostFiles host;
    private final List<String> evidence = new ArrayList<>();

    private Virtualization(HostFiles host) { this.host = host; }

    /** @return {@code {type, hypervisor, role, container, guestType, hypervisorVersion, evidence}} */
    static Map<String, Object> detect(HostFiles host) {
        return new Virtualization(host).run();
    }

    private Map<String, Object> run() {
        String container = container();
        String role = "guest";
        String hypervisor = null;
        String capabilities = host.read("/proc/xen/capabilities");
        String xenType = host.line("/sys/hypervisor/type");
        if (capabilities != null && capabilities.contains("control_d")) {
            hypervisor = "xen";
            role = "host"; // dom0: the control domain of a Xen (XCP-ng) host
            evidence.add("/proc/xen/capabilities: control_d (Xen control domain)");
        } else if ("xen".equals(xenType)) {
            hypervisor = "xen";
            evidence.add("/sys/hypervisor/type: xen");
        }
        if (hypervisor == null) hypervisor = fromDmi();
        if (hypervisor == null && !host.list("/sys/bus/vmbus/devices").isEmpty()) {
            hypervisor = "hyperv";
            evidence.add("/sys/bus/vmbus/devices: Hyper-V VMBus devices present");
        }
        if (hypervisor == null) hypervisor = fromClock();
        if (hypervisor == null && capabilities != null) {
            hypervisor = "xen";
            evidence.add("/proc/xen present");
        }
        if (hypervisor == null && cpuFlag("hypervisor")) {
            hypervisor = "other";
            evidence.add("/proc/cpuinfo: hypervisor flag (the CPU runs under a hypervisor this check does not name)");
        }
        Map<String, Object> v = new LinkedHashMap<>();
        String type = container != null ? "container" : hypervisor != null && role.equals("guest") ? "vm" : "none";
        v.put("type", type);
        v.put("hypervisor", hypervisor);
        v.put("role", hypervisor == null ? null : role);
        v.put("container", container);
        if ("xen".equals(hypervisor)) {
            v.put("guestType", host.line("/sys/hypervisor/guest_type")); // PV, HVM or PVH (kernels since 4.14)
            String major = host.line("/sys/hypervisor/version/major");
            String minor = host.line("/sys/hypervisor/version/minor");
            String extra = host.line("/sys/hypervisor/version/extra");
            v.put("hypervisorVersion", major == null ? null : major + "." + minor + (extra == null ? "" : extra));
        }
        if (evidence.isEmpty()) evidence.add("no hypervisor or container marker found");
        v.put("evidence", evidence);
        return v;
    }

    private String container() {
        if (host.exists("/run/.containerenv")) {
            evidence.add("/run/.containerenv present (Podman)");
            return "podman";
        }
        if (host.exists("/.dockerenv")) {
            evidence.add("/.dockerenv present (Docker)");
            return "docker";
        }
        String env = host.read("/proc/1/environ");
        if (env != null) {
            for (String kv : env.split("\u0000")) {
                if (kv.startsWith("container=") && kv.length() > 10) {
                    evidence.add("/proc/1/environ: " + kv);
                    return kv.substring(10);
                }
            }
        }
        String systemd = host.line("/run/systemd/container");
        if (systemd != null) {
            evidence.add("/run/systemd/container: " + systemd);
            return systemd;
        }
        String cgroup = host.read("/proc/1/cgroup");
        if (cgroup != null) {
            String[][] marks = {{"kubepods", "kubernetes"}, {"/docker/", "docker"}, {"/docker-", "docker"}, {"libpod", "podman"}, {"/lxc/", "lxc"}, {"/lxc.payload", "lxc"}};
            for (String[] m : marks) {
                if (cgroup.contains(m[0])) {
                    evidence.add("/proc/1/cgroup mentions " + m[0].replace("/", ""));
                    return m[1];
                }
            }
        }
        if (host.exists("/proc/vz") && !host.exists("/proc/bc")) {
            evidence.add("/proc/vz without /proc/bc (OpenVZ container)");
            return "openvz";
        }
        String release = host.line("/proc/sys/kernel/osrelease");
        if (release != null && release.toLowerCase(Locale.ROOT).contains("microsoft")) {
            evidence.add("/proc/sys/kernel/osrelease: " + release + " (WSL)");
            return "wsl";
        }
        return null;
    }

    /** DMI strings, as each hypervisor fills them in for its HVM guests. */
    private String fromDmi() {
        String[] fields = {"sys_vendor", "product_name", "bios_vendor", "board_vendor", "product_version"};
        String[][] marks = {
            {"xen", "xen"}, {"vmware", "vmware"}, {"innotek", "virtualbox"}, {"virtualbox", "virtualbox"},
            {"microsoft corporation", "hyperv"}, {"kvm", "kvm"}, {"qemu", "kvm"}, {"amazon ec2", "kvm"},
            {"google", "kvm"}, {"openstack", "kvm"}, {"ovirt", "kvm"}, {"rhev", "kvm"}, {"nutanix", "kvm"},
            {"digitalocean", "kvm"}, {"alibaba cloud", "kvm"}, {"bochs", "kvm"}, {"parallels", "parallels"},
            {"bhyve", "bhyve"}, {"apple virtualization", "apple"}};
        for (String f : fields) {
            String value = host.line("/sys/class/dmi/id/" + f);
            if (value == null) continue;
            String lower = value.toLowerCase(Locale.ROOT);
            for (String[] m : marks) {
                if (!lower.contains(m[0])) continue;
                // Hyper-V's guests say "Microsoft Corporation" / "Virtual Machine"; Microsoft's hardware says the same vendor
                if (m[1].equals("hyperv") && !"Virtual Machine".equals(host.line("/sys/class/dmi/id/product_name"))) continue;
                if (m[0].equals("qemu") && !clock().contains("kvm-clock")) {
                    evidence.add("/sys/class/dmi/id/" + f + ": " + value + " (QEMU without KVM's clock: emulated)");
                    return "qemu";
                }
                evidence.add("/sys/class/dmi/id/" + f + ": " + value);
                return m[1];
            }
        }
        return null;
    }

    private String clock() {
        String cs = host.line("/sys/devices/system/clocksource/clocksource0/available_clocksource");
        String cur = host.line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
        return (cs == null ? "" : cs) + " " + (cur == null ? "" : cur);
    }

    private String fromClock() {
        String cs = clock();
        if (cs.contains("kvm-clock")) {
            evidence.add("clock source kvm-clock (KVM's paravirtual clock)");
            return "kvm";
        }
        if (cs.contains("hyperv_clocksource")) {
            evidence.add("clock source hyperv_clocksource (Hyper-V's clock)");
            return "hyperv";
        }
        if (HostFiles.fields(cs).contains("xen")) {
            evidence.add("clock source xen");
            return "xen";
        }
        return null;
    }

    private boolean cpuFlag(String flag) {
        String cpuinfo = host.read("/proc/cpuinfo");
        if (cpuinfo == null) return false;
        for (String line : cpuinfo.split("\n")) {
            if (line.startsWith("flags")) return HostFiles.fields(line.substring(line.indexOf(':') + 1)).contains(flag);
        }
        return false;
    }
}
