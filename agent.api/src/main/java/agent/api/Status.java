package agent.api;

/**
 * The state of a command id in the agent's store (PROTOCOL.md §6). The last six are terminal:
 * each is the status of exactly one {@link Result}.
 */
public enum Status {
    /** Durably recorded, not started yet. */
    RECEIVED("received"),
    /** Durably marked as started; the handler runs. */
    RUNNING("running"),
    /** The handler finished normally. */
    SUCCEEDED("succeeded"),
    /** The handler reported a failure, a parameter was invalid, or a process exited non-zero. */
    FAILED("failed"),
    /** The timeout passed; the process tree was killed. */
    TIMED_OUT("timed_out"),
    /** Cancelled by the server or an operator, queued or running. */
    CANCELLED("cancelled"),
    /** The agent died while the command ran; it is never run again. */
    INTERRUPTED("interrupted"),
    /** Never started: unknown action, expired, or refused. */
    REJECTED("rejected");

    private final String wire;

    Status(String wire) { this.wire = wire; }

    /** @return the name used on the wire and in the store, e.g. {@code timed_out} */
    public String wireName() { return wire; }

    /** @return true for the six statuses that end a command */
    public boolean isTerminal() { return this != RECEIVED && this != RUNNING; }

    /**
     * @param wire a wire name such as {@code succeeded}
     * @return the status
     * @throws IllegalArgumentException naming the value and the known names
     */
    public static Status fromWire(String wire) {
        for (Status s : values()) {
            if (s.wire.equals(wire)) return s;
        }
        StringBuilder known = new StringBuilder();
        for (Status s : values()) known.append(known.length() == 0 ? "" : ", ").append(s.wire);
        throw new IllegalArgumentException("unknown status '" + wire + "' (known: " + known + ")");
    }
}
