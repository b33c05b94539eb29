package plugin.backup.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/**
 * The agent's side of bench/backup-bench.sh: runs backup.create (gzip) of a tree, then backup.restore of the archive,
 * on the agent's own CommandContext (agent.testkit), in a JVM that the script starts with the agent's flags, and
 * prints the wall time of each and how much this JVM's resident memory grew while it ran (peak minus before: the
 * kernel's peak is reset through /proc/self/clear_refs just before).
 *
 * <p>Usage: {@code BackupBench DATA_DIR SOURCE TARGET}
 */
public final class BackupBench {
    private BackupBench() {}

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        Path source = Path.of(args[1]);
        Path target = Path.of(args[2]);
        TestPaths paths = new TestPaths(data);
        BackupCreator creator = new BackupCreator();
        creator.paths = paths;
        BackupRestorer restorer = new BackupRestorer();
        restorer.paths = paths;

        // what an agent that has run a backup before has loaded: the plugin's and the test kit's classes
        Path small = Files.createDirectories(data.resolve("warm-up/src"));
        Files.writeString(small.resolve("f"), "warm");
        Outcome w = TestContext.forAction("backup.create").param("paths", List.of(small.toString()))
            .param("destination", data.resolve("warm-up/dest").toString()).run(creator);
        check(w);
        check(TestContext.forAction("backup.restore").param("archive", (String) w.dataAsMap().get("archive"))
            .param("destination", data.resolve("warm-up/dest").toString())
            .param("target", data.resolve("warm-up/restored").toString()).run(restorer));

        long before = resetPeak();
        long cpu0 = cpuTicks();
        long t0 = System.nanoTime();
        Outcome c = TestContext.forAction("backup.create").param("paths", List.of(source.toString())).param("name", "bench")
            .param("compression", "gzip").timeout(Duration.ofHours(2)).run(creator);
        long createMs = (System.nanoTime() - t0) / 1_000_000;
        long createPeak = status("VmHWM");
        long createCpu = cpuTicks() - cpu0;
        check(c);
        Map<String, Object> d = c.dataAsMap();
        System.out.printf("create_ms=%d cpu_ms=%d rss_before_kb=%d peak_kb=%d growth_kb=%d archive_bytes=%d entries=%d"
            + " progress_reports=%d%n", createMs, createCpu * 10, before, createPeak, createPeak - before, d.get("sizeBytes"),
            d.get("files"), c.progress().size());

        before = resetPeak();
        cpu0 = cpuTicks();
        t0 = System.nanoTime();
        Outcome r = TestContext.forAction("backup.restore").param("archive", (String) d.get("archive"))
            .param("target", target.toString()).timeout(Duration.ofHours(2)).run(restorer);
        long restoreMs = (System.nanoTime() - t0) / 1_000_000;
        long restorePeak = status("VmHWM");
        long restoreCpu = cpuTicks() - cpu0;
        check(r);
        System.out.printf("restore_ms=%d cpu_ms=%d rss_before_kb=%d peak_kb=%d growth_kb=%d archive=%s%n",
            restoreMs, restoreCpu * 10, before, restorePeak, restorePeak - before, d.get("archive"));
    }

    private static void check(Outcome o) {
        if (o.status() != Status.SUCCEEDED) throw new IllegalStateException(o.toString());
    }

    /** @return the resident set now, after resetting the kernel's peak to it */
    private static long resetPeak() throws Exception {
        System.gc();
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        return status("VmRSS");
    }

    /**
     * @return CPU time of this JVM and of its children that have ended (tar, gzip), in clock ticks (10 ms): under a
     *         loaded machine the steadier measure of what a command costs
     */
    private static long cpuTicks() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // fields 14 to 17 of proc(5) (utime, stime, cutime, cstime); f[0] is field 3
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }

    private static long status(String key) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith(key + ":")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no " + key + " in /proc/self/status");
    }
}
