package packager;

import java.io.IOException;
import java.io.Reader;

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
 * Strict JSON for the packager config, as the agent reads its own config file: no comments, nothing after the value,
 * and a key given twice in one object is an error naming it and its line (the last one silently winning would hide a
 * typo'd override). Errors give the line and column.
 */
final class StrictJson {
    private StrictJson() {}

    /**
     * @param in   the text
     * @param what names the document in errors
     * @return the value
     * @throws PackagerException naming the document, the problem and where
     */
    static JsonElement parse(Reader in, String what) throws PackagerException {
        JsonReader r = new JsonReader(in);
        r.setStrictness(Strictness.STRICT);
        try {
            JsonElement e = read(r, what);
            if (r.peek() != JsonToken.END_DOCUMENT) throw PackagerException.config(what + ": unexpected content after the JSON value " + at(r));
            return e;
        } catch (MalformedJsonException e) {
            throw PackagerException.config(what + ": not valid JSON: " + clean(e.getMessage()));
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            throw PackagerException.config(what + ": not valid JSON: " + clean(e.getMessage()) + " " + at(r));
        }
    }

    private static JsonElement read(JsonReader r, String what) throws IOException, PackagerException {
        switch (r.peek()) {
            case BEGIN_OBJECT: {
                JsonObject o = new JsonObject();
                r.beginObject();
                while (r.hasNext()) {
                    String where = at(r);
                    String name = r.nextName();
                    if (o.has(name)) throw PackagerException.config(what + ": key '" + name + "' appears twice in one object (" + where + ")");
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
                throw PackagerException.config(what + ": not valid JSON: unexpected " + r.peek() + " " + at(r));
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
