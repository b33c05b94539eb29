package plugin.health.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/**
 * health.report on this host, every field checked against the kernel's own files read just before and just after the
 * command: a counter must lie between the two readings, a gauge within a tolerance of them.
 */
class HealthReportTest {

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) { return (Map<String, Object>) o; }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) { return (List<Map<String, Object>>) o; }

    private static long num(Object o) { return ((Number) o).longValue(); }

    private static double dbl(Object o) { return ((Number) o).doubleValue(); }

    /** What the test reads from /proc, the same files, as plainly as it can. */
    static final class Proc {
        final Map<String, Long> meminfo = new HashMap<>();
        final Map<String, long[]> net = new HashMap<>();
        final Map<String, long[]> disks = new HashMap<>();
        final double[] loadavg = new double[3];
        long threads;
        long processes;
        double uptime;
        long btime;
        long procsRunningPlusBlocked;
        final Map<String, Long> pressureTotals = new HashMap<>();

        static Proc read() throws Exception {
            Proc p = new Proc();
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                String[] f = l.split("[: ]+");
                p.meminfo.put(f[0], Long.parseLong(f[1]) * (l.endsWith("kB") ? 1024 : 1));
            }
            for (String l : Files.readAllLines(Path.of("/proc/net/dev"))) {
                if (!l.contains(":")) continue;
                String[] f = l.substring(l.indexOf(':') + 1).trim().split("\\s+");
                p.net.put(l.substring(0, l.indexOf(':')).trim(), new long[] {Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
                    Long.parseLong(f[3]), Long.parseLong(f[8]), Long.parseLong(f[9]), Long.parseLong(f[10]), Long.parseLong(f[11])});
            }
            for (String l : Files.readAllLines(Path.of("/proc/diskstats"))) {
                String[] f = l.trim().split("\\s+");
                p.disks.put(f[2], new long[] {Long.parseLong(f[3]), Long.parseLong(f[5]) * 512, Long.parseLong(f[7]), Long.parseLong(f[9]) * 512});
            }
            String[] la = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            for (int i = 0; i < 3; i++) p.loadavg[i] = Double.parseDouble(la[i]);
            p.threads = Long.parseLong(la[3].split("/")[1]);
            try (var s = Files.list(Path.of("/proc"))) {
                p.processes = s.filter(x -> x.getFileName().toString().matches("[0-9]+")).count();
            }
            p.uptime = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
            for (String l : Files.readAllLines(Path.of("/proc/stat"))) {
                if (l.startsWith("btime ")) p.btime = Long.parseLong(l.substring(6).trim());
            }
            for (String r : new String[] {"cpu", "memory", "io"}) {
                Path f = Path.of("/proc/pressure/" + r);
                if (!Files.exists(f)) continue;
                for (String l : Files.readAllLines(f)) {
                    p.pressureTotals.put(r + "." + l.split(" ")[0], Long.parseLong(l.substring(l.indexOf("total=") + 6).trim()));
                }
            }
            return p;
        }
    }

    @Test
    void everyFieldOfASnapshotAgreesWithProcReadAroundIt() throws Exception {
        Proc before = Proc.read();
        Outcome o = TestContext.forAction("health.report").param("sampleMs", 300).run(new HealthReporter());
        Proc after = Proc.read();
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.executed()).as("no process is started").isEmpty();
        Map<String, Object> d = map(o.wireData());

        assertThat(d.get("hostname")).isEqualTo(Files.readString(Path.of("/proc/sys/kernel/hostname")).trim());

        Map<String, Object> cpu = map(d.get("cpu"));
        long cores = Files.readAllLines(Path.of("/proc/stat")).stream().filter(l -> l.matches("cpu[0-9]+ .*")).count();
        assertThat(num(cpu.get("cores"))).isEqualTo(cores);
        assertThat(num(cpu.get("intervalMs"))).isBetween(290L, 5000L);
        double states = 0;
        for (String s : HealthSampler.CPU_STATES) states += dbl(cpu.get(s + "Percent"));
        assertThat(states).as("the states share the whole interval").isCloseTo(100.0, within(0.1));
        assertThat(dbl(cpu.get("usagePercent"))).isCloseTo(100 - dbl(cpu.get("idlePercent")) - dbl(cpu.get("iowaitPercent")), within(0.05));

        Map<String, Object> load = map(d.get("load"));
        for (int i = 0; i < 3; i++) {
            String k = new String[] {"load1", "load5", "load15"}[i];
            assertThat(dbl(load.get(k))).as(k).isBetween(Math.min(before.loadavg[i], after.loadavg[i]) - 0.01,
                Math.max(before.loadavg[i], after.loadavg[i]) + 0.01);
        }
        assertThat(dbl(load.get("load1PerCore"))).isCloseTo(dbl(load.get("load1")) / cores, within(0.01));

        Map<String, Object> mem = map(d.get("memory"));
        assertThat(num(mem.get("totalBytes"))).isEqualTo(after.meminfo.get("MemTotal"));
        long slack = 256L << 20; // other work on this machine moves memory between the readings
        assertThat(num(mem.get("availableBytes"))).isBetween(Math.min(before.meminfo.get("MemAvailable"), after.meminfo.get("MemAvailable")) - slack,
            Math.max(before.meminfo.get("MemAvailable"), after.meminfo.get("MemAvailable")) + slack);
        assertThat(num(mem.get("usedBytes"))).isEqualTo(num(mem.get("totalBytes")) - num(mem.get("availableBytes")));
        assertThat(dbl(mem.get("availablePercent"))).isCloseTo(100.0 * num(mem.get("availableBytes")) / num(mem.get("totalBytes")), within(0.01));
        Map<String, Object> swap = map(d.get("swap"));
        assertThat(num(swap.get("totalBytes"))).isEqualTo(after.meminfo.get("SwapTotal"));
        assertThat(num(swap.get("usedBytes"))).isBetween(0L, after.meminfo.get("SwapTotal"));

        if (after.pressureTotals.isEmpty()) {
            assertThat(d.get("pressure")).as("no PSI on this kernel").isNull();
        } else {
            Map<String, Object> psi = map(d.get("pressure"));
            after.pressureTotals.forEach((k, total) -> {
                String[] rk = k.split("\\.");
                long got = num(map(map(psi.get(rk[0])).get(rk[1])).get("totalUs"));
                assertThat(got).as("PSI " + k + " total").isBetween(before.pressureTotals.get(k), total);
            });
        }

        assertThat(dbl(d.get("uptimeSeconds"))).isBetween(before.uptime - 0.01, after.uptime + 0.01);
        assertThat(d.get("bootTime")).isEqualTo(java.time.Instant.ofEpochSecond(after.btime).toString());
        Map<String, Object> procs = map(d.get("processes"));
        // other engineers' builds start and end processes meanwhile
        assertThat(num(procs.get("count"))).isBetween(Math.min(before.processes, after.processes) - 50, Math.max(before.processes, after.processes) + 50);
        assertThat(num(procs.get("threads"))).isBetween(Math.min(before.threads, after.threads) - 200, Math.max(before.threads, after.threads) + 200);
        assertThat(num(procs.get("running"))).isGreaterThanOrEqualTo(1); // this JVM's thread, at least
        assertThat(num(procs.get("blocked"))).isGreaterThanOrEqualTo(0);

        List<Map<String, Object>> net = list(d.get("network"));
        assertThat(net).extracting(n -> n.get("interface")).containsExactlyInAnyOrderElementsOf(after.net.keySet());
        String[] netKeys = {"rxBytes", "rxPackets", "rxErrors", "rxDropped", "txBytes", "txPackets", "txErrors", "txDropped"};
        for (Map<String, Object> n : net) {
            long[] b = before.net.get(n.get("interface"));
            long[] a = after.net.get(n.get("interface"));
            for (int i = 0; i < netKeys.length; i++) {
                assertThat(num(n.get(netKeys[i]))).as(n.get("interface") + " " + netKeys[i]).isBetween(b[i], a[i]);
            }
        }

        List<Map<String, Object>> disks = list(d.get("disks"));
        List<String> busy = new ArrayList<>();
        for (String dev : after.disks.keySet()) {
            long[] a = after.disks.get(dev);
            if (Files.exists(Path.of("/sys/block", dev)) && (a[0] > 0 || a[2] > 0)) busy.add(dev);
        }
        assertThat(disks).extracting(x -> x.get("device")).containsExactlyInAnyOrderElementsOf(busy);
        String[] diskKeys = {"reads", "readBytes", "writes", "writeBytes"};
        for (Map<String, Object> x : disks) {
            long[] b = before.disks.get(x.get("device"));
            long[] a = after.disks.get(x.get("device"));
            for (int i = 0; i < diskKeys.length; i++) {
                assertThat(num(x.get(diskKeys[i]))).as(x.get("device") + " " + diskKeys[i]).isBetween(b[i], a[i]);
            }
        }

        Map<String, Object> agent = map(d.get("agent"));
        assertThat(num(agent.get("pid"))).isEqualTo(ProcessHandle.current().pid());
        long rss = statusKb("VmRSS");
        assertThat(num(agent.get("rssBytes"))).isBetween(rss / 2, rss * 2);
        assertThat(num(agent.get("peakRssBytes"))).isBetween(num(agent.get("rssBytes")), statusKb("VmHWM"));
        assertThat(num(agent.get("threads"))).isGreaterThan(1);
        double cpuSeconds = ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos() / 1e9;
        assertThat(dbl(agent.get("cpuSeconds"))).isBetween(0.0, cpuSeconds + 0.01);

        Map<String, Object> cost = map(d.get("cost"));
        assertThat(dbl(cost.get("cpuMs"))).isGreaterThan(0.0);
        assertThat(num(cost.get("wallMs"))).isGreaterThanOrEqualTo(300L);
        assertThat(o.output()).contains("cpu ").contains("% of " + cores + " cores").contains("memory available");
    }

    private static long statusKb(String key) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith(key + ":")) return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new AssertionError(key + " not in /proc/self/status");
    }

    @Test
    void cpuUsageSeesABusyCore() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread spin = new Thread(() -> {
            long x = 0;
            while (!stop.get()) x += System.nanoTime() & 1;
            if (x == 42) System.out.print("");
        });
        spin.start();
        try {
            Outcome o = TestContext.forAction("health.report").param("sampleMs", 500).run(new HealthReporter());
            Map<String, Object> cpu = map(map(o.wireData()).get("cpu"));
            double oneCore = 100.0 / num(cpu.get("cores"));
            assertThat(dbl(cpu.get("usagePercent"))).as("one core of %s spins", cpu.get("cores")).isGreaterThan(oneCore * 0.8);
            assertThat(dbl(cpu.get("userPercent")) + dbl(cpu.get("nicePercent"))).isGreaterThan(oneCore * 0.6);
        } finally {
            stop.set(true);
            spin.join(5000);
        }
    }

    @Test
    void everyRealFilesystemIsListedOnceWithTheSizesDfReports() throws Exception {
        Outcome o = TestContext.forAction("health.report").param("sampleMs", 0).run(new HealthReporter());
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        List<Map<String, Object>> fss = list(map(o.wireData()).get("filesystems"));
        assertThat(fss).extracting(f -> f.get("mountpoint")).contains("/").doesNotHaveDuplicates()
            .doesNotContain("/proc", "/sys", "/dev/shm", "/sys/fs/cgroup");
        for (Map<String, Object> fs : fss) {
            String mp = (String) fs.get("mountpoint");
            // a loop device another test on this machine mounted and unmounted since the snapshot
            if (Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().noneMatch(l -> l.split(" ")[4].equals(mp))) continue;
            long[] df = df(mp);
            assertThat(num(fs.get("sizeBytes"))).as(mp + " size").isEqualTo(df[0]);
            long slack = 64L << 20; // files written by other builds on this machine between the two readings
            assertThat(num(fs.get("usedBytes"))).as(mp + " used").isCloseTo(df[1], within(slack));
            assertThat(num(fs.get("availableBytes"))).as(mp + " available").isCloseTo(df[2], within(slack));
            assertThat(num(fs.get("usedBytes")) + num(fs.get("freeBytes"))).isEqualTo(num(fs.get("sizeBytes")));
        }
    }

    /** @return size, used, available in bytes, as df computes them from statfs */
    static long[] df(String mountpoint) throws Exception {
        Process p = new ProcessBuilder("df", "-B1", "--output=size,used,avail", mountpoint).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("df (coreutils) must be installed and work: %s", out).isZero();
        String[] f = out.strip().lines().reduce((a, b) -> b).orElseThrow().trim().split("\\s+");
        return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])};
    }
}
