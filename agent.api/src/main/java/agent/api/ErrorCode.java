package agent.api;

/**
 * Why a command did not succeed, in a form a server can act on without parsing {@link Result#error()}: the
 * result's {@code errorCode} (PROTOCOL.md §3). Every result that is not {@code succeeded} carries one; the
 * {@code error} text says the same for a human.
 *
 * @since 1.2
 */
public enum ErrorCode {
    /** No handler serves the action now; the error lists the actions that are served. */
    UNKNOWN_ACTION("unknown_action"),
    /** A param is missing or has a wrong value; the error names the param. */
    INVALID_PARAM("invalid_param"),
    /** The command itself is malformed (no action, a bad field); the error names the field. */
    INVALID_COMMAND("invalid_command"),
    /** The plugin's section of the agent's config is invalid; the error names the key and the file. */
    INVALID_SETTINGS("invalid_settings"),
    /** {@code expiresAt} has passed, or {@code issuedAt} is older than the retention window: it must not run. */
    EXPIRED("expired"),
    /** {@code issuedAt} lies further in the future than the allowed clock skew: it is not run. */
    CLOCK_SKEW("clock_skew"),
    /** The handler refused the command before changing anything (a policy, a check of its input). */
    REFUSED("refused"),
    /** The command asked for a dry run and its action does not support one; nothing was run. */
    DRY_RUN_UNSUPPORTED("dry_run_unsupported"),
    /** Something the command needs is held by someone else (a package manager's lock); try again later. */
    BUSY("busy"),
    /** What the command names does not exist (a backup, a data set, a script). */
    NOT_FOUND("not_found"),
    /** The handler reported a failure; the error says what failed. */
    FAILED("failed"),
    /** A process the command ran exited with a non-zero code, in {@code exitCode}. */
    NONZERO_EXIT("nonzero_exit"),
    /** The handler threw something agent.api does not define (a bug in the plugin); the error names it. */
    HANDLER_ERROR("handler_error"),
    /** Cancelled by the server or an operator, while queued or running. */
    CANCELLED("cancelled"),
    /**
     * The command ran longer than its timeout; its processes were killed. A handler that enforces a limit of its own
     * throws {@code new CommandException(message, ErrorCode.TIMED_OUT)}: the command then ends {@code timed_out} too.
     */
    TIMED_OUT("timed_out"),
    /** The agent stopped while the command ran (a crash, a restart, a plugin ending the process); not run again. */
    INTERRUPTED("interrupted");

    private final String wire;

    ErrorCode(String wire) { this.wire = wire; }

    /** @return the name used on the wire and in the store, e.g. {@code dry_run_unsupported} */
    public String wireName() { return wire; }

    /**
     * @param wire a wire name such as {@code expired}
     * @return the code, or null for a name this agent does not know (a newer peer's)
     */
    public static ErrorCode fromWire(String wire) {
        for (ErrorCode c : values()) {
            if (c.wire.equals(wire)) return c;
        }
        return null;
    }
}
