package agent.core.internal.config;

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

    /** A plugin's typed settings, as plugin.disk declares its own (checked by the agent when it starts). */
    record DiskLike(java.nio.file.Path fstab) {}

    @Test
    void nestedSectionsAreCheckedToo() throws Exception {
        AgentConfig c = load("run", "{\"server_url\": \"https://h\", \"disk\": {\"fstabb\": \"/x\"}}", Map.of());
        assertThatThrownBy(() -> c.section("disk").as(DiskLike.class))
            .hasMessageContaining("config key 'disk.fstabb'").hasMessageContaining("unknown");
    }

    @Test
    void aKeyGivenTwiceIsAnErrorNamingItAndItsLine() {
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\",\n \"log_level\": \"info\",\n \"log_level\": \"debug\"}", Map.of()))
            .hasMessageContaining("key 'log_level' appears twice in one object").hasMessageContaining("line 3");
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\", \"plugins\": {\"settings\": {\"acme\": {\"n\": 1, \"n\": 2}}}}", Map.of()))
            .hasMessageContaining("key 'n' appears twice");
    }

    @Test
    void theNewLimitsAreCheckedLikeTheOthers() throws Exception {
        AgentConfig c = load("run", "{\"server_url\": \"https://h\", \"max_clock_skew_seconds\": 60, \"max_queued_events\": 500,"
            + " \"max_event_age_hours\": 2, \"log_max_bytes\": 1048576, \"log_files\": 3}", Map.of());
        assertThat(c.maxClockSkewSeconds).isEqualTo(60);
        assertThat(c.maxQueuedEvents).isEqualTo(500);
        assertThat(c.maxEventAgeHours).isEqualTo(2);
        assertThat(c.logFileBytes).isEqualTo(1048576);
        assertThat(c.logFiles).isEqualTo(3);
        assertThatThrownBy(() -> load("run", "{\"server_url\": \"https://h\", \"max_queued_events\": 5}", Map.of()))
            .hasMessageContaining("config key 'max_queued_events'").hasMessageContaining("must be 100..10000000, got 5");
    }

    @Test
    void aTokenInAFileOthersCanReadIsWarnedAbout() throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("outpost-config", ".json");
        try {
            java.nio.file.Files.writeString(f, "{\"server_url\": \"https://h\", \"enrollment_token\": \"t0ken\"}");
            java.nio.file.Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            AgentConfig open = ConfigLoader.load(Invocation.parse(java.util.List.of("run", "--config", f.toString())), Map.of());
            assertThat(open.warnings).singleElement().asString().contains("can be read by other users").doesNotContain("t0ken");
            java.nio.file.Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            assertThat(ConfigLoader.load(Invocation.parse(java.util.List.of("run", "--config", f.toString())), Map.of()).warnings).isEmpty();
        } finally {
            java.nio.file.Files.delete(f);
        }
    }

    @Test
    void anOperatorPluginsSettingsComeFromPluginsSettingsByPrefix() throws Exception {
        AgentConfig c = load("run", "{\"server_url\": \"https://h\", \"disk\": {\"fstab\": \"/srv/fstab\"},"
            + " \"plugins\": {\"settings\": {\"timezone\": {\"root\": \"/srv/root\"}, \"acme-x\": {\"n\": 2}}}}", Map.of());

        assertThat(c.sections).containsOnlyKeys("timezone", "acme-x", "disk");
        assertThat(c.sections.get("timezone")).isEqualTo(Map.of("root", "/srv/root"));
        assertThat(c.section("acme-x").raw()).isEqualTo(Map.of("n", 2L));
        assertThat(c.section("disk").raw()).isEqualTo(Map.of("fstab", "/srv/fstab"));
        assertThat(c.section("health").raw()).isEmpty();
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
