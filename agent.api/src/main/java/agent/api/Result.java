package agent.api;

import java.time.Instant;
import java.util.Objects;

/**
 * The one result of a command: PROTOCOL.md §3 {@code result}. Immutable.
 */
public final class Result {
    private final String id;
    private final Status status;
    private final Integer exitCode;
    private final String output;
    private final boolean outputTruncated;
    private final String error;
    private final ErrorCode errorCode;
    private final Object data;
    private final Instant startedAt;
    private final Instant finishedAt;

    /**
     * A result without an error code; see {@link #Result(String, Status, Integer, String, boolean, String, ErrorCode,
     * Object, Instant, Instant)}.
     *
     * @param id              the command id
     * @param status          a terminal status
     * @param exitCode        exit code of the main process, or null
     * @param output          stdout and stderr, interleaved, capped; never null
     * @param outputTruncated true if the middle of the output was dropped
     * @param error           a message naming the problem, or null on success
     * @param data            structured data (JSON-compatible Java values), or null
     * @param startedAt       when the handler started, or null if it never did
     * @param finishedAt      when the command ended
     */
    public Result(String id, Status status, Integer exitCode, String output, boolean outputTruncated, String error,
            Object data, Instant startedAt, Instant finishedAt) {
        this(id, status, exitCode, output, outputTruncated, error, null, data, startedAt, finishedAt);
    }

    /**
     * @param id              the command id
     * @param status          a terminal status
     * @param exitCode        exit code of the main process, or null
     * @param output          stdout and stderr, interleaved, capped; never null
     * @param outputTruncated true if the middle of the output was dropped
     * @param error           a message naming the problem, or null on success
     * @param errorCode       the machine-readable reason, or null (on success, or from an older agent)
     * @param data            structured data (JSON-compatible Java values), or null
     * @param startedAt       when the handler started, or null if it never did
     * @param finishedAt      when the command ended
     * @since 1.2
     */
    public Result(String id, Status status, Integer exitCode, String output, boolean outputTruncated, String error,
            ErrorCode errorCode, Object data, Instant startedAt, Instant finishedAt) {
        this.id = Objects.requireNonNull(id, "id");
        this.status = Objects.requireNonNull(status, "status");
        if (!status.isTerminal()) throw new IllegalArgumentException("a result needs a terminal status, got " + status);
        this.exitCode = exitCode;
        this.output = output == null ? "" : output;
        this.outputTruncated = outputTruncated;
        this.error = error;
        this.errorCode = errorCode;
        this.data = data;
        this.startedAt = startedAt;
        this.finishedAt = Objects.requireNonNull(finishedAt, "finishedAt");
    }

    /**
     * A command that ended without running: {@code rejected} for every code but {@link ErrorCode#CANCELLED} (which
     * gives {@code cancelled}); no output, no start time.
     *
     * @param id         the command id
     * @param code       why
     * @param error      the same for a human, naming the thing at fault
     * @param finishedAt when
     * @return the result
     * @since 1.2
     */
    public static Result notRun(String id, ErrorCode code, String error, Instant finishedAt) {
        Status s = code == ErrorCode.CANCELLED ? Status.CANCELLED : Status.REJECTED;
        return new Result(id, s, null, "", false, Objects.requireNonNull(error, "error"), Objects.requireNonNull(code, "code"),
            null, null, finishedAt);
    }

    /** @return the command id */
    public String id() { return id; }

    /** @return the terminal status */
    public Status status() { return status; }

    /** @return the exit code, or null */
    public Integer exitCode() { return exitCode; }

    /** @return the captured output, never null */
    public String output() { return output; }

    /** @return whether the output was cut in the middle */
    public boolean outputTruncated() { return outputTruncated; }

    /** @return the error message, or null */
    public String error() { return error; }

    /**
     * @return the machine-readable reason of a result that did not succeed, or null
     * @since 1.2
     */
    public ErrorCode errorCode() { return errorCode; }

    /** @return the structured data, or null */
    public Object data() { return data; }

    /** @return when the handler started, or null */
    public Instant startedAt() { return startedAt; }

    /** @return when the command ended */
    public Instant finishedAt() { return finishedAt; }

    /**
     * @param error     the new error text
     * @param errorCode the new code
     * @return a copy with another error (the agent adds to a result it must shorten or explain)
     * @since 1.2
     */
    public Result withError(String error, ErrorCode errorCode) {
        return new Result(id, status, exitCode, output, outputTruncated, error, errorCode, data, startedAt, finishedAt);
    }

    @Override
    public String toString() {
        return id + " " + status.wireName() + (error == null ? "" : " (" + (errorCode == null ? "" : errorCode.wireName()
            + ": ") + error + ")");
    }
}
