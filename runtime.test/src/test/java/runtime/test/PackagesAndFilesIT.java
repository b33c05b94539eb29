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

/**
 * plugin.package and plugin.files in the exported agent (they are in the default runtime), run offline: their typed
 * settings come from the config file and are checked when the agent starts, the agent's own paths (AgentPaths) are
 * refused to the file actions, dry runs reach them, and params are checked before anything runs.
 */
class PackagesAndFilesIT {
    static final Duration LIMIT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    private Map<String, JsonObject> run(String config, String tasksJson) throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": [" + tasksJson + "]}");
        Path cfg = AgentProcess.write(dir.resolve("config.json"), config);
        AgentProcess a = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--config", cfg.toString(),
            "--data-dir", dir.resolve("data").toString());
        assertThat(a.exitCode()).as(a.stderr()).isIn(0, 1);
        JsonObject doc = JsonParser.parseString(a.stdout()).getAsJsonObject();
        Map<String, JsonObject> out = new LinkedHashMap<>();
        for (JsonElement e : doc.getAsJsonArray("results")) {
            JsonObject r = e.getAsJsonObject();
            out.put(r.get("id").getAsString().substring(34), r);
        }
        return out;
    }

    private static String command(String n, String action, String params, boolean dryRun) {
        return "{\"id\": \"55555555-0000-4000-8000-0000000000" + n + "\", \"action\": \"" + action + "\", \"params\": " + params
            + (dryRun ? ", \"dryRun\": true" : "") + "}";
    }

    @Test
    void fileActionsFollowTheConfiguredPolicyAndNeverTouchTheAgentsOwnFiles() throws Exception {
        Path allowed = Files.createDirectories(dir.toRealPath().resolve("allowed"));
        Path conf = allowed.resolve("app/app.conf");
        Path creds = dir.toRealPath().resolve("data/credentials.json");
        String config = "{\"plugins\": {\"settings\": {\"file\": {\"allow\": [\"" + allowed + "\", \"" + dir.toRealPath() + "/data\"]}}}}";
        Map<String, JsonObject> r = run(config, String.join(",",
            command("01", "file.put", "{\"path\": \"" + conf + "\", \"content\": \"a = 1\\n\", \"mode\": \"0600\", \"createDirs\": true}", false),
            command("02", "file.put", "{\"path\": \"" + conf + "\", \"content\": \"a = 1\\n\", \"mode\": \"0600\"}", false),
            command("03", "file.put", "{\"path\": \"" + conf + "\", \"content\": \"a = 2\\n\"}", true),
            command("04", "file.get", "{\"path\": \"" + conf + "\"}", false),
            command("05", "file.put", "{\"path\": \"" + creds + "\", \"content\": \"{}\"}", false),
            command("06", "file.put", "{\"path\": \"/etc/outpost/config.json\", \"content\": \"{}\"}", false),
            command("07", "file.delete", "{\"path\": \"" + conf + "\"}", true)));

        assertThat(r.get("01").get("status").getAsString()).as(r.get("01").toString()).isEqualTo("succeeded");
        assertThat(r.get("01").getAsJsonObject("data").get("changed").getAsBoolean()).isTrue();
        assertThat(r.get("02").getAsJsonObject("data").get("changed").getAsBoolean()).isFalse();
        JsonObject dry = r.get("03").getAsJsonObject("data");
        assertThat(dry.get("dryRun").getAsBoolean()).isTrue();
        assertThat(dry.get("diff").getAsString()).contains("-a = 1\n+a = 2\n");
        assertThat(r.get("04").getAsJsonObject("data").get("content").getAsString()).isEqualTo("a = 1\n");
        assertThat(r.get("04").getAsJsonObject("data").get("mode").getAsString()).isEqualTo("0600");
        // the data dir comes from the running agent (AgentPaths), and stays refused even when the settings allow it
        assertThat(r.get("05").get("status").getAsString()).isEqualTo("rejected");
        assertThat(r.get("05").get("errorCode").getAsString()).isEqualTo("refused");
        assertThat(r.get("05").get("error").getAsString()).contains("the agent's data directory");
        assertThat(r.get("06").get("errorCode").getAsString()).isEqualTo("refused");
        assertThat(r.get("07").getAsJsonObject("data").get("dryRun").getAsBoolean()).isTrue();
        assertThat(Files.readString(conf)).as("the dry runs changed nothing").isEqualTo("a = 1\n");
        assertThat(creds).doesNotExist();
    }

    @Test
    void packageActionsReadTheHostAndCheckNamesFirst() throws Exception {
        String config = "{\"plugins\": {\"settings\": {\"package\": {\"manager\": \"apt\", \"lock_wait_seconds\": 5}}}}";
        Map<String, JsonObject> r = run(config, String.join(",",
            command("01", "package.list", "{\"names\": [\"bash\", \"dpkg\"]}", false),
            command("02", "package.install", "{\"names\": [\"bash; reboot\"]}", false),
            command("03", "package.install", "{\"names\": [\"bash\"]}", true),
            command("04", "package.inventory", "{}", false)));

        JsonObject list = r.get("01").getAsJsonObject("data");
        assertThat(list.get("manager").getAsString()).isEqualTo("apt");
        assertThat(list.get("count").getAsInt()).isEqualTo(2);
        assertThat(r.get("02").get("status").getAsString()).isEqualTo("rejected");
        assertThat(r.get("02").get("errorCode").getAsString()).isEqualTo("invalid_param");
        assertThat(r.get("02").get("error").getAsString()).startsWith("param 'names' 'bash; reboot' is not a Debian package name");
        JsonObject dry = r.get("03").getAsJsonObject("data");
        assertThat(dry.get("changed").getAsBoolean()).as("bash is installed: nothing to do").isFalse();
        assertThat(dry.get("dryRun").getAsBoolean()).isTrue();
        assertThat(r.get("04").getAsJsonObject("data").get("checksum").getAsString()).startsWith("sha256:");
    }

    @Test
    void aBadSectionOfEitherPluginStopsTheAgentNamingTheKey() throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": []}");
        Path config = AgentProcess.write(dir.resolve("config.json"),
            "{\"plugins\": {\"settings\": {\"package\": {\"lock_wait_seconds\": -1}}}}");
        AgentProcess a = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--config", config.toString(),
            "--data-dir", dir.resolve("data").toString());
        assertThat(a.exitCode()).isEqualTo(2);
        assertThat(a.stderr()).contains("plugins.settings.package.lock_wait_seconds").contains("must be 0..3600, got -1");

        AgentProcess.write(config, "{\"plugins\": {\"settings\": {\"file\": {\"allow\": [\"etc\"]}}}}");
        AgentProcess b = AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--config", config.toString(),
            "--data-dir", dir.resolve("data").toString());
        assertThat(b.exitCode()).isEqualTo(2);
        assertThat(b.stderr()).contains("plugins.settings.file.allow[0]").contains("must be an absolute path, got 'etc'");
    }
}
