package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** bin/outpost offline on one data dir: each call is a run of its own, so every state also crosses a restart. */
final class OfflineAgent {
    static final Duration T = Duration.ofSeconds(90);

    final Path dir;
    final Path data;
    /** The last run, for its stderr and exit code. */
    AgentProcess last;

    OfflineAgent(Path dir, String name) {
        this.dir = dir;
        this.data = dir.resolve(name);
    }

    /** Runs the commands as one task file, in file order, and returns their results by id. */
    Map<String, JsonObject> run(String... commands) throws Exception {
        return runFile("{\"commands\": [" + String.join(",", commands) + "]}", commands.length);
    }

    /** Runs a task file given as text; expects that many results. */
    Map<String, JsonObject> runFile(String tasks, int expected) throws Exception {
        Path file = AgentProcess.write(dir.resolve("tasks-" + UUID.randomUUID() + ".json"), tasks);
        last = AgentProcess.run(T, "offline", "--tasks", file.toString(), "--data-dir", data.toString());
        Map<String, JsonObject> out = new LinkedHashMap<>();
        JsonElement report;
        try {
            report = JsonParser.parseString(last.stdout());
        } catch (RuntimeException e) {
            throw new AssertionError("no report from " + tasks + " (exit " + last.exitCode() + "); stderr:\n" + last.stderr(), e);
        }
        assertThat(report.isJsonObject()).as("a report from %s (exit %s); stderr:%n%s", tasks, last.exitCode(), last.stderr()).isTrue();
        for (JsonElement e : report.getAsJsonObject().getAsJsonArray("results")) {
            out.put(e.getAsJsonObject().get("id").getAsString(), e.getAsJsonObject());
        }
        assertThat(out).as("results of %s; stderr: %s", tasks, last.stderr()).hasSize(expected);
        return out;
    }

    /** One command, one run: its result. */
    JsonObject one(String id, String action, String params) throws Exception {
        return run(cmd(id, action, params)).get(id);
    }

    /** The plugin.list entry of a bundle, or null if it is not installed. */
    JsonObject listed(String bsn) throws Exception {
        JsonObject r = one("list-" + UUID.randomUUID(), "plugin.list", "{}");
        assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
        for (JsonElement e : r.getAsJsonArray("data")) {
            if (e.getAsJsonObject().get("bsn").getAsString().equals(bsn)) return e.getAsJsonObject();
        }
        return null;
    }

    static String cmd(String id, String action, String params) {
        return "{\"id\": \"" + id + "\", \"action\": \"" + action + "\", \"params\": " + params + "}";
    }

    static String status(JsonObject result) {
        return result.get("status").getAsString();
    }

    static String error(JsonObject result) {
        return result.has("error") && !result.get("error").isJsonNull() ? result.get("error").getAsString() : "";
    }

    static List<String> strings(JsonElement array) {
        return array.getAsJsonArray().asList().stream().map(JsonElement::getAsString).toList();
    }
}
