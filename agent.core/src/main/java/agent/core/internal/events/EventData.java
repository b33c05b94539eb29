package agent.core.internal.events;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonElement;

import agent.api.Event;
import agent.api.Events;

/**
 * The checks every emitted event goes through (agent.api {@link Events#emit}), in the agent and in agent.testkit
 * alike: a valid kind, data made only of JSON values, at most {@link Events#MAX_DATA_BYTES} as JSON. Public (in a
 * package the bundle does not export) for agent.testkit.
 */
public final class EventData {
    private static final com.google.gson.Gson GSON = agent.core.internal.config.JsonFile.GSON;

    private EventData() {}

    /**
     * @param kind an event kind
     * @param data the event's data
     * @return the data as a JSON tree, ready to record
     * @throws IllegalArgumentException naming what is wrong
     */
    public static JsonElement check(String kind, Object data) {
        Event.checkKind(kind);
        checkValues("event data", data);
        JsonElement tree = GSON.toJsonTree(data);
        int bytes = GSON.toJson(tree).getBytes(StandardCharsets.UTF_8).length;
        if (bytes > Events.MAX_DATA_BYTES) {
            throw new IllegalArgumentException("event '" + kind + "': data is " + bytes + " bytes as JSON, more than the "
                + Events.MAX_DATA_BYTES + " an event may carry");
        }
        return tree;
    }

    /**
     * @param path names the value in messages, e.g. {@code data}
     * @param v    a value that must be made of JSON values only
     * @throws IllegalArgumentException naming the first value that is not
     */
    public static void checkValues(String path, Object v) {
        if (v == null || v instanceof String || v instanceof Boolean) return;
        if (v instanceof Number) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException(path + " is " + v + ", which JSON cannot hold");
            return;
        }
        if (v instanceof List) {
            List<?> l = (List<?>) v;
            for (int i = 0; i < l.size(); i++) checkValues(path + "[" + i + "]", l.get(i));
            return;
        }
        if (v instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!(e.getKey() instanceof String)) throw new IllegalArgumentException(path + " has a key that is not a string: " + e.getKey());
                checkValues(path + "." + e.getKey(), e.getValue());
            }
            return;
        }
        throw new IllegalArgumentException(path + " must hold only null, String, Number, Boolean, List and Map, but is a "
            + v.getClass().getName());
    }
}
