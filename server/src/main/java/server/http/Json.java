package server.http;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

/** JSON reading and field validation shared by the agent gateway, the operator API and the CLI. */
public final class Json {
    /** Compact output, no HTML escaping (outputs carry shell text). */
    public static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
    public static final Gson PRETTY = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().serializeNulls().create();
    /** {@code <plugin>.<verb>}, as the agent checks it (docs/protocol.md §7). */
    public static final Pattern ACTION = Pattern.compile("[a-z][a-z0-9_-]*(\\.[a-zA-Z][a-zA-Z0-9_-]*)+");

    private Json() {}

    /** Parses one strict JSON value; the exception message says what is wrong and where. */
    public static JsonElement parse(String text) {
        try {
            JsonReader r = new JsonReader(new java.io.StringReader(text));
            r.setStrictness(Strictness.STRICT);
            JsonElement e = JsonParser.parseReader(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("unexpected content after the JSON value");
            }
            return e;
        } catch (JsonParseException | java.io.IOException | IllegalStateException e) {
            throw new JsonParseException(clean(e), e);
        }
    }

    /** Parses a request body that must be a JSON object, or answers 400. */
    public static JsonObject parseObject(String text, String what) {
        JsonElement e;
        try {
            e = parse(text);
        } catch (JsonParseException ex) {
            throw ApiException.badRequest(what + " is not valid JSON: " + ex.getMessage());
        }
        if (!e.isJsonObject()) throw ApiException.badRequest(what + " must be a JSON object");
        return e.getAsJsonObject();
    }

    /** Gson's messages end in a troubleshooting URL; the line and column are what a user needs. */
    public static String clean(Throwable e) {
        Throwable t = e instanceof JsonParseException && e.getCause() != null ? e.getCause() : e;
        String m = String.valueOf(t.getMessage());
        int i = m.indexOf("\nSee https://");
        return i < 0 ? m : m.substring(0, i);
    }

    public static boolean has(JsonObject o, String field) {
        JsonElement v = o.get(field);
        return v != null && !v.isJsonNull();
    }

    /** A string field or null when absent; {@code where} names the object in errors, e.g. {@code results[2]}. */
    public static String optString(JsonObject o, String field, String where) {
        JsonElement v = o.get(field);
        if (v == null || v.isJsonNull()) return null;
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
            throw ApiException.badRequest(where + field + " must be a string, got " + abbreviate(v));
        }
        return v.getAsString();
    }

    public static String reqString(JsonObject o, String field, String where) {
        String s = optString(o, field, where);
        if (s == null) throw ApiException.badRequest(where + field + " is required");
        if (s.isBlank()) throw ApiException.badRequest(where + field + " must not be empty");
        return s;
    }

    public static Integer optPositiveInt(JsonObject o, String field, String where) {
        JsonElement v = o.get(field);
        if (v == null || v.isJsonNull()) return null;
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
            throw ApiException.badRequest(where + field + " must be a positive integer, got " + abbreviate(v));
        }
        double d = v.getAsDouble();
        if (d != Math.rint(d) || d < 1 || d > Integer.MAX_VALUE) {
            throw ApiException.badRequest(where + field + " must be a positive integer, got " + abbreviate(v));
        }
        return (int) d;
    }

    public static boolean optBoolean(JsonObject o, String field, String where) {
        JsonElement v = o.get(field);
        if (v == null || v.isJsonNull()) return false;
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
            throw ApiException.badRequest(where + field + " must be true or false, got " + abbreviate(v));
        }
        return v.getAsBoolean();
    }

    public static Instant optTime(JsonObject o, String field, String where) {
        String s = optString(o, field, where);
        if (s == null) return null;
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(where + field + " must be an RFC 3339 UTC time like 2026-11-23T22:56:11Z, got '"
                + abbreviate(new JsonPrimitive(s)) + "'");
        }
    }

    /** Shows a bad value in an error without echoing a megabyte of it. */
    public static String abbreviate(JsonElement v) {
        String s = v.isJsonPrimitive() && v.getAsJsonPrimitive().isString() ? v.getAsString() : v.toString();
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    public static JsonObject error(String message) {
        JsonObject o = new JsonObject();
        o.addProperty("error", message);
        return o;
    }
}
