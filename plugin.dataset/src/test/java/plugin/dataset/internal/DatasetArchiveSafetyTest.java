package plugin.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;

/**
 * Hostile archives and archive bombs are refused, nothing is written outside the staging directory, and nothing of
 * them is left behind: the target keeps its previous version.
 */
class DatasetArchiveSafetyTest extends DatasetTestBase {

    /** The install's staging directory is root/srv/data/.evil.outpost/.staging-X: three levels up is the root. */
    private static final String UP = "../../../";

    private void assertRefusedAndNothingWritten(String label, byte[] archive, String path, String why) throws Exception {
        Path target = target("evil");
        Outcome o = run(install("evil", label.replaceAll("[^A-Za-z0-9]", "") + "1", path, archive, target));
        assertThat(o.status()).as("%s: %s", label, o).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).as(label).startsWith("the archive is refused: ").contains(why).contains("Nothing was installed");
        assertThat(root.resolve("escaped")).as(label).doesNotExist();
        assertThat(root.resolve("escaped-hard")).as(label).doesNotExist();
        assertThat(root.resolve("srv/data/escaped")).as(label).doesNotExist();
        assertThat(Files.readString(target.resolve("good"))).as("%s: the installed version stays", label).isEqualTo("v0");
        assertThat(names(target.resolveSibling(".evil.outpost"))).as("%s: no staging, no download left", label).containsExactly("0");
    }

    @Test
    void hostileTarArchivesAreRefused() throws Exception {
        assertThat(run(install("evil", "0", "/v0.tgz", new TarBuilder().file("good", "v0", 0644).tarGz(), target("evil"))).status())
            .isEqualTo(Status.SUCCEEDED);
        Map<String, Object[]> cases = new LinkedHashMap<>();
        cases.put("dot-dot", new Object[] {new TarBuilder().file("ok", "x", 0644).file(UP + "escaped", "x", 0644), "climbs out with '..'"});
        cases.put("absolute", new Object[] {new TarBuilder().file(root.resolve("escaped").toString(), "x", 0644), "has an absolute name"});
        cases.put("link out", new Object[] {new TarBuilder().symlink("etc", "../../../../../../../../etc"), "outside the data set"});
        cases.put("absolute link", new Object[] {new TarBuilder().symlink("passwd", "/etc/passwd"), "is a link to the absolute path '/etc/passwd'"});
        cases.put("write through a link", new Object[] {new TarBuilder().symlink("up", "sub").file("up/escaped", "x", 0644),
            "collides with another entry"});
        // each link stays inside on paper; followed, the second leads to the store above the data set
        cases.put("chained links", new Object[] {new TarBuilder().dir("d1").dir("d1/d2").symlink("d1/d2/top", "../..").symlink("m", "d1/d2/top/.."),
            "leads outside the data set (through other links)"});
        cases.put("dangling link", new Object[] {new TarBuilder().symlink("nowhere", "missing/file"), "does not exist in the data set"});
        cases.put("hard link out", new Object[] {new TarBuilder().hardlink("h", UP + "escaped-hard"), "climbs out with '..'"});
        cases.put("hard link to nothing", new Object[] {new TarBuilder().hardlink("h", "not-there"), "not a file extracted before it"});
        cases.put("char device", new Object[] {new TarBuilder().device("null", '3'), "is a device node"});
        cases.put("block device", new Object[] {new TarBuilder().device("sda", '4'), "is a device node"});
        cases.put("fifo", new Object[] {new TarBuilder().device("pipe", '6'), "is a FIFO"});
        cases.put("duplicate", new Object[] {new TarBuilder().file("a", "1", 0644).file("a", "2", 0644), "'a' appears twice"});
        for (Map.Entry<String, Object[]> c : cases.entrySet()) {
            assertRefusedAndNothingWritten(c.getKey(), ((TarBuilder) c.getValue()[0]).tarGz(), "/evil.tar.gz", (String) c.getValue()[1]);
        }
        assertThat(Files.exists(Path.of("/etc/passwd"))).isTrue();
    }

    @Test
    void hostileZipArchivesAreRefused() throws Exception {
        assertThat(run(install("evil", "0", "/v0.tgz", new TarBuilder().file("good", "v0", 0644).tarGz(), target("evil"))).status())
            .isEqualTo(Status.SUCCEEDED);
        assertRefusedAndNothingWritten("zip dot-dot", zip(UP + "escaped"), "/evil.zip", "climbs out with '..'");
        assertRefusedAndNothingWritten("zip absolute", zip(root.resolve("escaped").toString()), "/evil.zip", "has an absolute name");
    }

    private static byte[] zip(String name) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(b)) {
            z.putNextEntry(new ZipEntry("fine.txt"));
            z.write("fine".getBytes(StandardCharsets.UTF_8));
            z.putNextEntry(new ZipEntry(name));
            z.write("x".getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    @Test
    void archiveBombsAreStoppedAtTheLimits() throws Exception {
        Path target = target("evil");
        assertThat(run(install("evil", "0", "/v0.tgz", new TarBuilder().file("good", "v0", 0644).tarGz(), target)).status())
            .isEqualTo(Status.SUCCEEDED);

        // 256 MiB of zeros in 250 KiB of gzip; the limit is 8 MiB
        byte[] gz = TarBuilder.zeroBomb("zeros", 256L << 20);
        assertThat(gz.length).isLessThan(1 << 20);
        Outcome o = run(install("evil", "1", "/bomb.tar.gz", gz, target).setting("max_extracted_bytes", 8L << 20));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).contains("the archive expands to more than max_extracted_bytes (8388608 bytes, 8.0 MiB)");
        assertAfterBomb(target);

        TarBuilder many = new TarBuilder();
        for (int i = 0; i < 500; i++) many.file("f" + i, "", 0644);
        Outcome count = run(install("evil", "2", "/many.tar.gz", many.tarGz(), target).setting("max_entries", 100));
        assertThat(count.status()).isEqualTo(Status.REJECTED);
        assertThat(count.error()).contains("the archive has more than max_entries (100) entries (stopped at 'f100')");
        assertAfterBomb(target);

        ByteArrayOutputStream zb = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(zb)) {
            z.putNextEntry(new ZipEntry("zeros"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 256; i++) z.write(zeros);
        }
        Outcome zip = run(install("evil", "3", "/bomb.zip", zb.toByteArray(), target).setting("max_extracted_bytes", 8L << 20));
        assertThat(zip.status()).isEqualTo(Status.REJECTED);
        assertThat(zip.error()).contains("expands to more than max_extracted_bytes");
        assertAfterBomb(target);

        // tar.zst: zstd itself is stopped by the kernel at the file size limit
        Path plain = root.resolve("bomb.tar");
        try (var out = Files.newOutputStream(plain)) {
            out.write(java.util.Arrays.copyOf(TarBuilder.zeroBombHeader("zeros", 512L << 20), 512));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 513; i++) out.write(zeros);
        }
        tool(root, "zstd", "-q", "-f", "-o", root.resolve("bomb.tar.zst").toString(), plain.toString());
        byte[] zst = Files.readAllBytes(root.resolve("bomb.tar.zst"));
        Outcome z = run(install("evil", "4", "/bomb.tar.zst", zst, target).setting("max_extracted_bytes", 8L << 20).setting("max_entries", 10));
        assertThat(z.status()).as(z.toString()).isEqualTo(Status.REJECTED);
        assertThat(z.error()).contains("the archive decompresses to more than");
        assertAfterBomb(target);
    }

    private void assertAfterBomb(Path target) throws Exception {
        assertThat(Files.readString(target.resolve("good"))).isEqualTo("v0");
        assertThat(names(target.resolveSibling(".evil.outpost"))).containsExactly("0");
    }
}
