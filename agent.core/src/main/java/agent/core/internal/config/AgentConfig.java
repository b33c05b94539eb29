package agent.core.internal.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The validated configuration (ARCHITECTURE.md "The config file") and the mode it runs in. Built only by
 * {@link ConfigLoader}, then registered as a service by the agent's main thread: the core's components take it as a
 * mandatory reference, so none of them exists before the config is known to be valid. Never changed after it is
 * registered.
 */
public final class AgentConfig {
    /** Service property: the mode, e.g. {@code run}. */
    public static final String MODE = "outpost.mode";
    /** Service property: true when the agent talks to a server in this run (a server URL, a connecting mode). */
    public static final String CONNECTS = "outpost.connects";
    /** Sections of the config file that are plugins' top-level sections; every other plugin's is under plugins.settings. */
    public static final List<String> TOP_LEVEL_SECTIONS = List.of("disk", "health");

    public Mode mode = Mode.RUN;
    public String serverUrl;
    public Path serverCa;
    public Path clientCert;
    public Path clientKey;
    public String enrollmentToken;
    public String agentId;
    public String transport = "websocket";
    public int checkInInterval = 30;
    public int heartbeatSeconds = 30;
    public int maxBackoffSeconds = 300;
    public Path dataDir = Path.of("/var/lib/outpost");
    public Path logDir = Path.of("/var/log/outpost");
    public Path runDir = Path.of("/run/outpost");
    public Path scriptsDir = Path.of("/etc/outpost/scripts.d");
    public String logLevel = "info";
    public int logFileBytes = 10 << 20;
    public int logFiles = 5;
    public int maxConcurrentCommands = 4;
    public int maxCommandSeconds = 86400;
    public int maxOutputBytes = 262144;
    public int maxFrameBytes = 1048576;
    public int retentionDays = 30;
    public int maxClockSkewSeconds = 300;
    public int maxQueuedEvents = 10000;
    public int maxEventAgeHours = 168;
    public String httpsProxy;
    public boolean insecureHttp;
    public Map<String, Object> plugins = Map.of();
    /** Plugins' sections by action prefix: {@code disk}, {@code health}, and every {@code plugins.settings.<prefix>}. */
    public Map<String, Map<String, Object>> sections = Map.of();
    /** The file the values came from, or null (defaults and environment only). */
    public Path configFile;
    /** Things worth a warning once logging is set up (a token in a file others can read). */
    public final List<String> warnings = new ArrayList<>();

    private final Map<String, SettingsSection> typed = new ConcurrentHashMap<>();

    /**
     * @param prefix an action prefix, e.g. {@code disk}
     * @return its config section with typed views, cached
     */
    public SettingsSection section(String prefix) {
        return typed.computeIfAbsent(prefix, p -> new SettingsSection(sectionKey(p), sections.getOrDefault(p, Map.of()), configFile));
    }

    /** @param prefix an action prefix @return the key of its section from the top of the file */
    public static String sectionKey(String prefix) {
        return TOP_LEVEL_SECTIONS.contains(prefix) ? prefix : "plugins.settings." + prefix;
    }

    /** @return whether this run talks to a server */
    public boolean connects() { return serverUrl != null && mode.connects(); }

    /** A summary with no secrets: what {@code agent.info} reports. */
    public Map<String, Object> summary() {
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
        m.put("max_clock_skew_seconds", maxClockSkewSeconds);
        m.put("max_queued_events", maxQueuedEvents);
        m.put("max_event_age_hours", maxEventAgeHours);
        m.put("https_proxy_set", httpsProxy != null);
        m.put("insecure_http", insecureHttp);
        m.put("plugin_policy", List.copyOf(plugins.keySet()));
        return m;
    }
}
