package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.cli.OutpostCtl;

/**
 * Backups agents keep on the reference server (docs/protocol.md §7.1), on a real server over TLS: resumable uploads
 * checked against their sha256, downloads with ranges, one agent's backups invisible to another.
 */
class BackupsTest {
    @TempDir
    Path dir;
    TestServer s;

    @AfterEach
    void stop() {
        if (s != null) s.close();
    }

    private void start() throws Exception {
        s = TestServer.start(dir.resolve("server"));
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private HttpResponse<byte[]> request(String method, String path, String token, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(s.base.resolve(path)).timeout(Duration.ofSeconds(20))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return s.http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** PUT of {@code content[offset..]} declaring the whole of {@code content}. */
    private HttpResponse<byte[]> put(TestServer.Agent a, String name, byte[] content, long offset, String sha, String... more) throws Exception {
        String[] headers = new String[6 + more.length];
        headers[0] = "Upload-Offset";
        headers[1] = Long.toString(offset);
        headers[2] = "Upload-Length";
        headers[3] = Integer.toString(content.length);
        headers[4] = "Upload-Sha256";
        headers[5] = sha;
        System.arraycopy(more, 0, headers, 6, more.length);
        return request("PUT", "/agent/v1/backups/" + name, a.token(), Arrays.copyOfRange(content, (int) offset, content.length), headers);
    }

    /** What the server holds of an upload: HEAD's Upload-Offset. */
    private long held(TestServer.Agent a, String name, byte[] content, String sha) throws Exception {
        HttpResponse<byte[]> rs = request("HEAD", "/agent/v1/backups/" + name, a.token(), null,
            "Upload-Length", Integer.toString(content.length), "Upload-Sha256", sha);
        assertThat(rs.statusCode()).as(new String(rs.body())).isEqualTo(200);
        return Long.parseLong(rs.headers().firstValue("Upload-Offset").orElseThrow());
    }

    private static JsonObject json(HttpResponse<byte[]> rs) {
        return JsonParser.parseString(new String(rs.body(), StandardCharsets.UTF_8)).getAsJsonObject();
    }

    private static String text(HttpResponse<byte[]> rs) {
        return new String(rs.body(), StandardCharsets.UTF_8);
    }

    /** A raw HTTPS connection, to send a request head and only part of its body, or none. */
    private SSLSocket raw() throws Exception {
        SSLSocket socket = (SSLSocket) s.tls.getSocketFactory().createSocket("127.0.0.1", s.base.getPort());
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    private static String putHead(TestServer.Agent a, String name, long offset, long length, String sha, long contentLength) {
        return "PUT /agent/v1/backups/" + name + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + a.token()
            + "\r\nUpload-Offset: " + offset + "\r\nUpload-Length: " + length + "\r\nUpload-Sha256: " + sha
            + "\r\nContent-Length: " + contentLength + "\r\n\r\n";
    }

    /** Reads a response head (status line and headers) from a raw connection. */
    private static String responseHead(InputStream in) throws Exception {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) break;
            head.write(c);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void aCompleteUploadIsStoredWithItsRecordAndServedWholeAndInRanges() throws Exception {
        start();
        TestServer.Agent a = s.enroll("backup-a");
        byte[] content = random(300_000, 1);
        String sha = sha256(content);
        String meta = "{\"paths\":[\"/etc\"],\"files\":12}";
        assertThat(held(a, "etc-1.tar.gz", content, sha)).isZero();

        HttpResponse<byte[]> up = put(a, "etc-1.tar.gz", content, 0, sha,
            "Upload-Meta", Base64.getEncoder().encodeToString(meta.getBytes(StandardCharsets.UTF_8)));
        assertThat(up.statusCode()).as(text(up)).isEqualTo(201);
        JsonObject rec = json(up);
        assertThat(rec.get("name").getAsString()).isEqualTo("etc-1.tar.gz");
        assertThat(rec.get("size").getAsLong()).isEqualTo(content.length);
        assertThat(rec.get("sha256").getAsString()).isEqualTo(sha);
        assertThat(rec.getAsJsonObject("meta")).isEqualTo(JsonParser.parseString(meta));
        assertThat(rec.has("receivedAt")).isTrue();
        Path stored = s.dir.resolve("backups").resolve(a.agentId()).resolve("etc-1.tar.gz");
        assertThat(Files.readAllBytes(stored)).isEqualTo(content);
        assertThat(JsonParser.parseString(Files.readString(stored.resolveSibling(".record-etc-1.tar.gz.json")))).isEqualTo(rec);
        assertThat(held(a, "etc-1.tar.gz", content, sha)).as("complete: all of it").isEqualTo(content.length);

        HttpResponse<byte[]> whole = request("GET", "/agent/v1/backups/etc-1.tar.gz", a.token(), null);
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(content);
        assertThat(whole.headers().firstValue("ETag")).hasValue("\"" + sha + "\"");
        assertThat(whole.headers().firstValue("Accept-Ranges")).hasValue("bytes");
        HttpResponse<byte[]> tail = request("GET", "/agent/v1/backups/etc-1.tar.gz", a.token(), null,
            "Range", "bytes=123456-", "If-Range", "\"" + sha + "\"");
        assertThat(tail.statusCode()).isEqualTo(206);
        assertThat(tail.headers().firstValue("Content-Range")).hasValue("bytes 123456-299999/300000");
        assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(content, 123_456, content.length));
        assertThat(request("GET", "/agent/v1/backups/etc-1.tar.gz", a.token(), null, "Range", "bytes=300000-").statusCode()).isEqualTo(416);
        HttpResponse<byte[]> head = request("HEAD", "/agent/v1/backups/etc-1.tar.gz", a.token(), null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(300_000L);

        HttpResponse<byte[]> again = put(a, "etc-1.tar.gz", content, 0, sha);
        assertThat(again.statusCode()).as("the same file again: its record").isEqualTo(200);
        assertThat(json(again)).isEqualTo(rec);
        byte[] other = random(1000, 2);
        HttpResponse<byte[]> clash = put(a, "etc-1.tar.gz", other, 0, sha256(other));
        assertThat(clash.statusCode()).isEqualTo(409);
        assertThat(text(clash)).contains("stored already with sha256 " + sha);
        assertThat(Files.readAllBytes(stored)).as("never replaced").isEqualTo(content);

        assertThat(put(a, "etc-2.tar.gz", other, 0, sha256(other)).statusCode()).isEqualTo(201);
        JsonArray list = json(request("GET", "/agent/v1/backups", a.token(), null)).getAsJsonArray("backups");
        assertThat(list).hasSize(2);
        assertThat(list.get(0).getAsJsonObject().get("name").getAsString()).as("newest first").isEqualTo("etc-2.tar.gz");
        assertThat(list.get(1).getAsJsonObject()).isEqualTo(rec);
        assertThat(request("GET", "/agent/v1/backups", null, null).statusCode()).isEqualTo(401);
        assertThat(request("GET", "/agent/v1/backups/etc-1.tar.gz", "wrong", null).statusCode()).isEqualTo(401);
    }

    @Test
    void anUploadCutHalfWayIsResumedFromTheBytesThatArrivedEvenAfterARestart() throws Exception {
        start();
        TestServer.Agent a = s.enroll("backup-resume");
        byte[] content = random(1_000_000, 3);
        String sha = sha256(content);
        int half = content.length / 2;
        try (SSLSocket socket = raw()) {
            OutputStream out = socket.getOutputStream();
            out.write(putHead(a, "big.tar", 0, content.length, sha, content.length).getBytes(StandardCharsets.ISO_8859_1));
            out.write(content, 0, half);
            out.flush();
        } // closed with the body half sent: the connection dropped
        long[] seen = new long[1];
        TestServer.eventually("HEAD reports the " + half + " bytes that arrived (last seen " + seen[0] + ")", () -> {
            try {
                return (seen[0] = held(a, "big.tar", content, sha)) == half;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Path partial = s.dir.resolve("backups").resolve(a.agentId()).resolve(".partial-big.tar");
        assertThat(Files.size(partial)).isEqualTo(half);

        s.close();
        s = TestServer.start(dir.resolve("server"));
        assertThat(held(a, "big.tar", content, sha)).as("after a restart of the server").isEqualTo(half);
        HttpResponse<byte[]> rest = put(a, "big.tar", content, half, sha);
        assertThat(rest.statusCode()).as(text(rest)).isEqualTo(201);
        assertThat(json(rest).get("sha256").getAsString()).isEqualTo(sha);
        assertThat(json(rest).get("meta").isJsonNull()).isTrue();
        assertThat(request("GET", "/agent/v1/backups/big.tar", a.token(), null).body()).isEqualTo(content);
        assertThat(partial).doesNotExist();
    }

    @Test
    void aWrongOffsetIs409WithTheOffsetHeldAndAShortBodyKeepsWhatCame() throws Exception {
        start();
        TestServer.Agent a = s.enroll("backup-offset");
        byte[] content = random(50_000, 4);
        String sha = sha256(content);
        // a body that ends before the file does (Content-Length shorter than the rest): kept, 204 with the offset
        HttpResponse<byte[]> first = request("PUT", "/agent/v1/backups/x.bin", a.token(), Arrays.copyOf(content, 20_000),
            "Upload-Offset", "0", "Upload-Length", "50000", "Upload-Sha256", sha);
        assertThat(first.statusCode()).as(text(first)).isEqualTo(204);
        assertThat(first.headers().firstValue("Upload-Offset")).hasValue("20000");

        HttpResponse<byte[]> again = put(a, "x.bin", content, 0, sha);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.headers().firstValue("Upload-Offset")).hasValue("20000");
        HttpResponse<byte[]> ahead = put(a, "x.bin", content, 30_000, sha);
        assertThat(ahead.statusCode()).isEqualTo(409);
        assertThat(ahead.headers().firstValue("Upload-Offset")).hasValue("20000");
        assertThat(put(a, "x.bin", content, 20_000, sha).statusCode()).isEqualTo(201);
        assertThat(request("GET", "/agent/v1/backups/x.bin", a.token(), null).body()).isEqualTo(content);
    }

    @Test
    void aSha256MismatchIs422NamingBothAndDeletesWhatArrived() throws Exception {
        start();
        TestServer.Agent a = s.enroll("backup-sha");
        byte[] content = random(40_000, 5);
        String said = sha256(random(40_000, 6));
        HttpResponse<byte[]> rs = put(a, "y.bin", content, 0, said);
        assertThat(rs.statusCode()).isEqualTo(422);
        assertThat(text(rs)).contains(said).contains(sha256(content));
        assertThat(held(a, "y.bin", content, said)).isZero();
        assertThat(s.dir.resolve("backups").resolve(a.agentId()).resolve(".partial-y.bin")).doesNotExist();
        assertThat(request("GET", "/agent/v1/backups/y.bin", a.token(), null).statusCode()).isEqualTo(404);
    }

    @Test
    void anUploadOverTheLimitIs413BeforeItsBodyIsSent() throws Exception {
        s = TestServer.start(dir.resolve("server"), OutpostServer.Limits.DEFAULTS.withBackups(new BackupStore.Limits(100_000, 150_000)));
        TestServer.Agent a = s.enroll("backup-limit");
        String sha = "a".repeat(64);
        try (SSLSocket socket = raw()) {
            // the head only: the answer must come without a byte of the body
            socket.getOutputStream().write(putHead(a, "huge.tar", 0, 100_001, sha, 100_001).getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            String head = responseHead(socket.getInputStream());
            assertThat(head).startsWith("HTTP/1.1 413");
        }
        HttpResponse<byte[]> asked = request("HEAD", "/agent/v1/backups/huge.tar", a.token(), null, "Upload-Length", "100001", "Upload-Sha256", sha);
        assertThat(asked.statusCode()).isEqualTo(413);

        byte[] first = random(90_000, 7);
        assertThat(put(a, "one.bin", first, 0, sha256(first)).statusCode()).isEqualTo(201);
        byte[] second = random(90_000, 8);
        HttpResponse<byte[]> over = put(a, "two.bin", second, 0, sha256(second));
        assertThat(over.statusCode()).isEqualTo(413);
        assertThat(text(over)).contains("holds 90000 bytes").contains("--max-backup-bytes-per-agent");
    }

    @Test
    void anAgentNeverSeesAnotherAgentsBackups() throws Exception {
        start();
        TestServer.Agent a = s.enroll("backup-owner");
        TestServer.Agent b = s.enroll("backup-other");
        byte[] content = random(10_000, 9);
        String sha = sha256(content);
        assertThat(put(a, "secret.tar", content, 0, sha).statusCode()).isEqualTo(201);

        assertThat(request("GET", "/agent/v1/backups/secret.tar", b.token(), null).statusCode()).isEqualTo(404);
        assertThat(request("HEAD", "/agent/v1/backups/secret.tar", b.token(), null).statusCode()).isEqualTo(404);
        assertThat(held(b, "secret.tar", content, sha)).as("not a's upload either").isZero();
        assertThat(json(request("GET", "/agent/v1/backups", b.token(), null)).getAsJsonArray("backups")).isEmpty();
        byte[] own = random(5_000, 10);
        assertThat(put(b, "secret.tar", own, 0, sha256(own)).statusCode()).as("its own under the same name").isEqualTo(201);
        assertThat(request("GET", "/agent/v1/backups/secret.tar", a.token(), null).body()).isEqualTo(content);
        assertThat(request("GET", "/agent/v1/backups/secret.tar", b.token(), null).body()).isEqualTo(own);
    }

    @Test
    void badNamesAndHeadersAre400NamingThem() throws Exception {
        start();
        TestServer.Agent a = s.enroll("backup-names");
        byte[] content = random(100, 11);
        String sha = sha256(content);
        for (String name : new String[] {"a/b", ".hidden", "x%20y"}) {
            HttpResponse<byte[]> rs = put(a, name, content, 0, sha);
            assertThat(rs.statusCode()).as(name).isEqualTo(400);
            assertThat(text(rs)).as(name).contains("a backup's name must be a file name");
        }
        HttpResponse<byte[]> empty = put(a, "", content, 0, sha);
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(text(empty)).contains("got ''");
        try (SSLSocket socket = raw()) {
            // a client that does not normalise the path: the name is "../x"
            socket.getOutputStream().write(putHead(a, "../x", 0, 100, sha, 0).getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            String head = responseHead(socket.getInputStream());
            assertThat(head).startsWith("HTTP/1.1 400");
        }
        assertThat(text(put(a, "ok.bin", content, 0, "xyz"))).contains("Upload-Sha256");
        HttpResponse<byte[]> noOffset = request("PUT", "/agent/v1/backups/ok.bin", a.token(), content,
            "Upload-Length", "100", "Upload-Sha256", sha);
        assertThat(noOffset.statusCode()).isEqualTo(400);
        assertThat(text(noOffset)).contains("Upload-Offset is missing");
        HttpResponse<byte[]> badMeta = put(a, "ok.bin", content, 0, sha, "Upload-Meta", "not base64!");
        assertThat(badMeta.statusCode()).isEqualTo(400);
        assertThat(text(badMeta)).contains("Upload-Meta");
        HttpResponse<byte[]> bigMeta = put(a, "ok.bin", content, 0, sha, "Upload-Meta",
            Base64.getEncoder().encodeToString(("{\"x\":\"" + "y".repeat(5000) + "\"}").getBytes(StandardCharsets.UTF_8)));
        assertThat(bigMeta.statusCode()).isEqualTo(400);
        assertThat(text(bigMeta)).contains("Upload-Meta").contains("4096");
        assertThat(s.dir.resolve("backups").resolve(a.agentId()).resolve("ok.bin")).doesNotExist();
    }

    @Test
    void concurrentPutsOfOneUploadDoNotInterleave() throws Exception {
        start();
        TestServer.Agent a = s.enroll("backup-race");
        byte[] content = random(400_000, 12);
        String sha = sha256(content);
        int half = content.length / 2;
        try (SSLSocket socket = raw()) {
            OutputStream out = socket.getOutputStream();
            out.write(putHead(a, "r.bin", 0, content.length, sha, content.length).getBytes(StandardCharsets.ISO_8859_1));
            out.write(content, 0, half);
            out.flush();
            Path partial = s.dir.resolve("backups").resolve(a.agentId()).resolve(".partial-r.bin");
            TestServer.eventually("the first PUT's half on disk", () -> {
                try {
                    return Files.exists(partial) && Files.size(partial) == half;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            // a second PUT of the whole file from 0 while the first still sends: it waits for the first
            CompletableFuture<HttpResponse<byte[]>> second = CompletableFuture.supplyAsync(() -> {
                try {
                    return put(a, "r.bin", content, 0, sha);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            TestServer.eventually("the second PUT waiting for the first", () -> s.server.backups().users(a.agentId(), "r.bin") == 2);
            assertThat(second).isNotDone();
            out.write(content, half, content.length - half);
            out.flush();
            String head = responseHead(socket.getInputStream());
            assertThat(head).startsWith("HTTP/1.1 201");
            HttpResponse<byte[]> rs = second.get(20, TimeUnit.SECONDS);
            assertThat(rs.statusCode()).as("the file is complete by then: its record").isEqualTo(200);
        }
        assertThat(request("GET", "/agent/v1/backups/r.bin", a.token(), null).body()).isEqualTo(content);
    }

    @Test
    void aDataSetIsServedToAnEnrolledAgentAtItsRelativePath() throws Exception {
        start();
        TestServer.Agent a = s.enroll("dataset-agent");
        byte[] content = random(70_000, 13);
        String sha = sha256(content);
        HttpResponse<byte[]> up = request("POST", "/api/v1/datasets?name=ref.bin", s.operatorToken, content);
        assertThat(up.statusCode()).as(text(up)).isEqualTo(201);
        JsonObject rec = json(request("GET", "/api/v1/datasets/" + sha, s.operatorToken, null));
        assertThat(rec.get("agentPath").getAsString()).isEqualTo("/agent/v1/datasets/" + sha + "/ref.bin");

        HttpResponse<byte[]> got = request("GET", "/agent/v1/datasets/" + sha + "/ref.bin", a.token(), null);
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(content);
        HttpResponse<byte[]> tail = request("GET", "/agent/v1/datasets/" + sha + "/ref.bin", a.token(), null, "Range", "bytes=-100");
        assertThat(tail.statusCode()).isEqualTo(206);
        assertThat(tail.body()).isEqualTo(Arrays.copyOfRange(content, content.length - 100, content.length));
        HttpResponse<byte[]> none = request("GET", "/agent/v1/datasets/" + sha + "/ref.bin", null, null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(text(none)).contains("agent token");
        assertThat(request("GET", "/agent/v1/datasets/" + sha + "/ref.bin", "not-a-token", null).statusCode()).isEqualTo(401);
        assertThat(request("GET", "/agent/v1/datasets/" + "0".repeat(64) + "/ref.bin", a.token(), null).statusCode()).isEqualTo(404);
    }

    record Run(int code, String out, String err) {}

    private Run ctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--server-dir";
        all[1] = s.dir.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int code = OutpostCtl.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void outpostctlBackupsPrintsATableOfEveryAgentsBackupsOrOneAgents() throws Exception {
        start();
        Run none = ctl("backups");
        assertThat(none.code()).isZero();
        assertThat(none.out().strip()).isEqualTo("AGENT  NAME  SIZE  SHA256  RECEIVED");
        assertThat(none.err()).contains("no backups");

        TestServer.Agent a = s.enroll("web-1");
        TestServer.Agent b = s.enroll("db-1");
        byte[] ca = random(1234, 14);
        byte[] cb = random(56_789, 15);
        JsonObject ra = json(put(a, "etc.tar.gz", ca, 0, sha256(ca)));
        JsonObject rb = json(put(b, "pg-2026-11-30.tar.zst", cb, 0, sha256(cb)));

        Run all = ctl("backups");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out().lines().toList()).containsExactly(
            "AGENT  NAME                    SIZE  SHA256        RECEIVED",
            "db-1   pg-2026-11-30.tar.zst  56789  " + sha256(cb).substring(0, 12) + "  " + rb.get("receivedAt").getAsString(),
            "web-1  etc.tar.gz              1234  " + sha256(ca).substring(0, 12) + "  " + ra.get("receivedAt").getAsString());
        Run one = ctl("backups", "--agent", "web-1");
        assertThat(one.out().lines().toList()).hasSize(2).last().asString().startsWith("web-1  etc.tar.gz");
        Run json = ctl("backups", "--agent", "web-1", "--json");
        JsonObject rec = JsonParser.parseString(json.out()).getAsJsonObject().getAsJsonArray("backups").get(0).getAsJsonObject();
        assertThat(rec.get("agentId").getAsString()).isEqualTo("web-1");
        assertThat(rec.get("sha256").getAsString()).isEqualTo(sha256(ca));
        Run unknown = ctl("backups", "--agent", "nobody");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("no agent 'nobody'");
        assertThat(request("GET", "/api/v1/backups", a.token(), null).statusCode()).as("an agent's token is no operator's").isEqualTo(401);
    }
}
