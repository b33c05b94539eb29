package plugin.health.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Takes health snapshots from {@code /proc}, {@code /sys} and statfs, starting no process: CPU usage between two
 * readings of {@code /proc/stat}, load, memory and swap, pressure stall information, filesystems, uptime, process and
 * thread counts, network and disk counters, and this agent's own RSS and CPU. One instance serves one caller at a time
 * (the health thread, or a command): it keeps small caches between snapshots.
 */
final class HealthSampler {
    /** Cumulative CPU counters: the host's from {@code /proc/stat} (USER_HZ ticks), the agent's own, and when. */
    record CpuTimes(long user, long nice, long system, long idle, long iowait, long irq, long softirq, long steal,
                    int cores, long agentCpuNanos, long monotonicNanos) {
        long total() { return user + nice + system + idle + iowait + irq + softirq + steal; }
    }

    static final String[] CPU_STATES = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};
    private static final String[] PRESSURE = {"cpu", "memory", "io"};

    private final HostFiles host;
    private final Filesystems filesystems;

    HealthSampler(Path root) {
        this.host = new HostFiles(root);
        this.filesystems = new Filesystems(host);
    }

    /** @return the CPU counters now */
    CpuTimes cpuTimes() {
        long agent = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos()).orElse(0L);
        long now = System.nanoTime();
        String stat = host.read("/proc/stat");
        long[] v = new long[8];
        int cores = 0;
        if (stat != null) {
            for (String line : stat.split("\n")) {
                if (line.startsWith("cpu ")) {
                    List<String> f = HostFiles.fields(line);
                    // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already in user
                    for (int i = 0; i < v.length && i + 1 < f.size(); i++) v[i] = HostFiles.parseLong(f.get(i + 1));
                } else if (line.startsWith("cpu")) {
                    cores++;
                } else if (!line.startsWith("cpu") && cores > 0) {
                    break;
                }
            }
        }
        return new CpuTimes(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], Math.max(cores, 1), agent, now);
    }

    /**
     * @param from CPU counters at the start of the interval
     * @param to   CPU counters at its end
     * @param time the time to stamp the snapshot with
     * @return the snapshot as JSON-shaped data
     */
    Map<String, Object> snapshot(CpuTimes from, CpuTimes to, Instant time) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("time", time.toString());
        s.put("hostname", host.line("/proc/sys/kernel/hostname"));
        s.put("cpu", cpu(from, to));
        s.put("load", load(to.cores()));
        Map<String, String> mem = host.pairs("/proc/meminfo", ':');
        s.put("memory", memory(mem));
        s.put("swap", swap(mem));
        s.put("pressure", pressure());
        s.put("filesystems", filesystems());
        s.putAll(uptimeAndProcesses());
        s.put("network", network());
        s.put("disks", disks());
        s.put("agent", agent(from, to));
        return s;
    }

    private static Map<String, Object> cpu(CpuTimes a, CpuTimes b) {
        Map<String, Object> c = new LinkedHashMap<>();
        long total = b.total() - a.total();
        long[] d = {b.user - a.user, b.nice - a.nice, b.system - a.system, b.idle - a.idle, b.iowait - a.iowait,
            b.irq - a.irq, b.softirq - a.softirq, b.steal - a.steal};
        c.put("cores", b.cores());
        c.put("intervalMs", (b.monotonicNanos() - a.monotonicNanos()) / 1_000_000);
        if (total <= 0) {
            // too short an interval for the kernel's tick counters to move
            c.put("usagePercent", null);
            return c;
        }
        c.put("usagePercent", HostFiles.round2(100.0 * (total - d[3] - d[4]) / total));
        for (int i = 0; i < CPU_STATES.length; i++) c.put(CPU_STATES[i] + "Percent", HostFiles.round2(100.0 * d[i] / total));
        return c;
    }

    private Map<String, Object> load(int cores) {
        String l = host.line("/proc/loadavg");
        if (l == null) return null;
        List<String> f = HostFiles.fields(l);
        Map<String, Object> m = new LinkedHashMap<>();
        double one = Double.parseDouble(f.get(0));
        m.put("load1", one);
        m.put("load5", Double.parseDouble(f.get(1)));
        m.put("load15", Double.parseDouble(f.get(2)));
        m.put("load1PerCore", HostFiles.round2(one / cores));
        return m;
    }

    private static long kb(Map<String, String> mem, String key) {
        String v = mem.get(key);
        if (v == null) return -1;
        int sp = v.indexOf(' ');
        return HostFiles.parseLong(sp < 0 ? v : v.substring(0, sp)) * 1024;
    }

    private static Map<String, Object> memory(Map<String, String> mem) {
        long total = kb(mem, "MemTotal");
        if (total <= 0) return null;
        long free = kb(mem, "MemFree");
        long available = kb(mem, "MemAvailable");
        if (available < 0) available = free + Math.max(0, kb(mem, "Cached")) + Math.max(0, kb(mem, "Buffers")); // kernels before 3.14
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("totalBytes", total);
        m.put("freeBytes", free);
        m.put("availableBytes", available);
        m.put("usedBytes", total - available);
        m.put("buffersBytes", kb(mem, "Buffers"));
        m.put("cachedBytes", kb(mem, "Cached"));
        m.put("shmemBytes", kb(mem, "Shmem"));
        m.put("availablePercent", HostFiles.round2(available * 100.0 / total));
        return m;
    }

    private static Map<String, Object> swap(Map<String, String> mem) {
        long total = kb(mem, "SwapTotal");
        if (total < 0) return null;
        long free = kb(mem, "SwapFree");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("totalBytes", total);
        m.put("freeBytes", free);
        m.put("usedBytes", total - free);
        m.put("usedPercent", total == 0 ? 0.0 : HostFiles.round2((total - free) * 100.0 / total));
        return m;
    }

    /** @return PSI per resource ({@code some}/{@code full}: avg10, avg60, avg300 in %, total in µs), or null without PSI */
    private Map<String, Object> pressure() {
        Map<String, Object> p = new LinkedHashMap<>();
        for (String resource : PRESSURE) {
            String text = host.read("/proc/pressure/" + resource);
            if (text == null) continue;
            Map<String, Object> r = new LinkedHashMap<>();
            for (String line : text.split("\n")) {
                List<String> f = HostFiles.fields(line);
                if (f.isEmpty()) continue;
                Map<String, Object> kind = new LinkedHashMap<>();
                for (String kv : f.subList(1, f.size())) {
                    int eq = kv.indexOf('=');
                    if (eq < 0) continue;
                    String k = kv.substring(0, eq);
                    String v = kv.substring(eq + 1);
                    if (k.equals("total")) kind.put("totalUs", HostFiles.parseLong(v));
                    else kind.put(k, Double.parseDouble(v));
                }
                r.put(f.get(0), kind);
            }
            p.put(resource, r);
        }
        return p.isEmpty() ? null : p;
    }

    private List<Object> filesystems() {
        List<Object> out = new ArrayList<>();
        for (Filesystems.Mount m : filesystems.mounted()) {
            Map<String, Object> fs = filesystems.measure(m);
            if (fs != null) out.add(fs);
        }
        return out;
    }

    private Map<String, Object> uptimeAndProcesses() {
        Map<String, Object> out = new LinkedHashMap<>();
        String up = host.line("/proc/uptime");
        out.put("uptimeSeconds", up == null ? null : HostFiles.round2(Double.parseDouble(HostFiles.fields(up).get(0))));
        long btime = -1;
        long running = -1;
        long blocked = -1;
        String stat = host.read("/proc/stat");
        if (stat != null) {
            for (String line : stat.split("\n")) {
                if (line.startsWith("btime ")) btime = HostFiles.parseLong(line.substring(6).strip());
                else if (line.startsWith("procs_running ")) running = HostFiles.parseLong(line.substring(14).strip());
                else if (line.startsWith("procs_blocked ")) blocked = HostFiles.parseLong(line.substring(14).strip());
            }
        }
        out.put("bootTime", btime < 0 ? null : Instant.ofEpochSecond(btime).toString());
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("count", processCount());
        String load = host.line("/proc/loadavg");
        long threads = -1;
        if (load != null) {
            String rt = HostFiles.fields(load).get(3);
            threads = HostFiles.parseLong(rt.substring(rt.indexOf('/') + 1));
        }
        p.put("threads", threads);
        p.put("running", running);
        p.put("blocked", blocked);
        out.put("processes", p);
        return out;
    }

    private long processCount() {
        long n = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(host.path("/proc"))) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if (!name.isEmpty() && name.charAt(0) >= '1' && name.charAt(0) <= '9' && isDigits(name)) n++;
            }
        } catch (IOException | SecurityException e) {
            return -1;
        }
        return n;
    }

    private static boolean isDigits(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        }
        return true;
    }

    private static final String[] NET_FIELDS = {"rxBytes", "rxPackets", "rxErrors", "rxDropped", null, null, null, null,
        "txBytes", "txPackets", "txErrors", "txDropped"};

    private List<Object> network() {
        String dev = host.read("/proc/net/dev");
        List<Object> out = new ArrayList<>();
        if (dev == null) return out;
        for (String line : dev.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String name = line.substring(0, colon).strip();
            List<String> f = HostFiles.fields(line.substring(colon + 1));
            if (name.isEmpty() || f.size() < 12) continue;
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("interface", name);
            for (int k = 0; k < NET_FIELDS.length; k++) {
                if (NET_FIELDS[k] != null) i.put(NET_FIELDS[k], HostFiles.parseLong(f.get(k)));
            }
            out.add(i);
        }
        return out;
    }

    /** Whole disks (those in /sys/block) that have done any I/O; partitions are in their disk's numbers. */
    private List<Object> disks() {
        String stats = host.read("/proc/diskstats");
        List<Object> out = new ArrayList<>();
        if (stats == null) return out;
        Set<String> whole = new HashSet<>(host.list("/sys/block"));
        for (String line : stats.split("\n")) {
            List<String> f = HostFiles.fields(line);
            if (f.size() < 14 || !whole.contains(f.get(2))) continue;
            long reads = HostFiles.parseLong(f.get(3));
            long writes = HostFiles.parseLong(f.get(7));
            if (reads == 0 && writes == 0) continue;
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("device", f.get(2));
            d.put("reads", reads);
            d.put("readBytes", HostFiles.parseLong(f.get(5)) * 512); // sectors of the kernel's 512 bytes, whatever the disk's
            d.put("readMs", HostFiles.parseLong(f.get(6)));
            d.put("writes", writes);
            d.put("writeBytes", HostFiles.parseLong(f.get(9)) * 512);
            d.put("writeMs", HostFiles.parseLong(f.get(10)));
            d.put("inProgress", HostFiles.parseLong(f.get(11)));
            d.put("ioMs", HostFiles.parseLong(f.get(12)));
            out.add(d);
        }
        return out;
    }

    private Map<String, Object> agent(CpuTimes a, CpuTimes b) {
        Map<String, String> status = host.pairs("/proc/self/status", ':');
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", ProcessHandle.current().pid());
        m.put("rssBytes", kb(status, "VmRSS"));
        m.put("peakRssBytes", kb(status, "VmHWM"));
        m.put("threads", HostFiles.parseLong(status.getOrDefault("Threads", "-1")));
        Runtime rt = Runtime.getRuntime();
        m.put("heapUsedBytes", rt.totalMemory() - rt.freeMemory());
        m.put("cpuSeconds", HostFiles.round2(b.agentCpuNanos() / 1e9));
        long wall = b.monotonicNanos() - a.monotonicNanos();
        m.put("cpuPercent", wall <= 0 ? null : HostFiles.round2(100.0 * (b.agentCpuNanos() - a.agentCpuNanos()) / wall));
        return m;
    }
}
