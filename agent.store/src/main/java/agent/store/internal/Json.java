package agent.store.internal;

import java.lang.reflect.Type;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.ToNumberPolicy;
import com.google.gson.reflect.TypeToken;

/** JSON text of params and data as stored in the database. */
final class Json {
    // integers stay Long (not Double) when read back into Object
    static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping()
        .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE).create();
    private static final Type MAP = new TypeToken<Map<String, Object>>() {}.getType();

    private Json() {}

    static String write(Object value) { return GSON.toJson(value); }

    static Map<String, Object> readMap(String text) { return GSON.fromJson(text, MAP); }

    static Object read(String text) { return text == null ? null : GSON.fromJson(text, Object.class); }
}
