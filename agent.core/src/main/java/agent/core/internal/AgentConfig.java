package agent.core.internal;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The validated configuration (ARCHITECTURE.md "The config file"). Built only by {@link ConfigLoader}; every
 * value here is known to be valid.
 */
final class AgentConfig {
    String serverUrl;
    Path serverCa;
    Path clientCert;
    Path clientKey;
    String enrollmentToken;
    String agentId;
    String transport = "websocket";
    int checkInInterval = 30;
    int heartbeatSeconds = 30;
    int maxBackoffSeconds = 300;
    Path dataDir = Path.of("/var/lib/outpost");
    Path logDir = Path.of("/var/log/outpost");
    Path runDir = Path.of("/run/outpost");
    Path scriptsDir = Path.of("/etc/outpost/scripts.d");
    String logLevel = "info";
    int maxConcurrentCommands = 4;
    int maxCommandSeconds = 86400;
    int maxOutputBytes = 262144;
    int maxFrameBytes = 1048576;
    int retentionDays = 30;
    String httpsProxy;
    boolean insecureHttp;
    Map<String, Object> plugins = Map.of();
    Map<String, Object> health = Map.of();
    Path fstab = Path.of("/etc/fstab");
    /** Where each value came from, for `agent:status` and error messages. */
    Path configFile;

    /**
     * The sections handlers see through {@code CommandContext.settings()}, by action prefix: {@code disk} and
     * {@code health} from their top-level keys, any other plugin's from {@code plugins.settings.<prefix>}.
     */
    private final Map<String, agent.core.internal.config.SettingsSection> sections = new java.util.concurrent.ConcurrentHashMap<>();

    /** @return the section of an action prefix, typed views cached */
    agent.core.internal.config.SettingsSection section(String prefix) {
        return sections.computeIfAbsent(prefix, p -> {
            Map<String, Object> raw = pluginSettings().get(p);
            String key = p.equals("disk") || p.equals("health") ? p : "plugins.settings." + p;
            return new agent.core.internal.config.SettingsSection(key, raw == null ? Map.of() : raw, configFile);
        });
    }

    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> pluginSettings() {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        Object others = plugins.get("settings");
        if (others instanceof Map) {
            ((Map<String, Object>) others).forEach((prefix, section) -> out.put(prefix, (Map<String, Object>) section));
        }
        Map<String, Object> disk = new LinkedHashMap<>();
        disk.put("fstab", fstab.toString());
        out.put("disk", disk);
        out.put("health", health);
        return out;
    }

    /** A summary with no secrets: what {@code agent.info} reports. */
    Map<String, Object> summary() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config_file", configFile == null ? null : configFile.toString());
        m.put("server_url", serverUrl);
        m.put("server_ca", serverCa == null ? null : serverCa.toString());
        m.put("mutual_tls", clientCert != null);
        m.put("enrollment_token_set", enrollmentToken != null);
        m.put("transport", transport);
        m.put("check_in_interval", checkInInterval);
        m.put("heartbeat_seconds", heartbeatSeconds);
        m.put("max_backoff_seconds", maxBackoffSeconds);
        m.put("data_dir", dataDir.toString());
        m.put("log_dir", logDir.toString());
        m.put("scripts_dir", scriptsDir.toString());
        m.put("log_level", logLevel);
        m.put("max_concurrent_commands", maxConcurrentCommands);
        m.put("max_command_seconds", maxCommandSeconds);
        m.put("max_output_bytes", maxOutputBytes);
        m.put("max_frame_bytes", maxFrameBytes);
        m.put("retention_days", retentionDays);
        m.put("https_proxy_set", httpsProxy != null);
        m.put("insecure_http", insecureHttp);
        m.put("plugin_policy", List.copyOf(plugins.keySet()));
        return m;
    }
}
