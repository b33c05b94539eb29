package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** Offline mode of the exported agent: task file in, PROTOCOL.md §8 report out, nothing run twice. */
class OfflineModeIT {
    static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static Map<String, JsonObject> results(Path report) throws Exception {
        JsonObject doc = JsonParser.parseString(Files.readString(report)).getAsJsonObject();
        assertThat(doc.get("agentId").getAsString()).isNotBlank();
        assertThat(doc.getAsJsonArray("events")).isEmpty();
        Map<String, JsonObject> out = new LinkedHashMap<>();
        for (JsonElement e : doc.getAsJsonArray("results")) out.put(e.getAsJsonObject().get("id").getAsString(), e.getAsJsonObject());
        return out;
    }

    @Test
    void theSameTaskFileTwiceRunsNothingTwice() throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": ["
            + "{\"id\": \"11111111-0000-4000-8000-000000000001\", \"action\": \"agent.ping\", \"params\": {\"echo\": [1, \"two\"]}},"
            + "{\"id\": \"11111111-0000-4000-8000-000000000002\", \"action\": \"agent.ping\", \"params\": {\"sleepMs\": 300}},"
            + "{\"id\": \"11111111-0000-4000-8000-000000000003\", \"action\": \"agent.info\"}]}");
        Path data = dir.resolve("data");
        Path report1 = dir.resolve("report1.json");
        Path report2 = dir.resolve("report2.json");

        AgentProcess first = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--report",
            report1.toString(), "--data-dir", data.toString());
        assertThat(first.exitCode()).as(first.stderr()).isZero();
        assertThat(first.stderr()).contains("ready: agent").contains("mode offline");
        AgentProcess second = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--report",
            report2.toString(), "--data-dir", data.toString());
        assertThat(second.exitCode()).as(second.stderr()).isZero();
        assertThat(second.stderr()).contains("3 commands, 3 answered from the store");

        Map<String, JsonObject> r1 = results(report1);
        Map<String, JsonObject> r2 = results(report2);
        assertThat(r1.keySet()).containsExactly("11111111-0000-4000-8000-000000000001",
            "11111111-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000003");
        assertThat(r1.values()).allSatisfy(r -> assertThat(r.get("status").getAsString()).isEqualTo("succeeded"));
        assertThat(r1.get("11111111-0000-4000-8000-000000000001").getAsJsonObject("data").get("echo").toString())
            .isEqualTo("[1,\"two\"]");
        assertThat(r1.get("11111111-0000-4000-8000-000000000003").getAsJsonObject("data").get("mode").getAsString())
            .isEqualTo("offline");
        // the stored results, not new runs: same start and finish times
        assertThat(r2).isEqualTo(r1);
    }

    @Test
    void failuresAreReportedAndTheExitCodeSaysSo() throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": ["
            + "{\"id\": \"22222222-0000-4000-8000-000000000001\", \"action\": \"nope.missing\"},"
            + "{\"id\": \"22222222-0000-4000-8000-000000000002\", \"action\": \"agent.ping\", \"params\": {\"sleepMs\": \"later\"}},"
            + "{\"id\": \"22222222-0000-4000-8000-000000000003\", \"action\": \"agent.ping\", \"expiresAt\": \"2020-01-01T00:00:00Z\"},"
            + "{\"id\": \"22222222-0000-4000-8000-000000000004\", \"action\": \"agent.ping\", \"params\": {\"sleepMs\": 10000}, \"timeoutSeconds\": 1}]}");
        AgentProcess a = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--data-dir",
            dir.resolve("data").toString());

        assertThat(a.exitCode()).isEqualTo(1);
        JsonObject doc = JsonParser.parseString(a.stdout()).getAsJsonObject();
        Map<String, String> status = new LinkedHashMap<>();
        Map<String, String> error = new LinkedHashMap<>();
        Map<String, String> errorCode = new LinkedHashMap<>();
        for (JsonElement e : doc.getAsJsonArray("results")) {
            JsonObject r = e.getAsJsonObject();
            status.put(r.get("id").getAsString().substring(34), r.get("status").getAsString());
            error.put(r.get("id").getAsString().substring(34), r.get("error").getAsString());
            errorCode.put(r.get("id").getAsString().substring(34), r.get("errorCode").getAsString());
        }
        assertThat(status).containsExactly(Map.entry("01", "rejected"), Map.entry("02", "rejected"),
            Map.entry("03", "rejected"), Map.entry("04", "timed_out"));
        // every result that did not succeed says why in a code a server can act on (agent.api 1.2)
        assertThat(errorCode).containsExactly(Map.entry("01", "unknown_action"), Map.entry("02", "invalid_param"),
            Map.entry("03", "expired"), Map.entry("04", "timed_out"));
        assertThat(error.get("01")).isEqualTo("unknown action 'nope.missing'; known actions: agent.info, agent.ping, backup.create,"
            + " backup.delete, backup.list, backup.restore, backup.verify, dataset.install, dataset.list,"
            + " dataset.remove, disk.extend, disk.initialize, disk.list, file.delete, file.get, file.put,"
            + " file.stat, health.inventory, health.report, package.install, package.inventory, package.list,"
            + " package.remove, package.updates, package.upgrade, plugin.install, plugin.list, plugin.remove,"
            + " plugin.upgrade, script.list, script.run");
        assertThat(error.get("02")).isEqualTo("param 'sleepMs' must be an integer, got 'later'");
        assertThat(error.get("03")).isEqualTo("expired");
        assertThat(error.get("04")).startsWith("timed out after 1 s");
    }

    @Test
    void aMalformedTaskFileRunsNothingAndNamesTheEntry() throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": ["
            + "{\"id\": \"33333333-0000-4000-8000-000000000001\", \"action\": \"agent.ping\"},"
            + "{\"action\": \"agent.ping\"}]}");
        AgentProcess a = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--data-dir",
            dir.resolve("data").toString());
        assertThat(a.exitCode()).isEqualTo(2);
        assertThat(a.stderr()).contains("commands[1].id is required");
        assertThat(a.stdout()).isEmpty();
    }

    @Test
    void anOperatorPluginInstalledOfflineGetsItsSettingsFromTheConfigFile() throws Exception {
        Path paris = Path.of("/usr/share/zoneinfo/Europe/Paris");
        assertThat(paris).as("a zone file of the host (package tzdata)").isRegularFile();
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("etc"));
        Files.copy(paris, Files.createDirectories(root.resolve("usr/share/zoneinfo/Europe")).resolve("Paris"));
        Path config = AgentProcess.write(dir.resolve("config.json"),
            "{\"plugins\": {\"settings\": {\"timezone\": {\"root\": \"" + root + "\"}}}}");
        // the example plugin is not in the default runtime: installed from a local jar first, in its own run
        Path jar = Path.of(System.getProperty("plugin.timezone.jar"));
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(jar)));
        Path install = AgentProcess.write(dir.resolve("install.json"), "{\"commands\": [{\"id\": \"44444444-0000-4000-8000-000000000000\","
            + " \"action\": \"plugin.install\", \"params\": {\"url\": \"" + jar.toUri() + "\", \"sha256\": \"" + sha + "\"}}]}");
        AgentProcess installed = AgentProcess.run(LIMIT, "offline", "--tasks", install.toString(), "--config", config.toString(),
            "--data-dir", dir.resolve("data").toString());
        assertThat(installed.exitCode()).as(installed.stdout() + installed.stderr()).isZero();
        // one concurrency key: the set runs before the get
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": ["
            + "{\"id\": \"44444444-0000-4000-8000-000000000001\", \"action\": \"timezone.set\", \"params\": {\"zone\": \"Europe/Paris\"}},"
            + "{\"id\": \"44444444-0000-4000-8000-000000000002\", \"action\": \"timezone.get\"}]}");

        AgentProcess a = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--config", config.toString(),
            "--data-dir", dir.resolve("data").toString());

        assertThat(a.exitCode()).as(a.stdout() + a.stderr()).isZero();
        JsonObject doc = JsonParser.parseString(a.stdout()).getAsJsonObject();
        JsonObject set = doc.getAsJsonArray("results").get(0).getAsJsonObject().getAsJsonObject("data");
        JsonObject get = doc.getAsJsonArray("results").get(1).getAsJsonObject().getAsJsonObject("data");
        assertThat(set.get("method").getAsString()).isEqualTo("symlink");
        assertThat(get.get("zone").getAsString()).isEqualTo("Europe/Paris");
        assertThat(get.get("root").getAsString()).isEqualTo(root.toString());
        assertThat(Files.readSymbolicLink(root.resolve("etc/localtime")).toString()).isEqualTo("../usr/share/zoneinfo/Europe/Paris");
        assertThat(Files.readString(root.resolve("etc/timezone"))).isEqualTo("Europe/Paris\n");
    }

    @Test
    void aBadConfigStopsTheAgentWithExit2NamingTheKey() throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": []}");
        Path config = AgentProcess.write(dir.resolve("config.json"), "{\"max_concurrent_commands\": 0}");
        AgentProcess a = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--config", config.toString(),
            "--data-dir", dir.resolve("data").toString());
        assertThat(a.exitCode()).isEqualTo(2);
        assertThat(a.stderr()).contains("config key 'max_concurrent_commands'").contains("must be 1..64, got 0");

        AgentProcess.write(config, "{\n  \"log_level\": \"info\"\n  \"transport\": \"poll\"\n}");
        AgentProcess b = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--config", config.toString(),
            "--data-dir", dir.resolve("data").toString());
        assertThat(b.exitCode()).isEqualTo(2);
        assertThat(b.stderr()).contains("not valid JSON").contains("line 3 column");
    }
}
