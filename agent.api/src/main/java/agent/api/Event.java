package agent.api;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One event as it travels to the server: PROTOCOL.md §3 {@code event}. Plugins do not make these; they call
 * {@link Events#emit}, and the agent records and delivers the event. Immutable.
 *
 * @since 1.2
 */
public final class Event {
    /** What a kind looks like: lower-case dotted words, at most 64 characters, e.g. {@code health} or {@code backup.done}. */
    public static final Pattern KIND = Pattern.compile("[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*");

    private final String id;
    private final String kind;
    private final Instant time;
    private final Object data;

    /**
     * @param id   unique id (a UUID string): the server stores an event once however often it arrives
     * @param kind the kind, matching {@link #KIND}
     * @param time when it happened
     * @param data JSON-compatible Java values, or null
     * @throws IllegalArgumentException if the kind is not a valid kind
     */
    public Event(String id, String kind, Instant time, Object data) {
        this.id = Objects.requireNonNull(id, "id");
        this.kind = checkKind(kind);
        this.time = Objects.requireNonNull(time, "time");
        this.data = data;
    }

    /**
     * @param kind an event kind
     * @return the kind
     * @throws IllegalArgumentException naming the kind and what a kind looks like
     */
    public static String checkKind(String kind) {
        if (kind == null || kind.length() > 64 || !KIND.matcher(kind).matches()) {
            throw new IllegalArgumentException("event kind must be lower-case dotted words of at most 64 characters"
                + " (like 'health' or 'backup.done'), got " + (kind == null ? "null" : "'" + kind + "'"));
        }
        return kind;
    }

    /** @return the event's id */
    public String id() { return id; }

    /** @return its kind */
    public String kind() { return kind; }

    /** @return when it happened */
    public Instant time() { return time; }

    /** @return its data, or null */
    public Object data() { return data; }

    @Override
    public String toString() { return kind + " " + id; }
}
