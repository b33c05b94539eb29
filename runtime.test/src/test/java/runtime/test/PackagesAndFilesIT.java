package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * plugin.package and plugin.files in the exported agent (they are in the default runtime): sent through the reference
 * server to a running agent (packages from an apt repository made at test time, files under the configured policy),
 * and offline, where their typed settings come from the config file and are checked when the agent starts, the
 * agent's own paths (AgentPaths) are refused to the file actions, dry runs reach them, and params are checked before
 * anything runs.
 */
class PackagesAndFilesIT {
    static final Duration LIMIT = Duration.ofSeconds(120);
    static final Duration T = Duration.ofSeconds(120);
    static final String HELLO = "outpost-e2e-hello";

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

    private static JsonObject one(List<JsonObject> results) {
        assertThat(results).hasSize(1);
        return results.get(0);
    }

    private static JsonObject succeeded(List<JsonObject> results) {
        JsonObject r = one(results);
        assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
        return r.getAsJsonObject("data");
    }

    @Test
    void packagesAndFilesThroughTheServerOnARunningAgent() throws Exception {
        Path root = dir.toRealPath();
        LocalAptRepo apt = new LocalAptRepo(Files.createDirectories(root.resolve("apt")), "1.0", HELLO);
        LocalAptRepo.purge(HELLO); // left over by an earlier run that was killed
        Path allowed = Files.createDirectories(root.resolve("allowed"));
        Path outside = Files.createDirectories(root.resolve("outside"));
        String settings = "\"plugins\": {\"settings\": {\"package\": {\"manager\": \"apt\", \"apt_config\": \"" + apt.aptConf
            + "\", \"lock_wait_seconds\": 30}, \"file\": {\"allow\": [\"" + allowed + "\"]}}}";
        try (ServerProcess server = ServerProcess.start(root.resolve("server"), 0);
             AgentProcess agent = AgentProcess.start("run", "--config",
                 AgentProcess.write(root.resolve("agent.json"), server.agentConfig("websocket", settings)).toString(),
                 "--data-dir", root.resolve("agent").toString())) {
            String id = server.awaitAgent(T, true);
            String install = "{\"names\": [\"" + HELLO + "\"]}";

            // a dry run does not refresh the package lists: package.updates fetches them from the repository first
            assertThat(succeeded(server.send(T, id, "package.updates", "{}")).get("refreshed").getAsBoolean()).isTrue();
            JsonObject dry = succeeded(server.send(T, id, "package.install", install, "--dry-run"));
            assertThat(dry.get("dryRun").getAsBoolean()).isTrue();
            assertThat(dry.get("changed").getAsBoolean()).as(dry.toString()).isTrue();
            assertThat(LocalAptRepo.installedVersion(HELLO)).as("a dry run installs nothing").isNull();

            JsonObject installed = succeeded(server.send(T, id, "package.install", install));
            assertThat(installed.get("changed").getAsBoolean()).isTrue();
            JsonObject change = installed.getAsJsonArray("packages").get(0).getAsJsonObject();
            assertThat(change.get("name").getAsString()).isEqualTo(HELLO);
            assertThat(change.get("to").getAsString()).isEqualTo("1.0");
            assertThat(LocalAptRepo.installedVersion(HELLO)).isEqualTo("1.0");
            assertThat(succeeded(server.send(T, id, "package.install", install)).get("changed").getAsBoolean())
                .as("installed already").isFalse();

            JsonObject bad = one(server.send(T, id, "package.install", "{\"names\": [\"" + HELLO + "$(reboot)\"]}"));
            assertThat(bad.get("status").getAsString()).isEqualTo("rejected");
            assertThat(bad.get("errorCode").getAsString()).isEqualTo("invalid_param");
            assertThat(bad.get("error").getAsString()).startsWith("param 'names' '" + HELLO + "$(reboot)' is not a Debian package name");
            JsonObject unknown = one(server.send(T, id, "package.install", "{\"names\": [\"outpost-e2e-nonexistent\"], \"refresh\": false}"));
            assertThat(unknown.get("status").getAsString()).isEqualTo("failed");
            assertThat(unknown.get("errorCode").getAsString()).isEqualTo("not_found");
            assertThat(unknown.get("error").getAsString()).contains("outpost-e2e-nonexistent");

            String remove = "{\"names\": [\"" + HELLO + "\"], \"purge\": true}";
            assertThat(succeeded(server.send(T, id, "package.remove", remove, "--dry-run")).get("dryRun").getAsBoolean()).isTrue();
            assertThat(LocalAptRepo.installedVersion(HELLO)).as("a dry run removes nothing").isEqualTo("1.0");
            assertThat(succeeded(server.send(T, id, "package.remove", remove)).get("changed").getAsBoolean()).isTrue();
            assertThat(LocalAptRepo.installedVersion(HELLO)).isNull();

            Path conf = allowed.resolve("app/app.conf");
            String put = "{\"path\": \"" + conf + "\", \"content\": \"port = 80\\n\", \"mode\": \"0640\", \"createDirs\": true}";
            JsonObject written = succeeded(server.send(T, id, "file.put", put));
            assertThat(written.get("changed").getAsBoolean()).isTrue();
            assertThat(written.get("size").getAsLong()).isEqualTo(10);
            assertThat(Files.readString(conf)).isEqualTo("port = 80\n");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(conf))).isEqualTo("rw-r-----");
            assertThat(succeeded(server.send(T, id, "file.put", put)).get("changed").getAsBoolean()).as("same content and mode").isFalse();

            JsonObject got = succeeded(server.send(T, id, "file.get", "{\"path\": \"" + conf + "\"}"));
            assertThat(got.get("content").getAsString()).isEqualTo("port = 80\n");
            assertThat(got.get("sha256").getAsString()).isEqualTo(written.get("sha256").getAsString());
            JsonObject stat = succeeded(server.send(T, id, "file.stat", "{\"path\": \"" + conf + "\"}"));
            assertThat(stat.get("exists").getAsBoolean()).isTrue();
            assertThat(stat.get("mode").getAsString()).isEqualTo("0640");
            assertThat(stat.get("owner").getAsString()).isEqualTo("root");

            Path escape = outside.resolve("evil.conf");
            JsonObject refused = one(server.send(T, id, "file.put", "{\"path\": \"" + escape + "\", \"content\": \"x\"}"));
            assertThat(refused.get("status").getAsString()).isEqualTo("rejected");
            assertThat(refused.get("errorCode").getAsString()).isEqualTo("refused");
            assertThat(refused.get("error").getAsString()).contains(escape.toString());
            assertThat(escape).doesNotExist();

            String delete = "{\"path\": \"" + conf + "\"}";
            assertThat(succeeded(server.send(T, id, "file.delete", delete, "--dry-run")).get("dryRun").getAsBoolean()).isTrue();
            assertThat(conf).as("a dry run deletes nothing").exists();
            assertThat(succeeded(server.send(T, id, "file.delete", delete)).get("changed").getAsBoolean()).isTrue();
            assertThat(conf).doesNotExist();
            assertThat(succeeded(server.send(T, id, "file.stat", delete)).get("exists").getAsBoolean()).isFalse();
        } finally {
            LocalAptRepo.purge(HELLO);
        }
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
