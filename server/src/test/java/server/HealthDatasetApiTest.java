package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.cli.OutpostCtl;

/**
 * The reference server's side of plugin.health and plugin.dataset on a real server: health snapshots and open alerts
 * from the events agents send, the latest inventory, data sets uploaded, served with ranges through signed URLs, and
 * pushed as dataset.install commands.
 */
class HealthDatasetApiTest {
    @TempDir
    Path dir;
    TestServer s;

    @BeforeEach
    void start() throws Exception { s = TestServer.start(dir.resolve("server")); }

    @AfterEach
    void stop() { s.close(); }

    record Run(int code, String out, String err) {}

    Run ctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--server-dir";
        all[1] = s.dir.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int code = OutpostCtl.run(all, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    private static String event(String kind, String time, String data) {
        return "{\"type\":\"event\",\"id\":\"" + java.util.UUID.randomUUID() + "\",\"kind\":\"" + kind + "\",\"time\":\"" + time + "\",\"data\":" + data + "}";
    }

    private static String alert(String state, String alert, String subject, double value) {
        return "{\"state\":\"" + state + "\",\"alert\":\"" + alert + "\",\"subject\":" + (subject == null ? "null" : "\"" + subject + "\"")
            + ",\"value\":" + value + "}";
    }

    @Test
    void healthShowsTheLatestSnapshotAndTheAlertsStillFiring() throws Exception {
        TestServer.Agent agent = s.enroll("health-1");
        Run none = ctl("health", agent.agentId());
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("has sent no health event yet");

        String events = String.join(",",
            event("health", "2026-11-30T10:00:00Z", "{\"load\":{\"load1\":0.5}}"),
            event("alert", "2026-11-30T10:00:00Z", alert("firing", "filesystem_used_percent", "/var", 93)),
            event("alert", "2026-11-30T10:00:00Z", alert("firing", "load_per_core", null, 2.5)),
            event("alert", "2026-11-30T10:01:00Z", alert("firing", "filesystem_used_percent", "/srv", 91)),
            event("health", "2026-11-30T10:01:00Z", "{\"load\":{\"load1\":3.5}}"),
            event("alert", "2026-11-30T10:01:00Z", alert("cleared", "filesystem_used_percent", "/var", 80)));
        TestServer.Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"events\":[" + events + "]}");
        assertThat(rs.status()).as(rs.body()).isEqualTo(200);

        JsonObject h = s.operatorGet("/api/v1/agents/" + agent.agentId() + "/health").object();
        assertThat(h.get("time").getAsString()).isEqualTo("2026-11-30T10:01:00Z");
        assertThat(h.getAsJsonObject("snapshot").getAsJsonObject("load").get("load1").getAsDouble()).isEqualTo(3.5);
        JsonArray open = h.getAsJsonArray("openAlerts");
        assertThat(open).hasSize(2);
        assertThat(open.get(0).getAsJsonObject().get("alert").getAsString()).isEqualTo("load_per_core");
        assertThat(open.get(1).getAsJsonObject().get("subject").getAsString()).isEqualTo("/srv");

        Run shown = ctl("health", agent.agentId());
        assertThat(shown.code()).as(shown.err()).isZero();
        assertThat(JsonParser.parseString(shown.out()).getAsJsonObject()).isEqualTo(h);
        assertThat(s.operatorGet("/api/v1/agents/nobody/health").status()).isEqualTo(404);
        assertThat(s.get("/api/v1/agents/" + agent.agentId() + "/health", "wrong").status()).isEqualTo(401);
    }

    @Test
    void inventoryShowsTheLatestSucceededHealthInventory() throws Exception {
        TestServer.Agent agent = s.enroll("inventory-1");
        assertThat(ctl("inventory", agent.agentId()).code()).isEqualTo(1);
        String first = s.command(agent.agentId(), "health.inventory", "{}");
        String second = s.command(agent.agentId(), "health.inventory", "{}");
        String results = "{\"type\":\"result\",\"id\":\"" + first + "\",\"status\":\"succeeded\",\"output\":\"\",\"outputTruncated\":false,"
            + "\"data\":{\"hostname\":\"old\"},\"startedAt\":\"2026-11-30T10:00:00Z\",\"finishedAt\":\"2026-11-30T10:00:01Z\"},"
            + "{\"type\":\"result\",\"id\":\"" + second + "\",\"status\":\"failed\",\"error\":\"x\",\"errorCode\":\"failed\",\"output\":\"\","
            + "\"outputTruncated\":false,\"startedAt\":\"2026-11-30T11:00:00Z\",\"finishedAt\":\"2026-11-30T11:00:01Z\"}";
        s.post("/agent/v1/checkin", agent.token(), "{}");
        TestServer.Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"accepted\":[\"" + first + "\",\"" + second + "\"],\"results\":["
            + results + "]}");
        assertThat(rs.status()).as(rs.body()).isEqualTo(200);
        Run inv = ctl("inventory", agent.agentId());
        assertThat(inv.code()).as(inv.err()).isZero();
        JsonObject o = JsonParser.parseString(inv.out()).getAsJsonObject();
        assertThat(o.get("commandId").getAsString()).as("the failed one after it does not count").isEqualTo(first);
        assertThat(o.getAsJsonObject("inventory").get("hostname").getAsString()).isEqualTo("old");
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private HttpResponse<byte[]> fetch(String url, String range, String ifRange, String method) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
        if (range != null) b.header("Range", range);
        if (ifRange != null) b.header("If-Range", ifRange);
        return s.http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void aDataSetIsUploadedServedWithRangesThroughSignedUrlsAndPushed() throws Exception {
        byte[] content = new byte[300_000];
        new Random(5).nextBytes(content);
        Path file = Files.write(dir.resolve("geo.bin"), content);
        Run up = ctl("dataset", "upload", file.toString(), "--name", "GeoLite2-City.mmdb");
        assertThat(up.code()).as(up.err()).isZero();
        JsonObject rec = JsonParser.parseString(up.out()).getAsJsonObject();
        String sha = sha256(content);
        assertThat(rec.get("sha256").getAsString()).isEqualTo(sha);
        assertThat(rec.get("size").getAsLong()).isEqualTo(content.length);
        assertThat(Files.readString(s.dir.resolve("dataset-url.key"))).hasSize(64);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(s.dir.resolve("dataset-url.key"))))
            .isEqualTo("rw-------");
        Run list = ctl("dataset", "list");
        assertThat(JsonParser.parseString(list.out()).getAsJsonArray()).hasSize(1);

        String path = s.operatorPost("/api/v1/datasets/" + sha + "/url", "{}").object().get("path").getAsString();
        assertThat(path).startsWith("/agent/v1/datasets/" + sha + "/GeoLite2-City.mmdb?expires=");
        String url = s.base.resolve(path).toString();
        HttpResponse<byte[]> whole = fetch(url, null, null, "GET");
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(content);
        assertThat(whole.headers().firstValue("ETag")).hasValue("\"" + sha + "\"");
        HttpResponse<byte[]> tail = fetch(url, "bytes=100000-", "\"" + sha + "\"", "GET");
        assertThat(tail.statusCode()).isEqualTo(206);
        assertThat(tail.headers().firstValue("Content-Range")).hasValue("bytes 100000-299999/300000");
        assertThat(tail.body()).isEqualTo(java.util.Arrays.copyOfRange(content, 100_000, 300_000));
        assertThat(fetch(url, "bytes=100000-", "\"another\"", "GET").statusCode()).as("If-Range of another file: all of it").isEqualTo(200);
        assertThat(fetch(url, "bytes=400000-", null, "GET").statusCode()).isEqualTo(416);
        HttpResponse<byte[]> head = fetch(url, null, null, "HEAD");
        assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(300_000L);

        assertThat(fetch(url.replaceAll("sig=[0-9a-f]+", "sig=" + "0".repeat(64)), null, null, "GET").statusCode()).isEqualTo(401);
        assertThat(fetch(s.base.resolve("/agent/v1/datasets/" + sha + "/x").toString(), null, null, "GET").statusCode()).isEqualTo(401);
        DatasetRepository repo = new DatasetRepository(s.dir.resolve("datasets"));
        String expired = repo.signedPath(sha, Instant.now().minus(Duration.ofDays(8)));
        HttpResponse<byte[]> old = fetch(s.base.resolve(expired).toString(), null, null, "GET");
        assertThat(old.statusCode()).isEqualTo(403);
        assertThat(new String(old.body())).contains("expired");

        TestServer.Agent agent = s.enroll("dataset-1");
        Run push = ctl("dataset", "push", agent.agentId(), "geoip", "2024.05", sha, "/srv/data/GeoLite2-City.mmdb", "--keep-previous");
        assertThat(push.code()).as(push.err()).isZero();
        String id = JsonParser.parseString(push.out().strip()).getAsJsonObject().get("id").getAsString();
        JsonObject params = s.commandView(id).getAsJsonObject("params");
        assertThat(params.get("name").getAsString()).isEqualTo("geoip");
        assertThat(params.get("version").getAsString()).isEqualTo("2024.05");
        assertThat(params.get("sha256").getAsString()).isEqualTo(sha);
        assertThat(params.get("target").getAsString()).isEqualTo("/srv/data/GeoLite2-City.mmdb");
        assertThat(params.get("keepPrevious").getAsBoolean()).isTrue();
        // a relative url (docs/protocol.md §7.1): the agent fetches it with its own token
        assertThat(params.get("url").getAsString()).isEqualTo("/agent/v1/datasets/" + sha + "/GeoLite2-City.mmdb");
        HttpResponse<byte[]> byAgent = s.http.send(HttpRequest.newBuilder(s.base.resolve(params.get("url").getAsString()))
            .header("Authorization", "Bearer " + agent.token()).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(byAgent.body()).isEqualTo(content);
        assertThat(s.commandView(id).get("action").getAsString()).isEqualTo("dataset.install");

        Run bad = ctl("dataset", "push", agent.agentId(), "geoip", "1", "f".repeat(64), "/srv/x");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("no data set with sha256 '" + "f".repeat(64) + "' (upload it first)");
    }
}
