package plugin.files.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** file.put through the test kit, on a real temp tree, as root (owners and groups are real ones of the host). */
class FilePutTest {
    @TempDir
    Path tmp;
    Sandbox box;

    @BeforeEach
    void setUp() throws Exception {
        box = new Sandbox(tmp);
        assertThat(System.getProperty("user.name")).as("these tests set owners: they run as root").isEqualTo("root");
    }

    private static Map<String, Object> succeeded(Outcome o) {
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        o.json(); // the data is JSON-shaped
        return o.dataAsMap();
    }

    private static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    @Test
    void putCreatesTheFileWithItsModeOwnerAndGroup() throws Exception {
        Path f = box.allowed.resolve("app.conf");
        Outcome o = box.put(Map.of("path", f.toString(), "content", "port = 80\n", "mode", "0640", "owner", "daemon", "group", "daemon"));

        Map<String, Object> d = succeeded(o);
        assertThat(Files.readString(f)).isEqualTo("port = 80\n");
        PosixFileAttributes a = Files.readAttributes(f, PosixFileAttributes.class);
        assertThat(a.owner().getName()).isEqualTo("daemon");
        assertThat(a.group().getName()).isEqualTo("daemon");
        assertThat(mode(f)).isEqualTo(0640);
        assertThat(d).containsEntry("changed", true).containsEntry("created", true).containsEntry("mode", "0640")
            .containsEntry("owner", "daemon").containsEntry("group", "daemon").containsEntry("size", 10L)
            .containsEntry("sha256", FilePut.sha256("port = 80\n".getBytes(StandardCharsets.UTF_8)))
            .containsEntry("backup", null).containsEntry("realPath", f.toString());
        // no temporary file left beside it
        try (var s = Files.list(box.allowed)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("app.conf", "agent-data", "agent-scripts");
        }
    }

    @Test
    void aNewFileWithoutModeIs0644AndOwnedByTheAgent() throws Exception {
        Path f = box.allowed.resolve("plain");
        succeeded(box.put(Map.of("path", f.toString(), "content", "x")));
        assertThat(mode(f)).isEqualTo(0644);
        assertThat(Files.getOwner(f).getName()).isEqualTo("root");
    }

    @Test
    void theSamePutTwiceChangesNothingTheSecondTime() throws Exception {
        Path f = box.allowed.resolve("app.conf");
        Map<String, Object> params = Map.of("path", f.toString(), "content", "a = 1\n", "mode", "0600", "owner", "daemon");
        succeeded(box.put(params));
        Object inode = Files.getAttribute(f, "unix:ino");

        Map<String, Object> again = succeeded(box.put(params));

        assertThat(again).containsEntry("changed", false).containsEntry("mode", "0600").containsEntry("owner", "daemon");
        assertThat(Files.getAttribute(f, "unix:ino")).as("the file was not rewritten").isEqualTo(inode);
        assertThat(Files.exists(box.allowed.resolve("app.conf" + FilePut.BACKUP_SUFFIX))).isFalse();
    }

    @Test
    void newContentKeepsThePreviousFileAsABackupWithItsMetadata() throws Exception {
        Path f = box.allowed.resolve("app.conf");
        succeeded(box.put(Map.of("path", f.toString(), "content", "old\n", "mode", "0600", "owner", "daemon")));

        Map<String, Object> d = succeeded(box.put(Map.of("path", f.toString(), "content", "new\n")));

        Path bak = box.allowed.resolve("app.conf.outpost-bak");
        assertThat(d).containsEntry("changed", true).containsEntry("created", false).containsEntry("backup", bak.toString());
        assertThat(Files.readString(f)).isEqualTo("new\n");
        assertThat(Files.readString(bak)).isEqualTo("old\n");
        assertThat(mode(bak)).isEqualTo(0600);
        assertThat(Files.getOwner(bak).getName()).isEqualTo("daemon");
        // what was not asked for is kept from the file replaced
        assertThat(mode(f)).isEqualTo(0600);
        assertThat(Files.getOwner(f).getName()).isEqualTo("daemon");
    }

    @Test
    void backupFalseLeavesNoBackup() throws Exception {
        Path f = box.allowed.resolve("app.conf");
        succeeded(box.put(Map.of("path", f.toString(), "content", "old\n")));
        Map<String, Object> d = succeeded(box.put(Map.of("path", f.toString(), "content", "new\n", "backup", false)));
        assertThat(d).containsEntry("backup", null);
        assertThat(Files.exists(box.allowed.resolve("app.conf.outpost-bak"))).isFalse();
    }

    @Test
    void onlyANewModeChangesTheModeAndSaysSo() throws Exception {
        Path f = box.allowed.resolve("tool");
        succeeded(box.put(Map.of("path", f.toString(), "content", "#!/bin/sh\n")));
        Map<String, Object> d = succeeded(box.put(Map.of("path", f.toString(), "content", "#!/bin/sh\n", "mode", "4755")));
        assertThat(d).containsEntry("changed", true).containsEntry("mode", "4755");
        assertThat(mode(f)).as("setuid is kept: owner is set before mode").isEqualTo(04755);
    }

    @Test
    void aDryRunReturnsTheDiffAndWritesNothing() throws Exception {
        Path f = box.allowed.resolve("app.conf");
        Files.writeString(f, "a\nb\nc\nd\ne\nf\ng\nh\n");
        Object inode = Files.getAttribute(f, "unix:ino");

        Outcome o = box.putDry(Map.of("path", f.toString(), "content", "a\nb\nc\nD\ne\nf\ng\nh\nadded\n", "mode", "0600"));

        Map<String, Object> d = succeeded(o);
        assertThat(d).containsEntry("changed", true).containsEntry("dryRun", true).containsEntry("created", false)
            .containsEntry("mode", "0600").containsEntry("backup", f + ".outpost-bak");
        assertThat((String) d.get("diff")).isEqualTo("--- " + f + "\n+++ " + f + "\n"
            + "@@ -1,8 +1,9 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n+added\n");
        assertThat(Files.readString(f)).isEqualTo("a\nb\nc\nd\ne\nf\ng\nh\n");
        assertThat(Files.getAttribute(f, "unix:ino")).isEqualTo(inode);
        assertThat(mode(f)).isNotEqualTo(0600);
        try (var s = Files.list(box.allowed)) {
            assertThat(s.count()).as("no temporary or backup file").isEqualTo(3);
        }
    }

    @Test
    void aDryRunOfANewFileInNewDirectoriesCreatesNothing() throws Exception {
        Path f = box.allowed.resolve("new/deeper/app.conf");
        Map<String, Object> d = succeeded(box.putDry(Map.of("path", f.toString(), "content", "x\n", "createDirs", true)));
        assertThat(d).containsEntry("changed", true).containsEntry("created", true)
            .containsEntry("createdDirs", List.of(box.allowed.resolve("new").toString()))
            .containsEntry("diff", "--- /dev/null\n+++ " + f + "\n@@ -0,0 +1 @@\n+x\n");
        assertThat(Files.exists(box.allowed.resolve("new"))).isFalse();
    }

    @Test
    void createDirsMakesTheMissingDirectories() throws Exception {
        Path f = box.allowed.resolve("new/deeper/app.conf");
        Outcome missing = box.put(Map.of("path", f.toString(), "content", "x\n"));
        assertThat(missing.status()).isEqualTo(Status.FAILED);
        assertThat(missing.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(missing.error()).contains(box.allowed.resolve("new") + " does not exist").contains("createDirs");

        Map<String, Object> d = succeeded(box.put(Map.of("path", f.toString(), "content", "x\n", "createDirs", true)));

        assertThat(Files.readString(f)).isEqualTo("x\n");
        assertThat(d).containsEntry("createdDirs", List.of(box.allowed.resolve("new").toString(), box.allowed.resolve("new/deeper").toString()));
        assertThat(mode(box.allowed.resolve("new"))).as("not the umask's choice").isEqualTo(0755);
    }

    @Test
    void contentBase64WritesBytesAsTheyAre() throws Exception {
        byte[] bytes = {0, 1, 2, (byte) 0xff, '\n'};
        Path f = box.allowed.resolve("blob");
        Map<String, Object> d = succeeded(box.put(Map.of("path", f.toString(), "contentBase64", Base64.getEncoder().encodeToString(bytes))));
        assertThat(Files.readAllBytes(f)).isEqualTo(bytes);
        assertThat(d).containsEntry("size", 5L);
        Map<String, Object> dry = succeeded(box.putDry(Map.of("path", f.toString(), "contentBase64", "AAEC")));
        assertThat(dry).containsEntry("diff", null);
        assertThat((String) dry.get("diffNote")).contains("binary");
    }

    @Test
    void aPathOutsideTheAllowedPrefixesIsRefusedAndNothingIsWritten() throws Exception {
        Path f = box.outside.resolve("x");
        Outcome o = box.put(Map.of("path", f.toString(), "content", "x"));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).isEqualTo("param 'path': " + f + " is refused: it is not under an allowed prefix"
            + " (plugins.settings.file.allow: [" + box.allowed + "])");
        assertThat(box.outsideContents()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "ALLOWED/../outside/x | must not contain '.' or '..' segments",
        "ALLOWED/./x | must not contain '.' or '..' segments",
        "ALLOWED//x | must not contain empty segments",
        "relative/x | must be an absolute path",
        "ALLOWED/dir/ | must name a file, not a directory",
    })
    void lexicallyBadPathsAreRejectedNamingThePath(String path, String problem) throws Exception {
        String p = path.replace("ALLOWED", box.allowed.toString());
        Outcome o = box.put(Map.of("path", p, "content", "x"));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.INVALID_PARAM);
        assertThat(o.error()).startsWith("param 'path' ").contains(problem);
        assertThat(box.outsideContents()).isEmpty();
    }

    @Test
    void theAgentsOwnFilesAreRefusedEvenUnderAnAllowedPrefix() throws Exception {
        for (Path own : List.of(box.data.resolve("credentials.json"), box.scripts.resolve("evil.sh"))) {
            Outcome o = box.put(Map.of("path", own.toString(), "content", "x"));
            assertThat(o.status()).as(own.toString()).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
            assertThat(o.error()).contains("the agent's").contains("which the file actions never touch");
            assertThat(Files.exists(own)).isFalse();
        }
    }

    @Test
    void theAgentsConfigIsRefusedWithTheDefaultPolicy() throws Exception {
        // default settings allow /etc; the config dir inside it stays refused. Nothing is opened: the check comes first.
        Outcome o = TestContext.forAction("file.put").params(Map.of("path", "/etc/outpost/config.json", "content", "{}"))
            .run(box.put());
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).isEqualTo("param 'path': /etc/outpost/config.json is refused: it is inside /etc/outpost, the agent's"
            + " config directory, which the file actions never touch");
    }

    @Test
    void aSymlinkedDirectoryThatLeadsOutIsRefused() throws Exception {
        Path link = Files.createSymbolicLink(box.allowed.resolve("escape"), box.outside);
        Outcome o = box.put(Map.of("path", link.resolve("x").toString(), "content", "x"));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).contains("resolves to " + box.outside.resolve("x") + " through a symlink")
            .contains("not under an allowed prefix");
        assertThat(box.outsideContents()).isEmpty();
    }

    @Test
    void aSymlinkAsTheFileThatLeadsOutIsRefusedAndItsTargetUntouched() throws Exception {
        Path target = Files.writeString(box.outside.resolve("passwd"), "root:x:0:0\n");
        Path link = Files.createSymbolicLink(box.allowed.resolve("passwd"), Path.of("../outside/passwd"));
        Outcome o = box.put(Map.of("path", link.toString(), "content", "pwned\n"));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(Files.readString(target)).isEqualTo("root:x:0:0\n");
        assertThat(Files.isSymbolicLink(link)).isTrue();
    }

    @Test
    void aSymlinkThatStaysInsideIsFollowed() throws Exception {
        Path real = Files.createDirectories(box.allowed.resolve("releases/v2"));
        Path current = Files.createSymbolicLink(box.allowed.resolve("current"), Path.of("releases/v2"));
        Map<String, Object> d = succeeded(box.put(Map.of("path", current.resolve("app.conf").toString(), "content", "v2\n")));
        assertThat(Files.readString(real.resolve("app.conf"))).isEqualTo("v2\n");
        assertThat(d).containsEntry("realPath", real.resolve("app.conf").toString());
    }

    @Test
    void aDirectoryIsNotOverwritten() throws Exception {
        Path dir = Files.createDirectories(box.allowed.resolve("conf.d"));
        Outcome o = box.put(Map.of("path", dir.toString(), "content", "x"));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).contains("is a directory");
        assertThat(Files.isDirectory(dir)).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "mode=755x | mode | must be an octal mode",
        "mode=99999 | mode | must be an octal mode",
        "owner=no-such-user-here | owner | names no user of this host",
        "owner=a;b | owner | must be a user name",
        "group=no-such-group-here | group | names no group of this host",
        "sha256=abc | sha256 | must be 64 hex digits",
    })
    void badMetadataParamsAreRejectedNamingTheParam(String param, String name, String problem) throws Exception {
        String[] kv = param.split("=", 2);
        Path f = box.allowed.resolve("x");
        Outcome o = box.put(Map.of("path", f.toString(), "content", "x", kv[0], kv[1]));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.INVALID_PARAM);
        assertThat(o.error()).startsWith("param '" + name + "' ").contains(problem);
        assertThat(Files.exists(f)).isFalse();
    }

    @Test
    void exactlyOneSourceIsRequired() throws Exception {
        Path f = box.allowed.resolve("x");
        Outcome none = box.put(Map.of("path", f.toString()));
        assertThat(none.error()).isEqualTo("param 'content' give exactly one of content (text), contentBase64 or url (with sha256), got 0");
        Outcome two = box.put(Map.of("path", f.toString(), "content", "x", "url", "https://example.invalid/x"));
        assertThat(two.status()).isEqualTo(Status.REJECTED);
        assertThat(Files.exists(f)).isFalse();
    }

    @Test
    void aServerPathWithoutAServerOrAPlainHttpUrlIsRejected() throws Exception {
        Path f = box.allowed.resolve("x");
        String sha = "0".repeat(64);
        // a path on the agent's server goes through the agent's ServerFiles, which an offline agent does not offer
        Outcome rel = box.put(Map.of("path", f.toString(), "url", "/files/app.conf", "sha256", sha));
        assertThat(rel.status()).isEqualTo(Status.REJECTED);
        assertThat(rel.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(rel.error()).isEqualTo("param 'url': '/files/app.conf' is a path on the agent's server, and this"
            + " agent runs without one (offline mode); give an https URL. Nothing was changed.");
        Outcome noSlash = box.put(Map.of("path", f.toString(), "url", "files/app.conf", "sha256", sha));
        assertThat(noSlash.error()).isEqualTo("param 'url' must be an https URL or a path on the agent's server (starting with '/'),"
            + " got 'files/app.conf'");
        Outcome http = box.put(Map.of("path", f.toString(), "url", "http://127.0.0.1/x", "sha256", sha));
        assertThat(http.error()).startsWith("param 'url' must be an https URL");
        assertThat(Files.exists(f)).isFalse();
    }
}
