package agent.store;

import java.time.Instant;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;

/** Everything the store holds about one command id. */
public final class CommandRecord {
    private final Command command;
    private final Destination destination;
    private final Status status;
    private final Instant receivedAt;
    private final Instant startedAt;
    private final Result result;
    private final boolean delivered;

    /**
     * @param command    the command
     * @param destination who asked for it
     * @param status     its status
     * @param receivedAt when it was recorded
     * @param startedAt  when it started, or null
     * @param result     its result if terminal, else null
     * @param delivered  whether the result was acked
     */
    public CommandRecord(Command command, Destination destination, Status status, Instant receivedAt, Instant startedAt,
            Result result, boolean delivered) {
        this.command = command;
        this.destination = destination;
        this.status = status;
        this.receivedAt = receivedAt;
        this.startedAt = startedAt;
        this.result = result;
        this.delivered = delivered;
    }

    /** @return the command */
    public Command command() { return command; }

    /** @return who asked for it and gets its answer */
    public Destination destination() { return destination; }

    /** @return its status */
    public Status status() { return status; }

    /** @return when it was recorded */
    public Instant receivedAt() { return receivedAt; }

    /** @return when it started, or null */
    public Instant startedAt() { return startedAt; }

    /** @return its result, or null while not terminal */
    public Result result() { return result; }

    /** @return whether its result was acked */
    public boolean delivered() { return delivered; }
}
