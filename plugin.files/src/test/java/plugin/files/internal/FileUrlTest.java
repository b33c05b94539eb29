package plugin.files.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;

/** file.put from a url: a real TLS server on loopback, its certificate made at test time. */
class FileUrlTest {
    static final byte[] BODY = "listen 443;\n".getBytes(StandardCharsets.UTF_8);
    @TempDir
    static Path tls;
    static TlsServer server;
    @TempDir
    Path tmp;
    Sandbox box;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TlsServer(tls);
        server.files.put("/files/app.conf", BODY);
    }

    @AfterAll
    static void stopServer() { server.close(); }

    @BeforeEach
    void setUp() throws Exception { box = new Sandbox(tmp); }

    private Outcome put(Map<String, ?> params) {
        return box.ctx("file.put", params).setting("ca_file", server.caPem.toString()).run(box.put());
    }

    @Test
    void aUrlWithItsSha256IsDownloadedAndWritten() throws Exception {
        Path f = box.allowed.resolve("app.conf");
        Outcome o = put(Map.of("path", f.toString(), "url", server.url("/files/app.conf") + "?token=secret", "sha256", FilePut.sha256(BODY)));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(Files.readAllBytes(f)).isEqualTo(BODY);
        assertThat(o.dataAsMap()).containsEntry("sha256", FilePut.sha256(BODY)).containsEntry("size", (long) BODY.length);
        assertThat(o.output()).contains("downloading " + server.url("/files/app.conf")).doesNotContain("secret");

        Outcome again = put(Map.of("path", f.toString(), "url", server.url("/gone"), "sha256", FilePut.sha256(BODY)));
        assertThat(again.dataAsMap()).as("the same digest is already there: nothing fetched").containsEntry("changed", false);
    }

    @Test
    void aWrongSha256ChangesNothing() throws Exception {
        Path f = Files.writeString(box.allowed.resolve("app.conf"), "before\n");
        Object inode = Files.getAttribute(f, "unix:ino");
        Outcome o = put(Map.of("path", f.toString(), "url", server.url("/files/app.conf"), "sha256", "ab".repeat(32)));

        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.error()).isEqualTo("download of " + server.url("/files/app.conf") + " has sha256 " + FilePut.sha256(BODY)
            + ", not the " + "ab".repeat(32) + " asked for (12 bytes). Nothing was changed.");
        assertThat(Files.readString(f)).isEqualTo("before\n");
        assertThat(Files.getAttribute(f, "unix:ino")).isEqualTo(inode);
        try (var s = Files.list(box.allowed)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).as("no temporary file, no backup")
                .containsExactlyInAnyOrder("app.conf", "agent-data", "agent-scripts");
        }
    }

    @Test
    void aMissingFileIsNotFoundAndAnUntrustedServerFails() throws Exception {
        Path f = box.allowed.resolve("app.conf");
        Outcome missing = put(Map.of("path", f.toString(), "url", server.url("/nope"), "sha256", FilePut.sha256(BODY)));
        assertThat(missing.status()).isEqualTo(Status.FAILED);
        assertThat(missing.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(missing.error()).isEqualTo("download of " + server.url("/nope") + " answered HTTP 404");

        // without ca_file the JVM's trust store decides, and it does not know this certificate
        Outcome untrusted = box.ctx("file.put", Map.of("path", f.toString(), "url", server.url("/files/app.conf"),
            "sha256", FilePut.sha256(BODY))).run(box.put());
        assertThat(untrusted.status()).isEqualTo(Status.FAILED);
        assertThat(untrusted.error()).startsWith("download of " + server.url("/files/app.conf") + " failed: javax.net.ssl.SSLHandshakeException");
        assertThat(Files.exists(f)).isFalse();
        try (var s = Files.list(box.allowed)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactlyInAnyOrder("agent-data", "agent-scripts");
        }
    }

    @Test
    void aDryRunFetchesNothing() throws Exception {
        Path f = box.allowed.resolve("app.conf");
        Outcome o = box.ctx("file.put", Map.of("path", f.toString(), "url", server.url("/files/app.conf"), "sha256", FilePut.sha256(BODY)))
            .setting("ca_file", server.caPem.toString()).dryRun(true).run(box.put());
        assertThat(o.dataAsMap()).containsEntry("changed", true).containsEntry("diff", null)
            .containsEntry("diffNote", "the content of a url is not fetched in a dry run");
        assertThat(Files.exists(f)).isFalse();
        assertThat(List.of(o.output())).isNotEmpty();
    }
}
