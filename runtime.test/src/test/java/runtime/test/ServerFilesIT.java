package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Files between the exported agent's plugins and the reference server through agent.api's ServerFiles
 * (docs/protocol.md §7.1), with the agent's own credentials and TLS settings and nothing configured in the plugins:
 * a backup sent to the server, listed there by the operator and by the agent, and restored byte for byte after the
 * host's copy and the backed-up tree are gone; a data set and a configuration file installed from paths on the server.
 */
class ServerFilesIT {
    static final Duration T = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private AgentProcess agent(ServerProcess server, String extra) throws Exception {
        Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket", extra));
        return AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString());
    }

    private static JsonObject one(List<JsonObject> results) {
        assertThat(results).as("one result").hasSize(1);
        return results.get(0);
    }

    private static JsonObject ok(List<JsonObject> results) {
        JsonObject r = one(results);
        assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
        return r.getAsJsonObject("data");
    }

    @Test
    void aBackupSentToTheServerRestoresByteForByteAfterTheHostsCopyIsGone() throws Exception {
        Path src = ScriptAndBackupIT.sourceTree(dir.resolve("src"));
        Map<String, String> before = ScriptAndBackupIT.describe(src);
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0); AgentProcess agent = agent(server, "")) {
            String agentId = server.awaitAgent(T, true);

            JsonObject created = ok(server.send(T, agentId, "backup.create", "{\"paths\": [\"" + src + "\"], \"name\": \"vm\","
                + " \"destination\": \"server\"}"));
            assertThat(created.get("destination").getAsString()).isEqualTo("server");
            String archive = created.get("archive").getAsString();
            String sha256 = created.get("sha256").getAsString();
            assertThat(created.get("files").getAsLong()).isEqualTo(before.size());
            assertThat(created.getAsJsonArray("sent")).hasSize(1);
            JsonObject sent = created.getAsJsonArray("sent").get(0).getAsJsonObject();
            assertThat(sent.get("archive").getAsString()).isEqualTo(archive);
            assertThat(sent.getAsJsonObject("record").get("sha256").getAsString()).isEqualTo(sha256);
            // sent, checked by the server, and not kept on the host
            assertThat(archives(dir.resolve("agent/plugins-data/backup/to-server"))).isEmpty();

            // the operator sees it under this agent
            AgentProcess ctl = server.ctl(T, "backups", "--agent", agentId);
            assertThat(ctl.exitCode()).as(ctl.stderr()).isZero();
            assertThat(ctl.stdout()).contains(archive).contains(agentId);
            // and so does the agent
            JsonObject listed = ok(server.send(T, agentId, "backup.list", "{\"destination\": \"server\"}"));
            assertThat(listed.getAsJsonArray("backups")).hasSize(1);
            JsonObject rec = listed.getAsJsonArray("backups").get(0).getAsJsonObject();
            assertThat(rec.get("name").getAsString()).isEqualTo(archive);
            assertThat(rec.get("sha256").getAsString()).isEqualTo(sha256);
            assertThat(rec.getAsJsonObject("meta").get("files").getAsLong()).isEqualTo(before.size());

            // the host loses the tree; the server's copy brings it back
            deleteTree(src);
            Path target = dir.resolve("restored");
            JsonObject restored = ok(server.send(T, agentId, "backup.restore", "{\"destination\": \"server\", \"archive\": \""
                + archive + "\", \"target\": \"" + target + "\"}"));
            assertThat(restored.get("source").getAsString()).isEqualTo("server");
            assertThat(ScriptAndBackupIT.describe(target.resolve(src.toString().substring(1)))).isEqualTo(before);
            assertThat(archives(dir.resolve("agent/plugins-data/backup/from-server"))).as("the fetched copy is not kept").isEmpty();

            // the default listing shows the server's copy beside the (empty) local destination
            JsonObject both = ok(server.send(T, agentId, "backup.list"));
            assertThat(both.getAsJsonArray("backups")).isEmpty();
            assertThat(both.getAsJsonArray("server").get(0).getAsJsonObject().get("sha256").getAsString()).isEqualTo(sha256);
            // a sha256 names the backup wherever it is kept: with no local copy, the server's
            JsonObject bySha = ok(server.send(T, agentId, "backup.restore", "{\"archive\": \""
                + sha256 + "\", \"target\": \"" + dir.resolve("again") + "\"}"));
            assertThat(bySha.get("source").getAsString()).isEqualTo("server");
            assertThat(bySha.get("files").getAsLong()).isEqualTo(before.size());
            // a name the server does not hold is not found
            JsonObject missing = one(server.send(T, agentId, "backup.restore", "{\"destination\": \"server\", \"archive\":"
                + " \"vm-20000101T000000.000Z.tar.gz\", \"target\": \"" + dir.resolve("none") + "\"}"));
            assertThat(missing.get("status").getAsString()).isEqualTo("rejected");
            assertThat(missing.get("errorCode").getAsString()).isEqualTo("not_found");
            assertThat(dir.resolve("none")).doesNotExist();
        }
    }

    @Test
    void aDataSetAndAFileComeFromPathsOnTheServerWithTheAgentsOwnCredentials() throws Exception {
        Path allowed = Files.createDirectories(dir.resolve("etc-app"));
        // no ca_file for either plugin: the agent's own TLS settings reach its server
        String extra = "\"health\": {\"interval_seconds\": 0}, \"plugins\": {\"settings\": {\"file\": {\"allow\": [\""
            + allowed.toRealPath() + "\"]}}}";
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0); AgentProcess agent = agent(server, extra)) {
            String agentId = server.awaitAgent(T, true);
            byte[] conf = "listen = 8443\nworkers = 4\n".getBytes(StandardCharsets.UTF_8);
            Path file = Files.write(dir.resolve("app.conf"), conf);
            AgentProcess up = server.ctl(T, "dataset", "upload", file.toString());
            assertThat(up.exitCode()).as(up.stderr()).isZero();
            String sha = JsonParser.parseString(up.stdout()).getAsJsonObject().get("sha256").getAsString();
            assertThat(sha).isEqualTo(sha256(conf));
            String path = "/agent/v1/datasets/" + sha + "/app.conf";

            Path put = allowed.toRealPath().resolve("app.conf");
            JsonObject written = ok(server.send(T, agentId, "file.put", "{\"path\": \"" + put + "\", \"url\": \"" + path
                + "\", \"sha256\": \"" + sha + "\"}"));
            assertThat(written.get("changed").getAsBoolean()).isTrue();
            assertThat(Files.readAllBytes(put)).isEqualTo(conf);

            Path target = dir.resolve("srv-data/conf");
            Files.createDirectories(target.getParent());
            JsonObject installed = ok(server.send(T, agentId, "dataset.install", "{\"name\": \"conf\", \"version\": \"1\", \"url\": \""
                + path + "\", \"sha256\": \"" + sha + "\", \"target\": \"" + target + "\", \"format\": \"file\"}"));
            assertThat(installed.get("changed").getAsBoolean()).isTrue();
            try (Stream<Path> s = Files.walk(target.toRealPath())) {
                assertThat(s.filter(Files::isRegularFile).toList()).singleElement()
                    .satisfies(p -> assertThat(Files.readAllBytes(p)).isEqualTo(conf));
            }

            // a path the server does not have: not found, and nothing written
            String none = "/agent/v1/datasets/" + "0".repeat(64) + "/app.conf";
            JsonObject missing = one(server.send(T, agentId, "file.put", "{\"path\": \"" + allowed.toRealPath().resolve("other.conf")
                + "\", \"url\": \"" + none + "\", \"sha256\": \"" + "0".repeat(64) + "\"}"));
            assertThat(missing.get("status").getAsString()).as(missing.toString()).isEqualTo("failed");
            assertThat(missing.get("errorCode").getAsString()).isEqualTo("not_found");
            assertThat(allowed.resolve("other.conf")).doesNotExist();
        }
    }

    private static List<Path> archives(Path d) throws Exception {
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> p.getFileName().toString().contains(".tar")).toList();
        }
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
