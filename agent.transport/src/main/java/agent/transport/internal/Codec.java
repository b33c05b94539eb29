package agent.transport.internal;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.lang.reflect.Type;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.ToNumberPolicy;
import com.google.gson.reflect.TypeToken;
import com.google.gson.stream.JsonReader;

import agent.api.Command;
import agent.api.Result;

/**
 * The JSON of docs/protocol.md, the agent's side: commands in, results and events out, strict parsing; errors name
 * the field and where it was. The one Gson configuration of this bundle. Public (in a package the bundle does not
 * export) for agent.testkit, which gives plugin tests the agent's own decoding.
 */
public final class Codec {
    /** Compact JSON; integers read as Long. */
    public static final Gson GSON = new GsonBuilder().disableHtmlEscaping()
        .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE).create();
    /** The same, indented, for humans (reports, the console). */
    public static final Gson PRETTY = GSON.newBuilder().setPrettyPrinting().serializeNulls().create();
    private static final Type MAP = new TypeToken<Map<String, Object>>() {}.getType();
    /** {@code <plugin>.<verb>}: lower-case dotted words (docs/protocol.md §7). */
    public static final Pattern ACTION = Command.ACTION;

    /** A malformed document or field; the message names it. */
    public static final class FrameException extends Exception {
        private static final long serialVersionUID = 1L;

        public FrameException(String message) { super(message); }
    }

    private Codec() {}

    /**
     * Parses strict JSON (no comments, no trailing garbage).
     *
     * @param what names the document in errors, e.g. "tasks file /x.json"
     */
    public static JsonElement parse(Reader in, String what) throws FrameException {
        try {
            JsonReader r = new JsonReader(in);
            r.setStrictness(Strictness.STRICT);
            JsonElement e = JsonParser.parseReader(r);
            if (r.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
                throw new FrameException(what + ": unexpected content after the JSON value " + location(r));
            }
            return e;
        } catch (JsonParseException | IOException | IllegalStateException e) {
            throw new FrameException(what + ": not valid JSON: " + cleanGsonMessage(e));
        }
    }

    public static JsonElement parse(String text, String what) throws FrameException {
        return parse(new StringReader(text), what);
    }

    private static String location(JsonReader r) {
        String s = r.toString(); // "JsonReader at line L column C path $"
        int i = s.indexOf(" at ");
        return i < 0 ? "" : s.substring(i + 1);
    }

    /** Gson appends a troubleshooting URL to its messages; the line and column are what a user needs. */
    public static String cleanGsonMessage(Throwable e) {
        Throwable t = e.getCause() != null && e instanceof JsonParseException ? e.getCause() : e;
        String m = String.valueOf(t.getMessage());
        int i = m.indexOf("\nSee https://");
        if (i >= 0) m = m.substring(0, i);
        // advice for programmers, not for whoever wrote the file
        return m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    }

    /** Reads a command object; {@code where} names it in errors, e.g. {@code commands[3]}. */
    public static Command command(JsonElement e, String where) throws FrameException {
        if (e == null || !e.isJsonObject()) throw new FrameException(where + " must be a JSON object");
        JsonObject o = e.getAsJsonObject();
        String id = requiredString(o, "id", where);
        String action = requiredString(o, "action", where);
        if (!ACTION.matcher(action).matches()) {
            throw new FrameException(where + ".action must be a dotted name like 'agent.ping', got '" + action + "'");
        }
        Map<String, Object> params = new LinkedHashMap<>();
        JsonElement p = o.get("params");
        if (p != null && !p.isJsonNull()) {
            if (!p.isJsonObject()) throw new FrameException(where + ".params must be a JSON object");
            params = GSON.fromJson(p, MAP);
        }
        Integer timeout = null;
        JsonElement t = o.get("timeoutSeconds");
        if (t != null && !t.isJsonNull()) {
            if (!t.isJsonPrimitive() || !t.getAsJsonPrimitive().isNumber() || t.getAsDouble() != Math.rint(t.getAsDouble())
                || t.getAsDouble() < 1 || t.getAsDouble() > Integer.MAX_VALUE) {
                throw new FrameException(where + ".timeoutSeconds must be a positive integer, got " + t);
            }
            timeout = t.getAsInt();
        }
        boolean dryRun = false;
        JsonElement d = o.get("dryRun");
        if (d != null && !d.isJsonNull()) {
            if (!d.isJsonPrimitive() || !d.getAsJsonPrimitive().isBoolean()) {
                throw new FrameException(where + ".dryRun must be true or false, got " + d);
            }
            dryRun = d.getAsBoolean();
        }
        return new Command(id, action, params, timeout, time(o, "issuedAt", where), time(o, "expiresAt", where), dryRun);
    }

    private static String requiredString(JsonObject o, String field, String where) throws FrameException {
        JsonElement v = o.get(field);
        if (v == null || v.isJsonNull()) throw new FrameException(where + "." + field + " is required");
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString() || v.getAsString().isBlank()) {
            throw new FrameException(where + "." + field + " must be a non-empty string, got " + v);
        }
        return v.getAsString();
    }

    private static Instant time(JsonObject o, String field, String where) throws FrameException {
        JsonElement v = o.get(field);
        if (v == null || v.isJsonNull()) return null;
        try {
            return Instant.parse(v.getAsString());
        } catch (DateTimeParseException | UnsupportedOperationException | IllegalStateException e) {
            throw new FrameException(where + "." + field + " must be an RFC 3339 UTC time like 2026-11-23T22:56:11Z, got " + v);
        }
    }

    /** The result object of docs/protocol.md §3, without {@code type}. */
    public static JsonObject result(Result r) {
        JsonObject o = new JsonObject();
        o.addProperty("id", r.id());
        o.addProperty("status", r.status().wireName());
        if (r.exitCode() != null) o.addProperty("exitCode", r.exitCode());
        o.addProperty("output", r.output());
        o.addProperty("outputTruncated", r.outputTruncated());
        if (r.error() != null) o.addProperty("error", r.error());
        if (r.errorCode() != null) o.addProperty("errorCode", r.errorCode().wireName());
        if (r.data() != null) o.add("data", GSON.toJsonTree(r.data()));
        if (r.startedAt() != null) o.addProperty("startedAt", r.startedAt().toString());
        o.addProperty("finishedAt", r.finishedAt().toString());
        return o;
    }

    /**
     * The {@code result} frame, kept under the frame limit: if it is too big the output is dropped (and marked
     * truncated), then the data, with the error saying so; the stored result keeps everything.
     */
    public static JsonObject resultFrame(Result r, int maxFrameBytes) {
        JsonObject o = result(r);
        o.addProperty("type", "result");
        if (size(o) <= maxFrameBytes) return o;
        o.addProperty("output", "");
        o.addProperty("outputTruncated", true);
        if (size(o) <= maxFrameBytes) return o;
        o.remove("data");
        o.addProperty("error", (r.error() == null ? "" : r.error() + "; ")
            + "result too large for one frame: output and data dropped (see agent:command " + r.id() + ")");
        return o;
    }

    private static int size(JsonObject o) {
        return GSON.toJson(o).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /** The event object of docs/protocol.md §3 and §9, without {@code type}. */
    public static JsonObject event(agent.api.Event e) {
        JsonObject o = new JsonObject();
        o.addProperty("id", e.id());
        o.addProperty("kind", e.kind());
        o.addProperty("time", e.time().toString());
        o.add("data", e.data() == null ? com.google.gson.JsonNull.INSTANCE : GSON.toJsonTree(e.data()));
        return o;
    }

    /** Parses a JSON object of params, e.g. from the console. */
    public static Map<String, Object> params(String json, String where) throws FrameException {
        JsonElement e = parse(json, where);
        if (!e.isJsonObject()) throw new FrameException(where + " must be a JSON object, got " + e);
        return GSON.fromJson(e, MAP);
    }
}
