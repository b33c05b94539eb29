package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * What agent.api 1.2 adds, through the exported agent in offline mode: typed settings checked early (a built-in
 * plugin's section at start, an installed plugin's at install), dry runs, error codes, and events emitted by a plugin
 * installed at runtime landing in the report.
 */
class AgentApi12IT {
    static final Duration LIMIT = Duration.ofSeconds(90);
    static final Path ECHO = Path.of(System.getProperty("plugin.echo.jar"));

    @TempDir
    Path dir;

    private static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    private static String install(String id) throws Exception {
        return "{\"id\": \"" + id + "\", \"action\": \"plugin.install\", \"params\": {\"url\": \"" + ECHO.toUri()
            + "\", \"sha256\": \"" + sha256(ECHO) + "\"}}";
    }

    private AgentProcess offline(String config, String... commands) throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": [" + String.join(",", commands) + "]}");
        Path cfg = AgentProcess.write(dir.resolve("config.json"), config);
        return AgentProcess.run(LIMIT, "offline", "--tasks", tasks.toString(), "--report", dir.resolve("report.json").toString(),
            "--config", cfg.toString(), "--data-dir", dir.resolve("data").toString());
    }

    private JsonObject report() throws Exception {
        return JsonParser.parseString(Files.readString(dir.resolve("report.json"))).getAsJsonObject();
    }

    private Map<String, JsonObject> results() throws Exception {
        Map<String, JsonObject> out = new LinkedHashMap<>();
        for (JsonElement e : report().getAsJsonArray("results")) out.put(e.getAsJsonObject().get("id").getAsString(), e.getAsJsonObject());
        return out;
    }

    @Test
    void aBadKeyInABuiltInPluginsSectionStopsTheAgentNamingIt() throws Exception {
        AgentProcess a = offline("{\"disk\": {\"fstabb\": \"/etc/fstab\"}}",
            "{\"id\": \"b1\", \"action\": \"agent.ping\"}");
        assertThat(a.exitCode()).as(a.stderr()).isEqualTo(2);
        assertThat(a.stderr()).contains("config key 'disk.fstabb'").contains("is unknown (known: fstab)")
            .contains(dir.resolve("config.json").toString());
        assertThat(dir.resolve("report.json")).doesNotExist();

        AgentProcess relative = offline("{\"disk\": {\"fstab\": \"etc/fstab\"}}", "{\"id\": \"b2\", \"action\": \"agent.ping\"}");
        assertThat(relative.exitCode()).isEqualTo(2);
        assertThat(relative.stderr()).contains("config key 'disk.fstab' must be an absolute path, got 'etc/fstab'");
    }

    @Test
    void aPluginWhoseSectionDoesNotFitItsSettingsIsRefusedAndNothingChanges() throws Exception {
        AgentProcess a = offline("{\"plugins\": {\"settings\": {\"echo\": {\"knd\": \"x\"}}}}",
            install("i1"), "{\"id\": \"l1\", \"action\": \"plugin.list\"}", "{\"id\": \"e1\", \"action\": \"echo.emit\"}");
        assertThat(a.exitCode()).isEqualTo(1);
        Map<String, JsonObject> r = results();
        assertThat(r.get("i1").get("status").getAsString()).as(r.get("i1").toString()).isEqualTo("rejected");
        assertThat(r.get("i1").get("errorCode").getAsString()).isEqualTo("invalid_settings");
        assertThat(r.get("i1").get("error").getAsString()).contains("config key 'plugins.settings.echo.knd'")
            .contains("is unknown (known: kind)").contains("nothing was changed");
        assertThat(r.get("l1").get("data").toString()).doesNotContain("plugin.echo");
        assertThat(r.get("e1").get("errorCode").getAsString()).isEqualTo("unknown_action");
    }

    @Test
    void dryRunsChangeNothingAndAnActionWithoutSupportIsRejectedSayingSo() throws Exception {
        AgentProcess a = offline("{}", install("i1"),
            "{\"id\": \"d1\", \"action\": \"echo.say\", \"dryRun\": true, \"params\": {\"message\": \"m\"}}",
            "{\"id\": \"d2\", \"action\": \"plugin.remove\", \"dryRun\": true, \"params\": {\"bsn\": \"plugin.echo\"}}",
            "{\"id\": \"d3\", \"action\": \"agent.ping\", \"dryRun\": true}",
            "{\"id\": \"l1\", \"action\": \"plugin.list\"}");
        Map<String, JsonObject> r = results();
        assertThat(r.get("d1").get("status").getAsString()).isEqualTo("rejected");
        assertThat(r.get("d1").get("errorCode").getAsString()).isEqualTo("dry_run_unsupported");
        assertThat(r.get("d1").get("error").getAsString()).isEqualTo("action 'echo.say' does not support dry runs; nothing was run");
        assertThat(r.get("d2").get("status").getAsString()).as(r.get("d2").toString()).isEqualTo("succeeded");
        assertThat(r.get("d2").getAsJsonObject("data").get("plan").getAsString()).startsWith("would remove plugin.echo");
        assertThat(r.get("d2").getAsJsonObject("data").get("changed").getAsBoolean()).isTrue();
        assertThat(r.get("d3").get("status").getAsString()).isEqualTo("succeeded");
        assertThat(r.get("l1").get("data").toString()).contains("\"bsn\":\"plugin.echo\""); // the dry run removed nothing
        assertThat(a.exitCode()).isEqualTo(1); // d1 did not succeed
    }

    @Test
    void eventsOfAPluginInstalledAtRuntimeGoIntoTheReportOnce() throws Exception {
        AgentProcess a = offline("{\"plugins\": {\"settings\": {\"echo\": {\"kind\": \"echo.test\"}}}}", install("i1"),
            "{\"id\": \"e1\", \"action\": \"echo.emit\", \"params\": {\"count\": 3, \"data\": {\"from\": \"it\"}}}",
            "{\"id\": \"e2\", \"action\": \"echo.emit\", \"params\": {\"kind\": \"Bad Kind\"}}");
        Map<String, JsonObject> r = results();
        assertThat(r.get("e1").get("status").getAsString()).as(r.get("e1").toString()).isEqualTo("succeeded");
        assertThat(r.get("e2").get("status").getAsString()).isEqualTo("failed");
        assertThat(r.get("e2").get("error").getAsString()).contains("event kind must be lower-case dotted words");
        JsonArray events = report().getAsJsonArray("events");
        assertThat(events).hasSize(3);
        for (int i = 0; i < 3; i++) {
            JsonObject e = events.get(i).getAsJsonObject();
            assertThat(e.get("kind").getAsString()).isEqualTo("echo.test");
            assertThat(e.get("id").getAsString()).isNotBlank();
            assertThat(e.get("time").getAsString()).isNotBlank();
            assertThat(e.getAsJsonObject("data").get("from").getAsString()).isEqualTo("it");
            assertThat(e.getAsJsonObject("data").get("n").getAsInt()).isEqualTo(i);
        }
        assertThat(a.exitCode()).isEqualTo(1);

        // delivered with that report: the next run's report does not carry them again
        offline("{}", "{\"id\": \"p1\", \"action\": \"agent.ping\"}");
        assertThat(report().getAsJsonArray("events")).isEmpty();
    }
}
