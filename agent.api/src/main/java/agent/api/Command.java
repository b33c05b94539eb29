package agent.api;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One command as the server (or a task file) sent it: PROTOCOL.md §3 {@code command}.
 * Immutable; {@link #params()} holds JSON values as Java values (String, Long, Double,
 * Boolean, List, Map, or null).
 */
public final class Command {
    /**
     * What an action name looks like: {@code <plugin>.<verb>}, a lower-case prefix and dotted words
     * (docs/protocol.md §7), e.g. {@code disk.extend}. The prefix names the plugin and its config section.
     *
     * @since 1.2
     */
    public static final java.util.regex.Pattern ACTION = java.util.regex.Pattern.compile("[a-z][a-z0-9_-]*(\\.[a-zA-Z][a-zA-Z0-9_-]*)+");

    private final String id;
    private final String action;
    private final Map<String, Object> params;
    private final Integer timeoutSeconds;
    private final Instant issuedAt;
    private final Instant expiresAt;
    private final boolean dryRun;

    /**
     * @param id             globally unique id (a UUID string); never empty
     * @param action         dotted action name such as {@code agent.ping}; never empty
     * @param params         parameters, may be null (taken as empty)
     * @param timeoutSeconds requested timeout, or null for the action's default
     * @param issuedAt       when the server issued it, or null
     * @param expiresAt      after this instant the command must not run, or null
     */
    public Command(String id, String action, Map<String, Object> params, Integer timeoutSeconds, Instant issuedAt,
            Instant expiresAt) {
        this(id, action, params, timeoutSeconds, issuedAt, expiresAt, false);
    }

    /**
     * @param id             globally unique id (a UUID string); never empty
     * @param action         dotted action name such as {@code agent.ping}; never empty
     * @param params         parameters, may be null (taken as empty)
     * @param timeoutSeconds requested timeout, or null for the action's default
     * @param issuedAt       when the server issued it, or null
     * @param expiresAt      after this instant the command must not run, or null
     * @param dryRun         true to ask what the command would change, changing nothing (see {@link DryRun})
     * @since 1.2
     */
    public Command(String id, String action, Map<String, Object> params, Integer timeoutSeconds, Instant issuedAt,
            Instant expiresAt, boolean dryRun) {
        this.id = Objects.requireNonNull(id, "id");
        this.action = Objects.requireNonNull(action, "action");
        this.params = params == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.timeoutSeconds = timeoutSeconds;
        this.issuedAt = issuedAt;
        this.expiresAt = expiresAt;
        this.dryRun = dryRun;
    }

    /** @return the command id */
    public String id() { return id; }

    /** @return the action name */
    public String action() { return action; }

    /** @return the parameters, never null */
    public Map<String, Object> params() { return params; }

    /** @return the requested timeout in seconds, or null */
    public Integer timeoutSeconds() { return timeoutSeconds; }

    /** @return when the command was issued, or null */
    public Instant issuedAt() { return issuedAt; }

    /** @return when the command expires, or null */
    public Instant expiresAt() { return expiresAt; }

    /**
     * @return whether this is a dry run: the handler changes nothing and says what it would do
     * @since 1.2
     */
    public boolean dryRun() { return dryRun; }

    @Override
    public String toString() { return action + " " + id + (dryRun ? " (dry run)" : ""); }
}
