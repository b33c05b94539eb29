package server.store;

import java.util.List;

/** Rows of the server store, as the rest of the server sees them. JSON columns stay JSON text. */
public final class Records {
    private Records() {}

    /**
     * @param maxFrameBytes the {@code maxFrameBytes} of the agent's last hello, or null when it said none (an agent
     *                      that predates it: {@link #DEFAULT_MAX_FRAME_BYTES} applies)
     */
    public record Agent(String agentId, String hostname, String machineId, String hello, String plugins,
                        String transport, boolean connected, String lastSeen, String enrolledAt, Integer maxFrameBytes) {
        /** The largest frame this agent takes (docs/protocol.md §3). */
        public int frameLimit() {
            return maxFrameBytes == null ? DEFAULT_MAX_FRAME_BYTES : maxFrameBytes;
        }
    }

    /** The frame limit of an agent whose hello does not say {@code maxFrameBytes} (docs/protocol.md §3). */
    public static final int DEFAULT_MAX_FRAME_BYTES = 1 << 20;

    public record Command(String id, String agentId, String action, String params, Integer timeoutSeconds,
                          String issuedAt, String expiresAt, String state, boolean cancelRequested, String createdAt,
                          boolean dryRun) {}

    /**
     * A stored result. {@code attached}: the result of the server's command {@code id}, sent by the agent the
     * command was issued to; otherwise a result that lives under its agent only (an offline run's, or an id the
     * server never issued), which never answers for a command.
     */
    public record Result(String id, String agentId, String status, String result, String receivedAt, boolean attached) {}

    /** A stored event; {@code seq} orders events as the server stored them and is the cursor of the events API. */
    public record Event(long seq, String agentId, String event, String receivedAt) {}

    public record Bundle(String sha256, String bsn, String version, long size, String uploadedAt) {}

    /**
     * What an agent is to be sent after hello or at a check-in: commands to run and ids to cancel, and the results
     * the server made meanwhile for commands it cannot deliver (for the operators' waits).
     */
    public record Pending(List<Command> commands, List<String> cancels, List<Result> ended) {}

    /** A command the operator asked for, before it is stored. */
    public record NewCommand(String id, String agentId, String action, String params, Integer timeoutSeconds,
                             String expiresAt, boolean dryRun) {}

    /** What storing one result came to. */
    public enum ResultOutcome {
        /** Stored now as the result of the server's command: ack it, and it answers the waits for that command. */
        STORED,
        /** Stored now as an offline result, under its agent only (an id the server did not issue): ack it. */
        STORED_OFFLINE,
        /** Stored before (a re-sent copy): ack it again, store nothing. */
        DUPLICATE,
        /** The id belongs to another agent's command: not stored, not acked. */
        FOREIGN,
        /** Over what one agent may store (results that are not a command's): not stored, not acked. */
        OVER_QUOTA
    }

    /**
     * States of a command on the server: queued → dispatched → accepted → done; cancelled (by the operator before the
     * agent accepted it); undeliverable (its frame is over the agent's {@code maxFrameBytes}: never sent).
     */
    public static final class State {
        public static final String QUEUED = "queued";
        public static final String DISPATCHED = "dispatched";
        public static final String ACCEPTED = "accepted";
        public static final String DONE = "done";
        public static final String CANCELLED = "cancelled";
        public static final String UNDELIVERABLE = "undeliverable";

        private State() {}
    }
}
