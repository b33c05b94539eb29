package agent.testkit;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

import agent.api.Command;
import agent.api.CommandHandler;
import agent.transport.internal.Codec;

/**
 * Runs a plugin's {@link CommandHandler} in a unit test the way the agent runs it, with the agent's own
 * {@code CommandContext}: agent.core's {@code ExecutionContext}, so params fail with the agent's messages, output
 * is capped as {@code max_output_bytes} caps it, processes run from argument arrays with stdin from
 * {@code /dev/null}, and a cancel or timeout kills their whole process tree. The run ends in the
 * {@link Outcome} the dispatcher would report.
 *
 * <pre>{@code
 * Outcome o = TestContext.forAction("timezone.set").param("zone", "Europe/Paris")
 *     .setting("root", dir.toString()).run(new TimezoneSetter());
 * assertThat(o.status()).isEqualTo(Status.SUCCEEDED);
 * assertThat(o.dataAsMap()).containsEntry("zone", "Europe/Paris");
 * }</pre>
 *
 * Params and settings go through the protocol's JSON on their way in, as they do in the agent: an {@code int} param
 * reaches the handler as a {@code Long}, a list as a {@code List}. A builder; {@link #run} and {@link #start} may be
 * called more than once.
 */
public final class TestContext {
    /** The agent's default {@code max_output_bytes}. */
    public static final int DEFAULT_MAX_OUTPUT_BYTES = 262144;
    /** How long a run may take unless {@link #timeout(Duration)} says otherwise: a test should not hang. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    /** As in the agent: a stopped handler that has not returned after this much longer is abandoned. */
    public static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final String action;
    private String id;
    private final Map<String, Object> params = new LinkedHashMap<>();
    private final Map<String, Object> settings = new LinkedHashMap<>();
    private Duration timeout = DEFAULT_TIMEOUT;
    private int maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES;
    private Duration stopGrace = STOP_GRACE;
    private boolean dryRun;

    private TestContext(String action) { this.action = action; }

    /**
     * @param action the action to run, a dotted name such as {@code timezone.set}
     * @return a context with no params and no settings
     * @throws IllegalArgumentException if the name is not an action name the agent would accept
     */
    public static TestContext forAction(String action) {
        Objects.requireNonNull(action, "action");
        if (!Codec.ACTION.matcher(action).matches()) {
            throw new IllegalArgumentException("action must be a dotted name like 'disk.list', got '" + action + "'");
        }
        return new TestContext(action);
    }

    /** @param id the command id (default: a new UUID for each run) @return this */
    public TestContext id(String id) {
        this.id = Objects.requireNonNull(id, "id");
        return this;
    }

    /**
     * @param name  a param name
     * @param value a JSON value: null, String, Number, Boolean, a List or array of those, or a Map with String keys
     * @return this
     */
    public TestContext param(String name, Object value) {
        params.put(Objects.requireNonNull(name, "name"), checkJson("param '" + name + "'", value));
        return this;
    }

    /** @param values params to add, as {@link #param} takes them @return this */
    public TestContext params(Map<String, ?> values) {
        values.forEach(this::param);
        return this;
    }

    /**
     * @param json params as the server would send them, e.g. {@code {"zone": "UTC"}}
     * @return this
     * @throws IllegalArgumentException if it is not a JSON object
     */
    public TestContext paramsJson(String json) {
        try {
            params.putAll(Codec.params(json, "params"));
        } catch (Codec.FrameException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return this;
    }

    /**
     * Makes the run a dry run ({@code CommandContext.dryRun()} is true), as a command with {@code "dryRun": true}
     * does. The agent only lets a dry run reach a handler marked {@code @DryRun}; a test of such a handler checks that
     * it changes nothing and says what it would do.
     *
     * @param dryRun whether the run is a dry run
     * @return this
     * @since 1.2
     */
    public TestContext dryRun(boolean dryRun) {
        this.dryRun = dryRun;
        return this;
    }

    /**
     * A key of the plugin's config section, what {@code CommandContext.settings()} and
     * {@code CommandContext.settings(Class)} read (in the agent's config file, {@code plugins.settings.<prefix>}, or
     * the top-level {@code disk} and {@code health}); typed settings are checked as the agent checks them.
     *
     * @param name  a key
     * @param value a JSON value, as for {@link #param}
     * @return this
     */
    public TestContext setting(String name, Object value) {
        settings.put(Objects.requireNonNull(name, "name"), checkJson("setting '" + name + "'", value));
        return this;
    }

    /** @param values settings to add @return this */
    public TestContext settings(Map<String, ?> values) {
        values.forEach(this::setting);
        return this;
    }

    /**
     * @param limit how long the run may take before it is stopped as {@code timed_out} (the command's
     *              {@code timeoutSeconds}); default {@link #DEFAULT_TIMEOUT}
     * @return this
     */
    public TestContext timeout(Duration limit) {
        if (limit.isNegative() || limit.isZero()) throw new IllegalArgumentException("timeout must be positive, got " + limit);
        this.timeout = limit;
        return this;
    }

    /** @param bytes output kept, first and last halves (the agent's {@code max_output_bytes}) @return this */
    public TestContext maxOutputBytes(int bytes) {
        if (bytes < 2) throw new IllegalArgumentException("maxOutputBytes must be at least 2, got " + bytes);
        this.maxOutputBytes = bytes;
        return this;
    }

    /**
     * @param grace how long a cancelled or timed-out handler may take to return before it is abandoned (default
     *              {@link #STOP_GRACE}, as in the agent); a test of a handler that ignores cancellation shortens it
     * @return this
     */
    public TestContext stopGrace(Duration grace) {
        if (grace.isNegative()) throw new IllegalArgumentException("stopGrace must not be negative, got " + grace);
        this.stopGrace = grace;
        return this;
    }

    /**
     * Runs the handler to its end, on a thread of its own as the agent does.
     *
     * @param handler the handler under test
     * @return how the run ended
     * @throws Error what the handler threw if it was an {@link Error} other than a {@link LinkageError} (a failed
     *               assertion in a test double, say), so that the test fails with it
     */
    public Outcome run(CommandHandler handler) { return start(handler).await(); }

    /**
     * Starts the handler on a thread of its own and returns at once, to cancel it or watch it meanwhile.
     *
     * @param handler the handler under test
     * @return the run
     */
    public Running start(CommandHandler handler) {
        Objects.requireNonNull(handler, "handler");
        Map<String, Object> p = roundTrip(params, "params");
        Map<String, Object> s = Map.copyOf(roundTrip(settings, "settings"));
        Command command = new Command(id == null ? UUID.randomUUID().toString() : id, action, p, null, null, null, dryRun);
        return Running.start(command, s, handler, timeout, stopGrace, maxOutputBytes);
    }

    private static Map<String, Object> roundTrip(Map<String, Object> values, String what) {
        try {
            return Codec.params(Codec.GSON.toJson(values), what);
        } catch (Codec.FrameException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private static Object checkJson(String where, Object v) {
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) return v;
        if (v instanceof Collection) {
            ((Collection<?>) v).forEach(x -> checkJson(where, x));
            return v;
        }
        if (v instanceof Object[]) {
            for (Object x : (Object[]) v) checkJson(where, x);
            return v;
        }
        if (v instanceof Map) {
            ((Map<?, ?>) v).forEach((k, x) -> {
                if (!(k instanceof String)) throw new IllegalArgumentException(where + ": object keys must be strings, got " + k);
                checkJson(where, x);
            });
            return v;
        }
        throw new IllegalArgumentException(where + " must be a JSON value (String, Number, Boolean, List, Map or null), got "
            + v.getClass().getName() + " '" + v + "'");
    }
}
