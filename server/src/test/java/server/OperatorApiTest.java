package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import server.TestServer.Response;

class OperatorApiTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("op-agent");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    @Test
    void aMissingOrWrongOperatorTokenIs401() throws Exception {
        Response missing = s.get("/api/v1/agents", null);
        assertThat(missing.status()).isEqualTo(401);
        assertThat(missing.object().get("error").getAsString()).contains("operator token");
        assertThat(s.get("/api/v1/agents", "wrong").status()).isEqualTo(401);
        assertThat(s.post("/api/v1/commands", null, "{}").status()).isEqualTo(401);
        // an agent's token is not an operator's
        assertThat(s.get("/api/v1/agents", agent.token()).status()).isEqualTo(401);
    }

    @Test
    void requestsRefusedBeforeTheirBodyWasReadLeaveTheConnectionUsable() throws Exception {
        // the client keeps its connection: each refusal must be answered on it, and the next request too
        String body = "{\"agentId\":\"nobody\",\"action\":\"agent.ping\",\"params\":{\"pad\":\"" + "x".repeat(20_000) + "\"}}";
        for (int i = 0; i < 200; i++) {
            TestServer.Response rs = s.operatorPost("/api/v1/commands?wait=abc", body);
            assertThat(rs.status()).as("refusal %d", i).isEqualTo(400);
            assertThat(rs.object().get("error").getAsString()).contains("wait must be a number");
        }
        assertThat(s.operatorGet("/api/v1/agents").status()).isEqualTo(200);
    }

    @Test
    void badCommandRequestsAre4xxNamingTheField() throws Exception {
        assertError(s.operatorPost("/api/v1/commands", "{\"agentId\":\"op-agent\"}"), 400, "action is required");
        assertError(s.operatorPost("/api/v1/commands", "{\"agentId\":\"op-agent\",\"action\":\"ping\"}"), 400, "action must be a dotted name");
        assertError(s.operatorPost("/api/v1/commands", "{\"agentId\":\"op-agent\",\"action\":\"agent.ping\",\"params\":[1]}"), 400, "params must be a JSON object");
        assertError(s.operatorPost("/api/v1/commands", "{\"action\":\"agent.ping\"}"), 400, "agentId is required");
        assertError(s.operatorPost("/api/v1/commands", "{\"agentId\":\"op-agent\",\"all\":true,\"action\":\"agent.ping\"}"), 400, "either agentId or all");
        assertError(s.operatorPost("/api/v1/commands", "{\"agentId\":\"nobody\",\"action\":\"agent.ping\"}"), 404, "agentId 'nobody'");
        assertError(s.operatorPost("/api/v1/commands", "{\"agentId\":\"op-agent\",\"action\":\"agent.ping\",\"timeoutSeconds\":-5}"), 400, "timeoutSeconds");
        assertError(s.operatorPost("/api/v1/commands", "{\"agentId\":\"op-agent\",\"action\":\"agent.ping\",\"expiresAt\":\"tomorrow\"}"), 400, "expiresAt");
        assertError(s.operatorPost("/api/v1/commands", "{\"agentId\":\"op-agent\",\"action\":\"agent.ping\",\"expiresAt\":\"2000-01-01T00:00:00Z\"}"), 400, "expiresAt");
        assertError(s.operatorPost("/api/v1/commands", "{\"all\":true,\"action\":\"agent.ping\",\"id\":\"x1\"}"), 400, "id can be given only");
        assertError(s.operatorPost("/api/v1/commands", "{broken"), 400, "not valid JSON");
        assertError(s.operatorGet("/api/v1/commands/no-such-id"), 404, "no command");
        assertError(s.operatorGet("/api/v1/results?limit=zero"), 400, "limit");
        assertError(s.operatorGet("/api/v1/results?agent=nobody"), 404, "agent 'nobody'");
        assertError(s.operatorGet("/api/v1/nothing-here"), 404, "no such endpoint");
        assertError(s.send("DELETE", "/api/v1/agents", s.operatorToken, HttpRequest.BodyPublishers.noBody()), 405, "DELETE");
    }

    @Test
    void aGivenIdIsIdempotentForTheSameCommandAndAConflictOtherwise() throws Exception {
        String rq = "{\"agentId\":\"op-agent\",\"action\":\"agent.ping\",\"params\":{\"echo\":1},\"id\":\"7f0c0a4e-1111-4c4c-9d9d-000000000001\",\"timeoutSeconds\":30}";
        Response first = s.operatorPost("/api/v1/commands", rq);
        assertThat(first.status()).isEqualTo(201);
        Response again = s.operatorPost("/api/v1/commands", rq);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.object()).isEqualTo(first.object());
        assertError(s.operatorPost("/api/v1/commands", rq.replace("agent.ping", "agent.info")), 409, "already names another command");
        JsonObject view = s.commandView("7f0c0a4e-1111-4c4c-9d9d-000000000001");
        assertThat(view.get("timeoutSeconds").getAsInt()).isEqualTo(30);
        assertThat(view.get("result").isJsonNull()).isTrue();
        assertThat(view.get("createdAt").getAsString()).isNotEmpty();
    }

    @Test
    void allTrueMakesOneCommandPerAgent() throws Exception {
        s.enroll("op-agent-2");
        s.enroll("op-agent-3");
        Response rs = s.operatorPost("/api/v1/commands", "{\"all\":true,\"action\":\"agent.ping\"}");
        assertThat(rs.status()).isEqualTo(201);
        JsonArray commands = rs.object().getAsJsonArray("commands");
        assertThat(commands).hasSize(3);
        assertThat(commands.asList().stream().map(c -> c.getAsJsonObject().get("agentId").getAsString()))
            .containsExactlyInAnyOrder("op-agent", "op-agent-2", "op-agent-3");
        assertThat(commands.asList().stream().map(c -> c.getAsJsonObject().get("id").getAsString()).distinct()).hasSize(3);
    }

    @Test
    void aBodyThatIsNotAJarIsRefusedWith400() throws Exception {
        Response rs = s.send("POST", "/api/v1/bundles", s.operatorToken, HttpRequest.BodyPublishers.ofString("plain text, not a jar"));
        assertError(rs, 400, "not a jar");
        assertThat(s.operatorGet("/api/v1/bundles").json().getAsJsonArray()).isEmpty();
    }

    @Test
    void aJarWithoutBundleSymbolicNameIsRefusedWith400() throws Exception {
        Response rs = s.send("POST", "/api/v1/bundles", s.operatorToken, HttpRequest.BodyPublishers.ofByteArray(jar(null, null)));
        assertError(rs, 400, "Bundle-SymbolicName");
    }

    @Test
    void aJarWhoseManifestClaims2GiBIs400NamingTheManifest() throws Exception {
        byte[] jar = jar("plugin.example", "1.0.0");
        setManifestSize(jar, 0x80000000L);
        Response rs = s.send("POST", "/api/v1/bundles", s.operatorToken, HttpRequest.BodyPublishers.ofByteArray(jar));
        assertError(rs, 400, "META-INF/MANIFEST.MF");
        assertThat(rs.object().get("error").getAsString()).contains("2147483648");
        assertThat(s.operatorGet("/api/v1/bundles").json().getAsJsonArray()).isEmpty();
    }

    @Test
    void aJarWithAVeryBigManifestIs400NamingTheLimit() throws Exception {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Bundle-SymbolicName", "plugin.padded");
        for (int i = 0; i < 100_000; i++) mf.getMainAttributes().putValue("X-Pad-" + i, "p".repeat(60));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes, mf)) {
            out.putNextEntry(new JarEntry("plugin/Example.class"));
            out.write(new byte[] {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe});
            out.closeEntry();
        }
        Response rs = s.send("POST", "/api/v1/bundles", s.operatorToken, HttpRequest.BodyPublishers.ofByteArray(bytes.toByteArray()));
        assertError(rs, 400, "META-INF/MANIFEST.MF is larger than");
    }

    /** Sets the uncompressed size that the zip's central directory claims for the manifest. */
    private static void setManifestSize(byte[] zip, long size) {
        byte[] name = "META-INF/MANIFEST.MF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i + 46 < zip.length; i++) {
            if (zip[i] == 0x50 && zip[i + 1] == 0x4b && zip[i + 2] == 0x01 && zip[i + 3] == 0x02
                && java.util.Arrays.equals(zip, i + 46, i + 46 + name.length, name, 0, name.length)) {
                for (int b = 0; b < 4; b++) zip[i + 24 + b] = (byte) (size >>> (8 * b));
                return;
            }
        }
        throw new AssertionError("no central directory entry for the manifest");
    }

    @Test
    void anUploadedBundleIsListedAndServedToAgentsBySha256() throws Exception {
        byte[] jar = jar("plugin.example;singleton:=true", "1.2.3");
        Response rs = s.send("POST", "/api/v1/bundles", s.operatorToken, HttpRequest.BodyPublishers.ofByteArray(jar));
        assertThat(rs.status()).as(rs.body()).isEqualTo(201);
        String sha = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(jar));
        assertThat(rs.object().get("sha256").getAsString()).isEqualTo(sha);
        assertThat(rs.object().get("bsn").getAsString()).isEqualTo("plugin.example");
        assertThat(rs.object().get("version").getAsString()).isEqualTo("1.2.3");
        assertThat(rs.object().get("size").getAsLong()).isEqualTo(jar.length);
        assertThat(java.nio.file.Files.exists(dir.resolve("bundles").resolve(sha + ".jar"))).isTrue();
        assertThat(s.operatorGet("/api/v1/bundles").json().getAsJsonArray()).hasSize(1);

        var download = s.http.send(java.net.http.HttpRequest.newBuilder(s.base.resolve("/agent/v1/bundles/" + sha))
            .header("Authorization", "Bearer " + agent.token()).build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.headers().firstValue("Content-Type")).hasValue("application/java-archive");
        assertThat(download.body()).isEqualTo(jar);
        assertThat(download.headers().firstValue("ETag")).hasValue("\"" + sha + "\"");
        // a resumed download (docs/protocol.md §7.1)
        var tail = s.http.send(java.net.http.HttpRequest.newBuilder(s.base.resolve("/agent/v1/bundles/" + sha))
            .header("Authorization", "Bearer " + agent.token()).header("Range", "bytes=10-").header("If-Range", "\"" + sha + "\"").build(),
            java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        assertThat(tail.statusCode()).isEqualTo(206);
        assertThat(tail.headers().firstValue("Content-Range")).hasValue("bytes 10-" + (jar.length - 1) + "/" + jar.length);
        assertThat(tail.body()).isEqualTo(java.util.Arrays.copyOfRange(jar, 10, jar.length));
        assertThat(s.get("/agent/v1/bundles/" + sha, null).status()).isEqualTo(401);
        assertThat(s.get("/agent/v1/bundles/" + "0".repeat(64), agent.token()).status()).isEqualTo(404);
    }

    @Test
    void resultsAreListedNewestFirstWithALimit() throws Exception {
        for (int i = 0; i < 3; i++) {
            s.post("/agent/v1/reports", agent.token(), "{\"results\":[" + TestServer.WsAgent.result("r" + i, "succeeded") + "]}");
        }
        JsonArray two = s.operatorGet("/api/v1/results?agent=op-agent&limit=2").json().getAsJsonArray();
        assertThat(two).hasSize(2);
        assertThat(two.get(0).getAsJsonObject().get("id").getAsString()).isEqualTo("r2");
        assertThat(two.get(1).getAsJsonObject().get("id").getAsString()).isEqualTo("r1");
        assertThat(two.get(0).getAsJsonObject().get("offline").getAsBoolean()).as("a report's result is no command's").isTrue();
        // the query answers for commands: a command's result is found, an offline result (an offline run's id) is not
        String id = s.command(agent.agentId(), "agent.ping", "{}");
        s.post("/agent/v1/checkin", agent.token(), "{\"results\":[" + TestServer.WsAgent.result(id, "succeeded") + "]}");
        JsonObject q = s.operatorPost("/api/v1/results/query", "{\"ids\":[\"" + id + "\",\"r0\",\"missing\"]}").object();
        assertThat(q.getAsJsonArray("results")).hasSize(1);
        assertThat(q.getAsJsonArray("results").get(0).getAsJsonObject().get("id").getAsString()).isEqualTo(id);
        assertThat(q.getAsJsonArray("results").get(0).getAsJsonObject().has("offline")).isFalse();
    }

    private static void assertError(Response rs, int status, String contains) {
        assertThat(rs.status()).as(rs.body()).isEqualTo(status);
        assertThat(rs.object().get("error").getAsString()).contains(contains);
    }

    /** A jar with the given manifest headers (null: left out). */
    static byte[] jar(String bsn, String version) throws Exception {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (bsn != null) mf.getMainAttributes().putValue("Bundle-SymbolicName", bsn);
        if (version != null) mf.getMainAttributes().putValue("Bundle-Version", version);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes, mf)) {
            out.putNextEntry(new JarEntry("plugin/Example.class"));
            out.write(new byte[] {(byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe});
            out.closeEntry();
        }
        return bytes.toByteArray();
    }
}
