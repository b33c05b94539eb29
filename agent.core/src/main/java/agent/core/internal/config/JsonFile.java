package agent.core.internal.config;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;

/**
 * Strict JSON for the files an operator writes (the config file): no comments, no trailing garbage, and a key that
 * appears twice in one object is an error naming it and its line (a parser that lets the last one win hides a
 * typo'd override). Errors give the line and column.
 */
public final class JsonFile {
    /**
     * The core's one Gson: JSON values as Java values with integers as Long (as plugins see params), nulls kept, no
     * HTML escaping. The wire protocol's own codec is agent.transport's.
     */
    public static final com.google.gson.Gson GSON = new com.google.gson.GsonBuilder().disableHtmlEscaping().serializeNulls()
        .setObjectToNumberStrategy(com.google.gson.ToNumberPolicy.LONG_OR_DOUBLE).create();

    private JsonFile() {}

    /**
     * @param in   the text
     * @param what names the document in errors, e.g. "config file /etc/outpost/config.json"
     * @return the value
     * @throws ConfigException naming the document, the problem and where
     */
    public static JsonElement parse(Reader in, String what) throws ConfigException {
        JsonReader r = new JsonReader(in);
        r.setStrictness(Strictness.STRICT);
        try {
            JsonElement e = read(r, what);
            if (r.peek() != JsonToken.END_DOCUMENT) throw new ConfigException(what + ": unexpected content after the JSON value " + at(r));
            return e;
        } catch (MalformedJsonException e) {
            throw new ConfigException(what + ": not valid JSON: " + clean(e.getMessage()));
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            throw new ConfigException(what + ": not valid JSON: " + clean(e.getMessage()) + " " + at(r));
        }
    }

    /** @param text JSON text @param what names it @return the value @throws ConfigException as {@link #parse(Reader, String)} */
    public static JsonElement parse(String text, String what) throws ConfigException {
        return parse(new StringReader(text), what);
    }

    private static JsonElement read(JsonReader r, String what) throws IOException, ConfigException {
        switch (r.peek()) {
            case BEGIN_OBJECT: {
                JsonObject o = new JsonObject();
                r.beginObject();
                while (r.hasNext()) {
                    String where = at(r);
                    String name = r.nextName();
                    if (o.has(name)) throw new ConfigException(what + ": key '" + name + "' appears twice in one object (" + where + ")");
                    o.add(name, read(r, what));
                }
                r.endObject();
                return o;
            }
            case BEGIN_ARRAY: {
                JsonArray a = new JsonArray();
                r.beginArray();
                while (r.hasNext()) a.add(read(r, what));
                r.endArray();
                return a;
            }
            case STRING: return new JsonPrimitive(r.nextString());
            case NUMBER: return new JsonPrimitive(new java.math.BigDecimal(r.nextString()));
            case BOOLEAN: return new JsonPrimitive(r.nextBoolean());
            case NULL:
                r.nextNull();
                return JsonNull.INSTANCE;
            default:
                throw new ConfigException(what + ": not valid JSON: unexpected " + r.peek() + " " + at(r));
        }
    }

    private static String at(JsonReader r) {
        String s = r.toString(); // "JsonReader at line L column C path $.x"
        int i = s.indexOf(" at ");
        int p = s.indexOf(" path ");
        return i < 0 ? "" : s.substring(i + 1, p > i ? p : s.length());
    }

    /** Gson appends a troubleshooting URL and advice for programmers; the line and column are what a user needs. */
    private static String clean(String m) {
        if (m == null) return "";
        int i = m.indexOf("\nSee https://");
        if (i >= 0) m = m.substring(0, i);
        return m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    }
}
