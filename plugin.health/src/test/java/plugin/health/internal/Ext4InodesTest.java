package plugin.health.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/**
 * Inode counts of a real ext4 filesystem on a loop device, read from its group descriptors, against what statfs says
 * ({@code stat -f}) at once, with no sync between: the counts must be live, not the superblock's stale copy.
 */
class Ext4InodesTest {
    @TempDir
    Path dir;
    private String loop;
    private Path mnt;

    static String run(String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError(cmd[0] + " is needed by this test (packages util-linux, e2fsprogs, coreutils): " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s (needs root and loop devices): %s", String.join(" ", cmd), out).isZero();
        return out.strip();
    }

    private void mountExt4(String size, String... mkfsOptions) throws Exception {
        Path img = dir.resolve("fs.img");
        run("truncate", "-s", size, img.toString());
        String[] mkfs = new String[mkfsOptions.length + 4];
        mkfs[0] = "mkfs.ext4";
        mkfs[1] = "-q";
        mkfs[2] = "-F";
        System.arraycopy(mkfsOptions, 0, mkfs, 3, mkfsOptions.length);
        mkfs[mkfs.length - 1] = img.toString();
        run(mkfs);
        loop = run("losetup", "-f", "--show", img.toString());
        mnt = Files.createDirectories(dir.resolve("mnt"));
        run("mount", loop, mnt.toString());
    }

    @AfterEach
    void unmount() throws Exception {
        if (mnt != null) run("umount", mnt.toString());
        if (loop != null) run("losetup", "-d", loop);
    }

    private long[] statf() throws Exception {
        String[] f = run("stat", "-f", "-c", "%c %d", mnt.toString()).split(" ");
        return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> entry() {
        Outcome o = TestContext.forAction("health.report").param("sampleMs", 0).run(new HealthReporter());
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        List<Map<String, Object>> fss = (List<Map<String, Object>>) ((Map<String, Object>) o.wireData()).get("filesystems");
        return fss.stream().filter(f -> f.get("mountpoint").equals(mnt.toString())).findFirst()
            .orElseThrow(() -> new AssertionError(mnt + " is not among " + fss));
    }

    private static long num(Object o) { return ((Number) o).longValue(); }

    @Test
    void inodeCountsFollowFilesCreatedAndRemovedAtOnce() throws Exception {
        mountExt4("300M");
        Map<String, Object> fresh = entry();
        long[] st = statf();
        assertThat(fresh.get("fstype")).isEqualTo("ext4");
        assertThat(fresh.get("device")).isEqualTo(loop);
        assertThat(num(fresh.get("inodes"))).isEqualTo(st[0]);
        assertThat(num(fresh.get("inodesFree"))).isEqualTo(st[1]);

        Path d = Files.createDirectory(mnt.resolve("many"));
        for (int i = 0; i < 2000; i++) Files.createFile(d.resolve("f" + i));
        Map<String, Object> full = entry();
        st = statf();
        assertThat(num(full.get("inodesFree"))).isEqualTo(st[1]).isEqualTo(num(fresh.get("inodesFree")) - 2001);
        assertThat(num(full.get("inodesUsed"))).isEqualTo(st[0] - st[1]);
        assertThat(((Number) full.get("inodesUsedPercent")).doubleValue()).isEqualTo(HostFiles.round2((st[0] - st[1]) * 100.0 / st[0]));

        run("rm", "-r", d.toString());
        assertThat(num(entry().get("inodesFree"))).isEqualTo(statf()[1]).isEqualTo(num(fresh.get("inodesFree")));
    }

    @Test
    void a32BitExt2WithoutExtentsIsReadToo() throws Exception {
        mountExt4("64M", "-t", "ext2", "-O", "^64bit");
        Map<String, Object> e = entry();
        long[] st = statf();
        assertThat(e.get("fstype")).isEqualTo("ext2");
        assertThat(num(e.get("inodes"))).isEqualTo(st[0]);
        assertThat(num(e.get("inodesFree"))).isEqualTo(st[1]);
    }

    @Test
    void xfsIsListedWithItsSizesAndSaysWhyItsInodesAreMissing() throws Exception {
        Path img = dir.resolve("xfs.img");
        run("truncate", "-s", "320M", img.toString());
        run("mkfs.xfs", "-q", "-f", img.toString());
        loop = run("losetup", "-f", "--show", img.toString());
        mnt = Files.createDirectories(dir.resolve("mnt"));
        run("mount", loop, mnt.toString());
        Map<String, Object> e = entry();
        assertThat(e.get("fstype")).isEqualTo("xfs");
        assertThat(num(e.get("sizeBytes"))).isEqualTo(HealthReportTest.df(mnt.toString())[0]);
        assertThat(e.get("inodes")).isNull();
        assertThat((String) e.get("inodesUnavailable")).isEqualTo("xfs: inode counts are read for ext2/3/4 only (statfs's inode fields do not reach Java)");
    }
}
