package server.store;

import java.util.List;

/** Rows of the server store, as the rest of the server sees them. JSON columns stay JSON text. */
public final class Records {
    private Records() {}

    public record Agent(String agentId, String hostname, String machineId, String hello, String plugins,
                        String transport, boolean connected, String lastSeen, String enrolledAt) {}

    public record Command(String id, String agentId, String action, String params, Integer timeoutSeconds,
                          String issuedAt, String expiresAt, String state, boolean cancelRequested, String createdAt) {}

    public record Result(String id, String agentId, String status, String result, String receivedAt) {}

    public record Bundle(String sha256, String bsn, String version, long size, String uploadedAt) {}

    /** What an agent is to be sent after hello or at a check-in: commands to run and ids to cancel. */
    public record Pending(List<Command> commands, List<String> cancels) {}

    /** A command the operator asked for, before it is stored. */
    public record NewCommand(String id, String agentId, String action, String params, Integer timeoutSeconds,
                             String expiresAt) {}

    /** What storing one result came to. */
    public enum ResultOutcome {
        /** Stored now: ack it. */
        STORED,
        /** Stored before (a re-sent copy): ack it again, store nothing. */
        DUPLICATE,
        /** The id belongs to another agent's command: not stored, not acked. */
        FOREIGN
    }

    /** States of a command on the server: queued → dispatched → accepted → done, or cancelled while queued. */
    public static final class State {
        public static final String QUEUED = "queued";
        public static final String DISPATCHED = "dispatched";
        public static final String ACCEPTED = "accepted";
        public static final String DONE = "done";
        public static final String CANCELLED = "cancelled";

        private State() {}
    }
}
