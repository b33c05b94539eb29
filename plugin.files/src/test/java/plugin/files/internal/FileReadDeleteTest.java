package plugin.files.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;

/** file.get, file.stat and file.delete on a real temp tree. */
class FileReadDeleteTest {
    @TempDir
    Path tmp;
    Sandbox box;

    @BeforeEach
    void setUp() throws Exception { box = new Sandbox(tmp); }

    private Map<String, Object> ok(Outcome o) {
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        o.json();
        return o.dataAsMap();
    }

    @Test
    void getReturnsTextWithItsDigestAndMetadata() throws Exception {
        Path f = Files.writeString(box.allowed.resolve("app.conf"), "port = 80\n");
        Files.setAttribute(f, "unix:mode", 0640);
        Map<String, Object> d = ok(box.run("file.get", Map.of("path", f.toString()), box.reader()));
        assertThat(d).containsEntry("encoding", "utf-8").containsEntry("content", "port = 80\n").containsEntry("truncated", false)
            .containsEntry("size", 10L).containsEntry("mode", "0640").containsEntry("owner", "root").containsEntry("type", "file")
            .containsEntry("sha256", FilePut.sha256("port = 80\n".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void getReturnsBinaryAsBase64AndCutsAtMaxBytes() throws Exception {
        byte[] bytes = new byte[5000];
        for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) i;
        Path f = Files.write(box.allowed.resolve("blob"), bytes);
        Map<String, Object> d = ok(box.run("file.get", Map.of("path", f.toString(), "maxBytes", 100), box.reader()));
        assertThat(d).containsEntry("encoding", "base64").containsEntry("truncated", true).containsEntry("size", 5000L)
            .containsEntry("sha256", FilePut.sha256(bytes));
        assertThat(Base64.getDecoder().decode((String) d.get("content"))).hasSize(100).startsWith(bytes[0], bytes[1]);
    }

    @Test
    void getOfAMissingFileIsNotFoundAndStatSaysItDoesNotExist() {
        Path f = box.allowed.resolve("nope/none");
        Outcome get = box.run("file.get", Map.of("path", f.toString()), box.reader());
        assertThat(get.status()).isEqualTo(Status.FAILED);
        assertThat(get.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(get.error()).isEqualTo(f + " does not exist");
        assertThat(ok(box.run("file.stat", Map.of("path", f.toString()), box.reader()))).containsEntry("exists", false);
    }

    @Test
    void theAgentsCredentialsAreNeverReadOut() throws Exception {
        Path creds = Files.writeString(box.data.resolve("credentials.json"), "{\"token\": \"s3cret\"}");
        Outcome o = box.run("file.get", Map.of("path", creds.toString()), box.reader());
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.toString()).doesNotContain("s3cret");
        // nor through a link that looks allowed
        Path link = Files.createSymbolicLink(box.allowed.resolve("innocent"), creds);
        Outcome via = box.run("file.get", Map.of("path", link.toString()), box.reader());
        assertThat(via.status()).isEqualTo(Status.REJECTED);
        assertThat(via.error()).contains("through a symlink").contains("the agent's data directory");
    }

    @Test
    void theAgentsConfiguredRunDirectoryIsRefusedEvenInsideAnAllowedPrefix() throws Exception {
        // the control socket's directory of this agent's config (not the default /run/outpost)
        Path socketNeighbour = Files.createDirectories(box.controlDir).resolve("control.sock.new");
        Outcome o = box.ctx("file.put", Map.of("path", socketNeighbour.toString(), "content", "x")).run(box.put());
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).contains("the agent's control socket directory");
        assertThat(socketNeighbour).doesNotExist();
    }

    @Test
    void statReportsADirectoryAndALinkWithoutReadingThem() throws Exception {
        Path dir = Files.createDirectories(box.allowed.resolve("conf.d"));
        Map<String, Object> d = ok(box.run("file.stat", Map.of("path", dir.toString()), box.reader()));
        assertThat(d).containsEntry("exists", true).containsEntry("type", "directory");
        Path f = Files.writeString(dir.resolve("a.conf"), "a\n");
        Path link = Files.createSymbolicLink(box.allowed.resolve("a-link"), Path.of("conf.d/a.conf"));
        Map<String, Object> l = ok(box.run("file.stat", Map.of("path", link.toString()), box.reader()));
        assertThat(l).containsEntry("symlink", "conf.d/a.conf").containsEntry("realPath", f.toString()).containsEntry("type", "file")
            .containsEntry("sha256", FilePut.sha256("a\n".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void deleteRemovesAFileOnceAndADryRunRemovesNothing() throws Exception {
        Path f = Files.writeString(box.allowed.resolve("old.conf"), "x");
        Map<String, Object> dry = ok(box.ctx("file.delete", Map.of("path", f.toString())).dryRun(true).run(box.deleter()));
        assertThat(dry).containsEntry("changed", true).containsEntry("dryRun", true).containsEntry("type", "file");
        assertThat(Files.exists(f)).isTrue();

        assertThat(ok(box.run("file.delete", Map.of("path", f.toString()), box.deleter()))).containsEntry("changed", true);
        assertThat(Files.exists(f)).isFalse();
        assertThat(ok(box.run("file.delete", Map.of("path", f.toString()), box.deleter()))).containsEntry("changed", false);
    }

    @Test
    void deleteOfALinkRemovesTheLinkNotWhatItPointsTo() throws Exception {
        Path outsideFile = Files.writeString(box.outside.resolve("keep"), "keep\n");
        Path link = Files.createSymbolicLink(box.allowed.resolve("link"), outsideFile);
        assertThat(ok(box.run("file.delete", Map.of("path", link.toString()), box.deleter()))).containsEntry("type", "symlink");
        assertThat(Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.readString(outsideFile)).isEqualTo("keep\n");
    }

    @Test
    void deleteRefusesDirectoriesAndPathsOutside() throws Exception {
        Path dir = Files.createDirectories(box.allowed.resolve("conf.d"));
        Outcome o = box.run("file.delete", Map.of("path", dir.toString()), box.deleter());
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).contains("is a directory");
        Path outsideFile = Files.writeString(box.outside.resolve("keep"), "keep\n");
        Path viaLink = Files.createSymbolicLink(box.allowed.resolve("out"), box.outside).resolve("keep");
        Outcome out = box.run("file.delete", Map.of("path", viaLink.toString()), box.deleter());
        assertThat(out.status()).isEqualTo(Status.REJECTED);
        assertThat(Files.exists(outsideFile)).isTrue();
    }
}
