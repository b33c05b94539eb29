package plugin.backup.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** backup.create then backup.restore (and plain GNU tar) of a tree with every kind of metadata, compared entry by entry. */
class BackupRoundTripTest {
    @TempDir
    Path tmp;
    TestPaths paths;
    Path src;

    @BeforeEach
    void setUp() throws Exception {
        paths = new TestPaths(tmp.resolve("data"));
        src = Trees.rich(tmp.resolve("src"));
    }

    <T extends agent.api.CommandHandler> T handler(T h) throws Exception {
        h.getClass().getDeclaredField("paths").set(h, paths);
        return h;
    }

    Outcome create(String compression) throws Exception {
        Outcome o = TestContext.forAction("backup.create").param("paths", List.of(src.toString())).param("name", "rich")
            .param("compression", compression).run(handler(new BackupCreator()));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        return o;
    }

    /** Where a restore into {@code target} puts the tree: the archive holds names relative to /. */
    Path restored(Path target) { return target.resolve(src.toString().substring(1)); }

    @ParameterizedTest
    @ValueSource(strings = {"gzip", "zstd", "none"})
    void aTreeRoundTripsEntryByEntry(String compression) throws Exception {
        Outcome c = create(compression);
        Map<String, Object> d = c.dataAsMap();
        Path archive = Path.of((String) d.get("archive"));
        assertThat(archive).exists().hasParent(tmp.resolve("data/backups"));
        assertThat(archive.getFileName().toString()).matches("rich-\\d{8}T\\d{6}\\.\\d{3}Z\\.tar" + switch (compression) {
            case "gzip" -> "\\.gz";
            case "zstd" -> "\\.zst";
            default -> "";
        });
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(archive))).isEqualTo("rw-------");
        assertThat(d).containsEntry("compression", compression).containsEntry("name", "rich")
            .containsEntry("sizeBytes", Files.size(archive)).containsEntry("sha256", Destination.sha256(archive, false));
        long entries = Trees.describe(src).size(); // src itself and what is under it
        assertThat(d.get("files")).isEqualTo(entries);
        assertThat(Files.readString(Destination.manifestOf(archive))).contains("\"sha256\": \"" + d.get("sha256") + "\"");

        Path target = tmp.resolve("restore");
        Outcome r = TestContext.forAction("backup.restore").param("archive", archive.getFileName().toString())
            .param("target", target.toString()).run(handler(new BackupRestorer()));
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(r.dataAsMap()).containsEntry("files", entries).containsEntry("changed", true);
        Trees.assertSame(src, restored(target));
    }

    @Test
    void theArchiveListsAndRestoresWithPlainGnuTar() throws Exception {
        Path archive = Path.of((String) create("gzip").dataAsMap().get("archive"));
        String listing = Trees.run("tar", "-tvf", archive.toString());
        assertThat(listing).contains(src.toString().substring(1) + "/etc/app/app.conf")
            .contains("etc/app/current -> app.conf").contains("link to " + src.toString().substring(1) + "/etc/app/app.conf");
        Path target = Files.createDirectory(tmp.resolve("by-hand"));
        Trees.run("tar", "-xpf", archive.toString(), "--xattrs", "--xattrs-include=*", "--acls", "-C", target.toString());
        Trees.assertSame(src, restored(target));
    }

    @Test
    void aRestoreByTheArchivesSha256() throws Exception {
        String sha = (String) create("gzip").dataAsMap().get("sha256");
        Path target = tmp.resolve("by-sha");
        Outcome r = TestContext.forAction("backup.restore").param("archive", sha).param("target", target.toString())
            .run(handler(new BackupRestorer()));
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.SUCCEEDED);
        Trees.assertSame(src, restored(target));
    }
}
