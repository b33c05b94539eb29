package agent.core.internal.config;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/**
 * Builds the {@link AgentConfig}: defaults, then the config file, then {@code OUTPOST_*} environment variables,
 * then the command line. Unknown keys and bad values stop the agent with a message naming the key, the value
 * and what was expected.
 */
public final class ConfigLoader {
    /** The config file when none is named. */
    public static final Path DEFAULT_FILE = Path.of("/etc/outpost/config.json");
    private static final Path DEFAULT_DATA_DIR = Path.of("/var/lib/outpost");
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

    private enum Type { STRING, PATH, INT, BOOL, OBJECT }

    @FunctionalInterface
    private interface Apply {
        void apply(AgentConfig c, JsonElement v, String where) throws ConfigException;
    }

    private static final class Key {
        final Type type;
        final long min, max;
        final Apply apply;

        Key(Type type, long min, long max, Apply apply) {
            this.type = type;
            this.min = min;
            this.max = max;
            this.apply = apply;
        }
    }

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    static {
        str("server_url", (c, v, w) -> c.serverUrl = v.getAsString());
        path("server_ca", (c, v, w) -> c.serverCa = readableFile(v, w));
        path("client_cert", (c, v, w) -> c.clientCert = readableFile(v, w));
        path("client_key", (c, v, w) -> c.clientKey = readableFile(v, w));
        str("enrollment_token", (c, v, w) -> c.enrollmentToken = v.getAsString());
        str("agent_id", (c, v, w) -> {
            if (!AGENT_ID.matcher(v.getAsString()).matches()) {
                throw new ConfigException(w + " must be 1-128 letters, digits, '.', '_', ':' or '-', got '" + v.getAsString() + "'");
            }
            c.agentId = v.getAsString();
        });
        str("transport", (c, v, w) -> c.transport = oneOf(v, w, "websocket", "poll"));
        integer("check_in_interval", 5, 86400, (c, v, w) -> c.checkInInterval = v.getAsInt());
        integer("heartbeat_seconds", 5, 3600, (c, v, w) -> c.heartbeatSeconds = v.getAsInt());
        integer("max_backoff_seconds", 1, 86400, (c, v, w) -> c.maxBackoffSeconds = v.getAsInt());
        path("data_dir", (c, v, w) -> c.dataDir = absolute(v, w));
        path("log_dir", (c, v, w) -> c.logDir = absolute(v, w));
        path("run_dir", (c, v, w) -> c.runDir = absolute(v, w));
        path("scripts_dir", (c, v, w) -> c.scriptsDir = absolute(v, w));
        str("log_level", (c, v, w) -> c.logLevel = oneOf(v, w, "error", "warn", "info", "debug", "trace"));
        integer("max_concurrent_commands", 1, 64, (c, v, w) -> c.maxConcurrentCommands = v.getAsInt());
        integer("max_command_seconds", 1, 604800, (c, v, w) -> c.maxCommandSeconds = v.getAsInt());
        integer("max_output_bytes", 1024, 64L << 20, (c, v, w) -> c.maxOutputBytes = v.getAsInt());
        integer("max_frame_bytes", 65536, 64L << 20, (c, v, w) -> c.maxFrameBytes = v.getAsInt());
        integer("retention_days", 1, 3650, (c, v, w) -> c.retentionDays = v.getAsInt());
        integer("max_clock_skew_seconds", 0, 86400, (c, v, w) -> c.maxClockSkewSeconds = v.getAsInt());
        integer("max_queued_events", 100, 10_000_000, (c, v, w) -> c.maxQueuedEvents = v.getAsInt());
        integer("max_event_age_hours", 1, 8760, (c, v, w) -> c.maxEventAgeHours = v.getAsInt());
        integer("log_max_bytes", 64 << 10, 1L << 30, (c, v, w) -> c.logFileBytes = v.getAsInt());
        integer("log_files", 1, 100, (c, v, w) -> c.logFiles = v.getAsInt());
        str("https_proxy", (c, v, w) -> c.httpsProxy = url(v.getAsString(), w, Set.of("http", "https")));
        bool("insecure_http", (c, v, w) -> c.insecureHttp = v.getAsBoolean());
        object("plugins", (c, v, w) -> {
            c.plugins = section(v, w, Map.of("require_signed", Type.BOOL, "trust_store", Type.PATH, "allow", Type.OBJECT,
                "deny", Type.OBJECT, "settings", Type.OBJECT));
            pluginSettings(c, c.plugins.get("settings"), w.replaceFirst("config key 'plugins'", "config key 'plugins.settings'"));
        });
        // plugins' own top-level sections: their keys are checked by the plugin's typed settings (@SettingsType) when
        // the agent starts, not here
        for (String top : AgentConfig.TOP_LEVEL_SECTIONS) {
            object(top, (c, v, w) -> putSection(c, top, jsonValues(v)));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> jsonValues(JsonElement v) {
        return (Map<String, Object>) GSON.fromJson(v, Object.class);
    }

    private static void putSection(AgentConfig c, String prefix, Map<String, Object> values) {
        Map<String, Map<String, Object>> all = new LinkedHashMap<>(c.sections);
        all.put(prefix, values);
        c.sections = java.util.Collections.unmodifiableMap(all);
    }

    private static final com.google.gson.Gson GSON = JsonFile.GSON;

    private ConfigLoader() {}

    /**
     * @param inv the command line
     * @param env the environment
     * @return the validated config
     * @throws ConfigException naming the key, the value and what was expected
     */
    public static AgentConfig load(Invocation inv, Map<String, String> env) throws ConfigException {
        AgentConfig c = new AgentConfig();
        c.mode = inv.mode;
        Set<String> explicit = new HashSet<>();
        Path file = inv.config;
        if (file == null && env.containsKey("OUTPOST_CONFIG")) file = Path.of(env.get("OUTPOST_CONFIG"));
        if (file != null && !Files.exists(file)) throw new ConfigException("config file " + file + " does not exist");
        if (file == null && Files.exists(DEFAULT_FILE)) file = DEFAULT_FILE;
        if (file != null) {
            c.configFile = file.toAbsolutePath();
            JsonObject o = readFile(file);
            for (Map.Entry<String, JsonElement> e : o.entrySet()) {
                Key k = KEYS.get(e.getKey());
                String where = "config key '" + e.getKey() + "' in " + file;
                if (k == null) {
                    throw new ConfigException("config file " + file + ": unknown key '" + e.getKey() + "' (known keys: "
                        + String.join(", ", KEYS.keySet()) + ")");
                }
                apply(c, k, e.getValue(), where);
                explicit.add(e.getKey());
            }
        }
        for (Map.Entry<String, Key> e : KEYS.entrySet()) {
            String var = "OUTPOST_" + e.getKey().toUpperCase();
            String value = env.get(var);
            if (value == null || e.getValue().type == Type.OBJECT) continue;
            apply(c, e.getValue(), fromEnv(e.getValue(), value, "environment variable " + var), "environment variable " + var);
            explicit.add(e.getKey());
        }
        if (inv.dataDir != null) {
            c.dataDir = inv.dataDir;
            explicit.add("data_dir");
        }
        // a data dir moved away from the system default takes the logs and the control socket with it, so a
        // test or demo never needs root paths
        if (!c.dataDir.equals(DEFAULT_DATA_DIR)) {
            if (!explicit.contains("log_dir")) c.logDir = c.dataDir.resolve("log");
            if (!explicit.contains("run_dir")) c.runDir = c.dataDir.resolve("run");
        }
        checkTogether(c, inv.mode);
        if (c.configFile != null && c.enrollmentToken != null && readableByOthers(c.configFile)) {
            c.warnings.add("config file " + c.configFile + " holds an enrolment token and can be read by other users;"
                + " make it 0600 (chmod 600 " + c.configFile + ")");
        }
        return c;
    }

    private static boolean readableByOthers(Path file) {
        try {
            Set<java.nio.file.attribute.PosixFilePermission> p = Files.getPosixFilePermissions(file);
            return p.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)
                || p.contains(java.nio.file.attribute.PosixFilePermission.GROUP_READ);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static void checkTogether(AgentConfig c, Mode mode) throws ConfigException {
        if (c.serverUrl != null) {
            c.serverUrl = url(c.serverUrl, "config key 'server_url'", c.insecureHttp ? Set.of("https", "http") : Set.of("https"));
        }
        if ((mode == Mode.RUN || mode == Mode.ONCE) && c.serverUrl == null) {
            throw new ConfigException("config key 'server_url' is required in " + mode.wireName()
                + " mode (set it in " + (c.configFile == null ? DEFAULT_FILE : c.configFile) + " or OUTPOST_SERVER_URL)");
        }
        if (Boolean.TRUE.equals(c.plugins.get("require_signed")) && c.plugins.get("trust_store") == null) {
            throw new ConfigException("config key 'plugins.require_signed' is true but 'plugins.trust_store' is not set"
                + " (a PEM file of the certificates plugin jars must be signed with)");
        }
        if ((c.clientCert == null) != (c.clientKey == null)) {
            throw new ConfigException("config keys 'client_cert' and 'client_key' must be set together (mutual TLS needs both)");
        }
    }

    private static JsonObject readFile(Path file) throws ConfigException {
        JsonElement e;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            e = JsonFile.parse(r, "config file " + file);
        } catch (IOException ex) {
            throw new ConfigException("cannot read config file " + file + ": " + ex.getMessage());
        }
        if (!e.isJsonObject()) throw new ConfigException("config file " + file + " must hold one JSON object, got " + e);
        return e.getAsJsonObject();
    }

    private static void apply(AgentConfig c, Key k, JsonElement v, String where) throws ConfigException {
        if (v == null || v.isJsonNull()) throw new ConfigException(where + " is null; remove it to use the default");
        switch (k.type) {
            case STRING:
            case PATH:
                if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString() || v.getAsString().isEmpty()) {
                    throw new ConfigException(where + " must be a non-empty string, got " + v);
                }
                break;
            case INT:
                if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()
                    || v.getAsDouble() != Math.rint(v.getAsDouble())) {
                    throw new ConfigException(where + " must be an integer, got " + v);
                }
                if (v.getAsDouble() < k.min || v.getAsDouble() > k.max) {
                    throw new ConfigException(where + " must be " + k.min + ".." + k.max + ", got " + v);
                }
                break;
            case BOOL:
                if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
                    throw new ConfigException(where + " must be true or false, got " + v);
                }
                break;
            case OBJECT:
                if (!v.isJsonObject()) throw new ConfigException(where + " must be a JSON object, got " + v);
                break;
            default:
                throw new IllegalStateException();
        }
        k.apply.apply(c, v, where);
    }

    private static JsonElement fromEnv(Key k, String value, String where) throws ConfigException {
        switch (k.type) {
            case INT:
                try {
                    return new JsonPrimitive(Long.parseLong(value.trim()));
                } catch (NumberFormatException e) {
                    throw new ConfigException(where + " must be an integer, got '" + value + "'");
                }
            case BOOL:
                if (value.equals("true") || value.equals("false")) return new JsonPrimitive(Boolean.parseBoolean(value));
                throw new ConfigException(where + " must be true or false, got '" + value + "'");
            default:
                return new JsonPrimitive(value);
        }
    }

    private static Map<String, Object> section(JsonElement v, String where, Map<String, Type> known) throws ConfigException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
            Type t = known.get(e.getKey());
            String sub = where.replaceFirst("config key '([^']+)'", "config key '$1." + e.getKey() + "'");
            if (t == null) {
                throw new ConfigException(sub + " is unknown (known: " + String.join(", ", new TreeSet<>(known.keySet())) + ")");
            }
            JsonElement x = e.getValue();
            boolean ok;
            switch (t) {
                case BOOL: ok = x.isJsonPrimitive() && x.getAsJsonPrimitive().isBoolean(); break;
                case INT: ok = x.isJsonPrimitive() && x.getAsJsonPrimitive().isNumber() && x.getAsDouble() >= 1; break;
                case PATH: ok = x.isJsonPrimitive() && x.getAsJsonPrimitive().isString() && x.getAsString().startsWith("/"); break;
                default: ok = x.isJsonObject() || x.isJsonArray(); break;
            }
            if (!ok) {
                String expected = t == Type.BOOL ? "true or false" : t == Type.INT ? "a positive integer"
                    : t == Type.PATH ? "an absolute path" : "a JSON object or list";
                throw new ConfigException(sub + " must be " + expected + ", got " + x);
            }
            out.put(e.getKey(), GSON.fromJson(x, Object.class));
        }
        return out;
    }

    /** Prefixes whose settings are not given here: the core's own, and the reactor plugins with top-level sections. */
    private static final Set<String> NOT_PLUGIN_SETTINGS = Set.of("agent", "plugin", "disk", "health");
    private static final Pattern PREFIX = Pattern.compile("[a-z][a-z0-9_-]*");

    /**
     * {@code plugins.settings}: one JSON object per action prefix, handed as it is to that plugin's handlers through
     * {@code CommandContext.settings()}. The agent cannot know another plugin's keys, so it checks only the shape;
     * the plugin checks its own values.
     */
    @SuppressWarnings("unchecked")
    private static void pluginSettings(AgentConfig c, Object settings, String where) throws ConfigException {
        if (settings == null) return;
        if (!(settings instanceof Map)) throw new ConfigException(where + " must be a JSON object of sections by action prefix, got " + settings);
        for (Map.Entry<?, ?> e : ((Map<?, ?>) settings).entrySet()) {
            String prefix = String.valueOf(e.getKey());
            String sub = where.replaceFirst("config key '([^']+)'", "config key '$1." + prefix + "'");
            if (!PREFIX.matcher(prefix).matches()) {
                throw new ConfigException(sub + ": '" + prefix + "' is not an action prefix (lower-case letters, digits, '_', '-')");
            }
            if (NOT_PLUGIN_SETTINGS.contains(prefix)) {
                String hint = prefix.equals("disk") || prefix.equals("health") ? " (use the top-level key '" + prefix + "')"
                    : " (the agent's core owns it)";
                throw new ConfigException(sub + " is not allowed" + hint);
            }
            if (!(e.getValue() instanceof Map)) throw new ConfigException(sub + " must be a JSON object, got " + e.getValue());
            putSection(c, prefix, (Map<String, Object>) e.getValue());
        }
    }

    private static Path absolute(JsonElement v, String where) throws ConfigException {
        Path p = Path.of(v.getAsString());
        if (!p.isAbsolute()) throw new ConfigException(where + " must be an absolute path, got '" + v.getAsString() + "'");
        return p.normalize();
    }

    private static Path readableFile(JsonElement v, String where) throws ConfigException {
        Path p = Path.of(v.getAsString());
        if (!Files.isRegularFile(p)) throw new ConfigException(where + ": file '" + p + "' does not exist");
        if (!Files.isReadable(p)) throw new ConfigException(where + ": file '" + p + "' is not readable");
        return p.toAbsolutePath();
    }

    private static String oneOf(JsonElement v, String where, String... allowed) throws ConfigException {
        String s = v.getAsString();
        if (!List.of(allowed).contains(s)) {
            throw new ConfigException(where + " must be one of " + String.join(", ", allowed) + ", got '" + s + "'");
        }
        return s;
    }

    private static String url(String s, String where, Set<String> schemes) throws ConfigException {
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            throw new ConfigException(where + " is not a valid URL: " + e.getMessage());
        }
        if (u.getScheme() == null || u.getHost() == null) {
            throw new ConfigException(where + " must be a URL like https://host:port, got '" + s + "'");
        }
        if (!schemes.contains(u.getScheme())) {
            String hint = u.getScheme().equals("http") && !schemes.contains("http")
                ? " (plain http needs \"insecure_http\": true, for development only)" : "";
            throw new ConfigException(where + " must use " + String.join(" or ", new TreeSet<>(schemes)) + ", got '" + s + "'" + hint);
        }
        return s;
    }

    private static void str(String k, Apply a) { KEYS.put(k, new Key(Type.STRING, 0, 0, a)); }

    private static void path(String k, Apply a) { KEYS.put(k, new Key(Type.PATH, 0, 0, a)); }

    private static void integer(String k, long min, long max, Apply a) { KEYS.put(k, new Key(Type.INT, min, max, a)); }

    private static void bool(String k, Apply a) { KEYS.put(k, new Key(Type.BOOL, 0, 0, a)); }

    private static void object(String k, Apply a) { KEYS.put(k, new Key(Type.OBJECT, 0, 0, a)); }
}
