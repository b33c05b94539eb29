package agent.core.internal.control;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import agent.core.internal.config.JsonFile;

/**
 * The one layout of a status map ({@link AgentStatus#now}, {@link StoppedStatus}) for people: one "name  value" line
 * per field, plugins one per line. Scripts read the JSON instead.
 */
public final class StatusText {
    private StatusText() {}

    /** @param status a status map @return it as indented JSON, for scripts */
    public static String json(Map<String, Object> status) {
        return JsonFile.GSON.newBuilder().setPrettyPrinting().create().toJson(status) + "\n";
    }

    /** @param status a status map @return it as aligned text lines */
    @SuppressWarnings("unchecked")
    public static String text(Map<String, Object> status) {
        Map<String, List<String>> lines = new LinkedHashMap<>();
        Object enrolled = status.get("agentId"), machine = status.get("machineId");
        put(lines, "agent", enrolled != null ? enrolled : machine + " (its machine id: not enrolled yet)");
        if (enrolled != null && machine != null && !enrolled.equals(machine)) put(lines, "machine id", machine);
        put(lines, "version", status.get("version") + (status.containsKey("lastVersion")
            && !String.valueOf(status.get("lastVersion")).equals(String.valueOf(status.get("version")))
            ? " (installed; the last run was " + status.get("lastVersion") + ")" : ""));
        put(lines, "state", state(status));
        put(lines, "mode", status.get("mode"));
        put(lines, "server", status.get("serverUrl") == null ? "none configured" : status.get("serverUrl"));
        put(lines, "transport", status.get("transport") == null ? "none" : status.get("transport"));
        put(lines, "connection", status.get("connection"));
        List<String> plugins = new ArrayList<>();
        Object list = status.get("plugins");
        if (list instanceof List) {
            for (Map<String, Object> p : (List<Map<String, Object>>) list) {
                String line = p.get("bsn") + " " + p.get("version") + " " + p.get("state");
                if (Boolean.TRUE.equals(p.get("installedAtRuntime"))) line += " (installed at runtime)";
                if (p.get("error") != null) line += ": " + p.get("error");
                plugins.add(line);
            }
        }
        if (plugins.isEmpty()) plugins.add(list == null ? "unknown (no status of a last run)" : "none");
        if (status.get("pluginsAsOf") != null) plugins.add("(as of " + status.get("pluginsAsOf") + ")");
        lines.put("plugins", plugins);
        put(lines, "commands", counts(status.get("commands")));
        if (status.get("active") != null) put(lines, "running now", status.get("active"));
        put(lines, "outbox", status.get("outbox") == null ? "unknown" : status.get("outbox") + " results not yet acknowledged by the server");
        put(lines, "events", status.get("events") == null ? "unknown" : status.get("events") + " events not yet acknowledged by the server");
        put(lines, "last error", lastError(status.get("lastError")));
        put(lines, "log level", status.get("logLevel"));
        put(lines, "data dir", status.get("dataDir"));
        put(lines, "config", status.get("configFile") == null ? "none (defaults and environment)" : status.get("configFile"));
        if (status.get("note") != null) put(lines, "note", status.get("note"));
        int w = lines.keySet().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder sb = new StringBuilder();
        lines.forEach((k, vs) -> {
            for (int i = 0; i < vs.size(); i++) {
                sb.append(i == 0 ? k : "").append(" ".repeat(w - (i == 0 ? k.length() : 0) + 2)).append(vs.get(i)).append('\n');
            }
        });
        return sb.toString();
    }

    private static void put(Map<String, List<String>> lines, String name, Object value) {
        lines.put(name, List.of(String.valueOf(value)));
    }

    private static String state(Map<String, Object> s) {
        String state = String.valueOf(s.get("state"));
        StringBuilder sb = new StringBuilder(state);
        if (s.get("since") != null) {
            sb.append(" since ").append(s.get("since"));
            if (state.equals("running")) sb.append(" (").append(age(String.valueOf(s.get("since")))).append(")");
        }
        if (s.get("pid") != null) sb.append(state.equals("running") ? ", pid " : ", last pid ").append(number(s.get("pid")));
        return sb.toString();
    }

    private static String age(String since) {
        try {
            long seconds = Duration.between(Instant.parse(since), Instant.now()).toSeconds();
            if (seconds < 120) return "up " + seconds + " s";
            if (seconds < 7200) return "up " + seconds / 60 + " min";
            if (seconds < 172800) return "up " + seconds / 3600 + " h";
            return "up " + seconds / 86400 + " days";
        } catch (DateTimeParseException e) {
            return "up since " + since;
        }
    }

    @SuppressWarnings("unchecked")
    private static String counts(Object commands) {
        if (!(commands instanceof Map)) return "unknown";
        Map<String, Object> m = (Map<String, Object>) commands;
        if (m.isEmpty()) return "none";
        List<String> parts = new ArrayList<>();
        m.forEach((state, n) -> parts.add(state + " " + number(n)));
        return String.join(", ", parts);
    }

    @SuppressWarnings("unchecked")
    private static String lastError(Object e) {
        if (!(e instanceof Map)) return "none";
        Map<String, Object> m = (Map<String, Object>) e;
        return m.get("time") + " " + m.get("level") + " " + m.get("logger") + ": " + m.get("message");
    }

    /** JSON numbers read back from a snapshot are doubles or longs: show them as whole numbers. */
    private static String number(Object n) {
        return n instanceof Number ? Long.toString(((Number) n).longValue()) : String.valueOf(n);
    }
}
