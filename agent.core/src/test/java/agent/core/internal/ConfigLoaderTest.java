package agent.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private AgentConfig load(String mode, String json, Map<String, String> env, String... extra) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        List<String> args = new java.util.ArrayList<>(List.of(mode, "--config", f.toString(), "--data-dir", dir.toString()));
        if (mode.equals("offline")) args.addAll(List.of("--tasks", "t.json"));
        args.addAll(List.of(extra));
        return ConfigLoader.load(Invocation.parse(args), env);
    }

    @Test
    void defaultsApplyAndTheDataDirTakesLogsAndSocketWithIt() throws Exception {
        AgentConfig c = load("run", "{\"server_url\": \"https://mgmt.example:8443\"}", Map.of());
        assertThat(c.maxConcurrentCommands).isEqualTo(4);
        assertThat(c.maxOutputBytes).isEqualTo(262144);
        assertThat(c.transport).isEqualTo("websocket");
        assertThat(c.dataDir).isEqualTo(dir);
        assertThat(c.logDir).isEqualTo(dir.resolve("log"));
        assertThat(c.runDir).isEqualTo(dir.resolve("run"));
    }

    @Test
    void anUnknownKeyIsAnErrorNamingIt() {
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\", \"max_concurent_commands\": 2}", Map.of()))
            .isInstanceOf(ConfigException.class).hasMessageContaining("unknown key 'max_concurent_commands'");
    }

    @Test
    void aValueOutOfRangeNamesTheKeyAndTheValue() {
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\", \"max_concurrent_commands\": 0}", Map.of()))
            .hasMessageContaining("config key 'max_concurrent_commands'").hasMessageContaining("must be 1..64, got 0");
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\", \"transport\": \"carrier-pigeon\"}", Map.of()))
            .hasMessageContaining("config key 'transport'").hasMessageContaining("websocket, poll, got 'carrier-pigeon'");
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\", \"insecure_http\": \"yes\"}", Map.of()))
            .hasMessageContaining("config key 'insecure_http'").hasMessageContaining("true or false");
    }

    @Test
    void aJsonSyntaxErrorGivesLineAndColumn() {
        assertThatThrownBy(() -> load("run", "{\n  \"server_url\": \"https://h\",\n  \"transport\" \"poll\"\n}", Map.of()))
            .isInstanceOf(ConfigException.class).hasMessageContaining("not valid JSON").hasMessageContaining("line 3 column");
    }

    @Test
    void managedModeNeedsAServerUrlAndPlainHttpNeedsTheDevelopmentFlag() {
        assertThatThrownBy(() -> load("run", "{}", Map.of())).hasMessageContaining("'server_url' is required in run mode");
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"http://h:8080\"}", Map.of()))
            .hasMessageContaining("insecure_http");
    }

    @Test
    void offlineModeNeedsNoServer() throws Exception {
        assertThat(load("offline", "{}", Map.of()).serverUrl).isNull();
    }

    @Test
    void environmentOverridesTheFileAndBadValuesNameTheVariable() throws Exception {
        AgentConfig c = load("run", "{\"server_url\": \"https://h\", \"log_level\": \"info\"}",
            Map.of("OUTPOST_LOG_LEVEL", "debug", "OUTPOST_MAX_CONCURRENT_COMMANDS", "8"));
        assertThat(c.logLevel).isEqualTo("debug");
        assertThat(c.maxConcurrentCommands).isEqualTo(8);
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\"}", Map.of("OUTPOST_RETENTION_DAYS", "a month")))
            .hasMessageContaining("environment variable OUTPOST_RETENTION_DAYS must be an integer, got 'a month'");
    }

    @Test
    void nestedSectionsAreCheckedToo() {
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\", \"disk\": {\"fstabb\": \"/x\"}}", Map.of()))
            .hasMessageContaining("config key 'disk.fstabb'").hasMessageContaining("unknown");
    }

    @Test
    void anOperatorPluginsSettingsComeFromPluginsSettingsByPrefix() throws Exception {
        AgentConfig c = load("run", "{\"server_url\": \"https://h\", \"disk\": {\"fstab\": \"/srv/fstab\"},"
            + " \"plugins\": {\"settings\": {\"timezone\": {\"root\": \"/srv/root\"}, \"acme-x\": {\"n\": 2}}}}", Map.of());

        assertThat(c.pluginSettings()).containsOnlyKeys("timezone", "acme-x", "disk", "health");
        assertThat(c.pluginSettings().get("timezone")).isEqualTo(Map.of("root", "/srv/root"));
        assertThat(c.pluginSettings().get("acme-x")).isEqualTo(Map.of("n", 2L));
        assertThat(c.pluginSettings().get("disk")).isEqualTo(Map.of("fstab", "/srv/fstab"));
    }

    @Test
    void pluginSettingsMustBeSectionsOfPluginPrefixes() {
        String pre = "{\"server_url\": \"https://h\", \"plugins\": {\"settings\": ";
        assertThatThrownBy(() -> load("run", pre + "{\"timezone\": \"/\"}}}", Map.of()))
            .hasMessageContaining("config key 'plugins.settings.timezone'").hasMessageContaining("must be a JSON object, got /");
        assertThatThrownBy(() -> load("run", pre + "[1]}}", Map.of()))
            .hasMessageContaining("config key 'plugins.settings'").hasMessageContaining("must be a JSON object");
        assertThatThrownBy(() -> load("run", pre + "{\"Time.Zone\": {}}}}", Map.of()))
            .hasMessageContaining("'Time.Zone' is not an action prefix");
        assertThatThrownBy(() -> load("run", pre + "{\"disk\": {}}}}", Map.of()))
            .hasMessageContaining("config key 'plugins.settings.disk'").hasMessageContaining("use the top-level key 'disk'");
        assertThatThrownBy(() -> load("run", pre + "{\"agent\": {}}}}", Map.of())).hasMessageContaining("the agent's core owns it");
    }

    @Test
    void missingFilesNamedByTlsKeysAreErrors() {
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\", \"server_ca\": \"/nope/ca.pem\"}", Map.of()))
            .hasMessageContaining("config key 'server_ca'").hasMessageContaining("'/nope/ca.pem' does not exist");
    }

    @Test
    void badCommandLinesAreExplained() {
        assertThatThrownBy(() -> Invocation.parse(List.of("fly"))).hasMessageContaining("unknown mode 'fly'");
        assertThatThrownBy(() -> Invocation.parse(List.of("offline"))).hasMessageContaining("needs --tasks");
        assertThatThrownBy(() -> Invocation.parse(List.of("run", "--bogus"))).hasMessageContaining("unknown option '--bogus'");
        assertThatThrownBy(() -> Invocation.parse(List.of("once", "--wait", "soon"))).hasMessageContaining("--wait must be");
    }
}
