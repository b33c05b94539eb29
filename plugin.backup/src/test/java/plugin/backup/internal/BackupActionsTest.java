package plugin.backup.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** create, list, verify, delete and retention, against real files and GNU tar. */
class BackupActionsTest {
    @TempDir
    Path tmp;
    TestPaths paths;
    Path src;
    Path backups;

    @BeforeEach
    void setUp() throws Exception {
        paths = new TestPaths(tmp.resolve("data"));
        backups = tmp.resolve("data/backups");
        src = Files.createDirectories(tmp.resolve("src/sub"));
        Files.writeString(src.resolve("a.txt"), "a");
        Files.writeString(src.resolve("b.log"), "b");
        Files.createDirectories(src.resolve("cache/deep"));
        Files.writeString(src.resolve("cache/deep/c.txt"), "c");
    }

    <T extends agent.api.CommandHandler> T handler(T h) throws Exception {
        h.getClass().getDeclaredField("paths").set(h, paths);
        return h;
    }

    private TestContext create(String name) {
        return TestContext.forAction("backup.create").param("paths", List.of(src.toString())).param("name", name);
    }

    private Outcome created(String name, Object... more) throws Exception {
        TestContext t = create(name);
        for (int i = 0; i < more.length; i += 2) t.param((String) more[i], more[i + 1]);
        Outcome o = t.run(handler(new BackupCreator()));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        return o;
    }

    private static String archive(Outcome o) { return (String) o.dataAsMap().get("archive"); }

    private List<String> files(Path dir) throws Exception {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void verifyPassesForAGoodArchiveAndFailsForACorruptedOne() throws Exception {
        Path a = Path.of(archive(created("v")));
        Outcome ok = TestContext.forAction("backup.verify").param("archive", a.getFileName().toString())
            .run(handler(new BackupVerifier()));
        assertThat(ok.status()).as(ok.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(ok.dataAsMap()).containsEntry("ok", true).containsEntry("files", 6L);

        try (RandomAccessFile f = new RandomAccessFile(a.toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 0x40);
        }
        Outcome bad = TestContext.forAction("backup.verify").param("archive", a.toString()).run(handler(new BackupVerifier()));
        assertThat(bad.status()).isEqualTo(Status.FAILED);
        assertThat(bad.errorCode()).isEqualTo(ErrorCode.FAILED);
        assertThat(bad.error()).startsWith(a + " is corrupt: its sha256 is ");

        Path target = tmp.resolve("target");
        Outcome restore = TestContext.forAction("backup.restore").param("archive", a.toString())
            .param("target", target.toString()).run(handler(new BackupRestorer()));
        assertThat(restore.status()).isEqualTo(Status.FAILED);
        assertThat(restore.error()).contains("is corrupt").endsWith("Nothing was written.");
        assertThat(target).doesNotExist();
    }

    @Test
    void retentionKeepsTheNewestNOfAName() throws Exception {
        String first = archive(created("daily"));
        String other = archive(created("weekly"));
        String second = archive(created("daily"));
        Outcome third = created("daily", "keep", 2);
        assertThat(third.dataAsMap().get("pruned")).isEqualTo(List.of(Path.of(first).getFileName().toString()));
        assertThat(Path.of(first)).doesNotExist();
        assertThat(Destination.manifestOf(Path.of(first))).doesNotExist();
        assertThat(Path.of(second)).exists();
        assertThat(Path.of(archive(third))).exists();
        assertThat(Path.of(other)).as("another name is not counted").exists();

        Outcome list = TestContext.forAction("backup.list").param("name", "daily").run(handler(new BackupLister()));
        assertThat(list.status()).as(list.toString()).isEqualTo(Status.SUCCEEDED);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> listed = (List<Map<String, Object>>) list.dataAsMap().get("backups");
        assertThat(listed).extracting(m -> m.get("archive")).containsExactly(archive(third), second);

        Outcome dry = TestContext.forAction("backup.delete").param("name", "daily").param("keep", 1).dryRun(true)
            .run(handler(new BackupDeleter()));
        assertThat(dry.dataAsMap()).containsEntry("deleted", List.of(second)).containsEntry("changed", true);
        assertThat(Path.of(second)).exists();
        Outcome prune = TestContext.forAction("backup.delete").param("name", "daily").param("keep", 1)
            .run(handler(new BackupDeleter()));
        assertThat(prune.dataAsMap()).containsEntry("deleted", List.of(second));
        assertThat(Path.of(second)).doesNotExist();
        assertThat(Path.of(archive(third))).exists();
    }

    @Test
    void deleteRemovesOneArchiveAndNothingElse() throws Exception {
        Path a = Path.of(archive(created("one")));
        Path foreign = Files.writeString(backups.resolve("notes.txt"), "mine");
        Outcome refused = TestContext.forAction("backup.delete").param("archive", "notes.txt").run(handler(new BackupDeleter()));
        assertThat(refused.status()).isEqualTo(Status.REJECTED);
        assertThat(foreign).exists();
        Outcome outsider = TestContext.forAction("backup.delete").param("archive", src.resolve("a.txt").toString())
            .run(handler(new BackupDeleter()));
        assertThat(outsider.status()).isEqualTo(Status.REJECTED);
        assertThat(src.resolve("a.txt")).exists();

        Outcome o = TestContext.forAction("backup.delete").param("archive", a.getFileName().toString())
            .run(handler(new BackupDeleter()));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(files(backups)).containsExactly("notes.txt");
    }

    @Test
    void listShowsAnArchiveWithoutManifestAsIncomplete() throws Exception {
        Path a = Path.of(archive(created("x")));
        Files.delete(Destination.manifestOf(a));
        Outcome o = TestContext.forAction("backup.list").run(handler(new BackupLister()));
        assertThat(o.dataAsMap().get("backups")).isEqualTo(List.of());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> incomplete = (List<Map<String, Object>>) o.dataAsMap().get("incomplete");
        assertThat(incomplete).singleElement().satisfies(m -> assertThat(m).containsEntry("archive", a.toString()));
        Outcome v = TestContext.forAction("backup.verify").param("archive", a.toString()).run(handler(new BackupVerifier()));
        assertThat(v.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
    }

    @Test
    void aDryRunWritesNothingAndSaysWhatWouldBeArchived() throws Exception {
        Outcome o = create("dry").param("exclude", List.of("*.log")).dryRun(true).run(handler(new BackupCreator()));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        String rel = src.toString().substring(1);
        assertThat(o.dataAsMap()).containsEntry("changed", true).containsEntry("files", 5L).containsEntry("bytes", 2L);
        @SuppressWarnings("unchecked")
        List<String> entries = (List<String>) o.dataAsMap().get("entries");
        assertThat(entries).contains(rel + "/a.txt", rel + "/cache/deep/c.txt")
            .doesNotContain(rel + "/b.log");
        assertThat(backups).doesNotExist();
    }

    @Test
    void excludePatternsMatchAnywhereOrFromTheRoot() throws Exception {
        Outcome o = created("ex", "exclude", List.of("*.log", src.resolve("cache").toString()));
        String listing = Trees.run("tar", "-tf", archive(o));
        String rel = src.toString().substring(1);
        assertThat(listing.lines()).containsExactlyInAnyOrder(rel + "/", rel + "/a.txt");
        assertThat(o.dataAsMap()).containsEntry("files", 2L);
    }

    @Test
    void theDestinationIsNeverInItsOwnBackup() throws Exception {
        Path parent = tmp.resolve("data");
        created("first");
        Outcome o = TestContext.forAction("backup.create").param("paths", List.of(parent.toString())).param("name", "all")
            .run(handler(new BackupCreator()));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(Trees.run("tar", "-tf", archive(o))).doesNotContain("backups/first-").doesNotContain(".tmp-");
    }

    @Test
    void aFileThatChangesWhileItIsReadIsAWarningNotAFailure() throws Exception {
        Path growing = src.resolve("growing.bin");
        byte[] chunk = new byte[1 << 20];
        new Random(1).nextBytes(chunk);
        try (var out = Files.newOutputStream(growing)) {
            for (int i = 0; i < 64; i++) out.write(chunk);
        }
        Process writer = new ProcessBuilder("sh", "-c", "while :; do echo more >> " + growing + "; done").start();
        try {
            Outcome o = created("busy");
            @SuppressWarnings("unchecked")
            List<String> warnings = (List<String>) o.dataAsMap().get("warnings");
            assertThat(warnings).anyMatch(w -> w.startsWith("tar: ") && w.endsWith("growing.bin\": file changed as we read it"));
            assertThat(Files.readString(Destination.manifestOf(Path.of(archive(o))))).contains("file changed as we read it");
        } finally {
            writer.destroyForcibly().waitFor();
        }
    }

    @Test
    void aLargeBackupAndItsRestoreReportProgress() throws Exception {
        byte[] chunk = new byte[1 << 20];
        new Random(2).nextBytes(chunk);
        for (int f = 0; f < 6; f++) {
            try (var out = Files.newOutputStream(src.resolve("big-" + f + ".bin"))) {
                for (int i = 0; i < 40; i++) out.write(chunk);
            }
        }
        Outcome o = created("big");
        assertThat(o.progress()).as("progress of backup.create").anyMatch(p -> p.message().contains("entries archived")
            && p.percent() != null && p.percent() > 0 && p.percent() < 100);
        Outcome r = TestContext.forAction("backup.restore").param("archive", archive(o)).param("target", tmp.resolve("t").toString())
            .run(handler(new BackupRestorer()));
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(r.progress()).as("progress of backup.restore").anyMatch(p -> p.message().contains("entries restored"));
    }

    @Test
    void cancelStopsTarAndLeavesNoPartialArchive() throws Exception {
        byte[] chunk = new byte[1 << 20];
        new Random(3).nextBytes(chunk);
        try (var out = Files.newOutputStream(src.resolve("huge.bin"))) {
            for (int i = 0; i < 400; i++) out.write(chunk);
        }
        var running = create("cancelled").start(handler(new BackupCreator()));
        long end = System.nanoTime() + 20_000_000_000L;
        while (running.executed().stream().noneMatch(a -> a.contains("--format=posix")) && System.nanoTime() < end) Thread.sleep(20);
        running.cancel();
        Outcome o = running.await(Duration.ofSeconds(30));
        assertThat(o.status()).isEqualTo(Status.CANCELLED);
        assertThat(files(backups)).isEmpty();
        assertThat(files(tmp.resolve("data/plugins-data/backup"))).as("work files").isEmpty();
    }

    @Test
    void badParamsAreRejectedNamingTheParam() throws Exception {
        record Case(String json, ErrorCode code, String says) {}
        for (Case c : List.of(
                new Case("{}", ErrorCode.INVALID_PARAM, "param 'paths' is required"),
                new Case("{\"paths\": [\"relative\"]}", ErrorCode.INVALID_PARAM, "param 'paths' must be an absolute path"),
                new Case("{\"paths\": [\"/a/../b\"]}", ErrorCode.INVALID_PARAM, "must not contain '..'"),
                new Case("{\"paths\": [\"/no/such/path\"]}", ErrorCode.NOT_FOUND, "'/no/such/path' does not exist"),
                new Case("{\"paths\": [\"" + src + "\", \"" + src.resolve("cache") + "\"]}", ErrorCode.INVALID_PARAM, "overlaps"),
                new Case("{\"paths\": [\"" + src + "\"], \"name\": \"../x\"}", ErrorCode.INVALID_PARAM, "param 'name'"),
                new Case("{\"paths\": [\"" + src + "\"], \"compression\": \"bzip2\"}", ErrorCode.INVALID_PARAM, "param 'compression'"),
                new Case("{\"paths\": [\"" + src + "\"], \"exclude\": [\"\"]}", ErrorCode.INVALID_PARAM, "param 'exclude'"),
                new Case("{\"paths\": [\"" + src + "\"], \"destination\": \"server\"}", ErrorCode.REFUSED,
                    "\"server\" needs the agent's server, and this agent runs without one (offline mode)"),
                new Case("{\"paths\": [\"" + src + "\"], \"destination\": \"" + src.getParent() + "\"}",
                    ErrorCode.INVALID_PARAM, "is inside the destination"))) {
            Outcome o = TestContext.forAction("backup.create").paramsJson(c.json).run(handler(new BackupCreator()));
            assertThat(o.status()).as(c.json + " -> " + o).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).as(c.json).isEqualTo(c.code);
            assertThat(o.error()).as(c.json).contains(c.says);
            assertThat(o.executed()).as(c.json).isEmpty();
        }
        assertThat(backups).doesNotExist();
    }

    @Test
    void aMissingArchiveIsNotFound() throws Exception {
        Outcome o = TestContext.forAction("backup.restore").param("archive", "a".repeat(64)).param("target", tmp.toString())
            .run(handler(new BackupRestorer()));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(o.error()).isEqualTo("there is no archive '" + "a".repeat(64) + "' in " + backups);
    }
}
