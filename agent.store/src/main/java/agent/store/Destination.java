package agent.store;

/**
 * Who asked for a command and so who gets its answer: its {@code accepted} and its one result. Stored with the
 * command; only {@link #SERVER} results wait in the outbox until the server acks them.
 *
 * @since 2.0
 */
public enum Destination {
    /** The management server, over either transport: the result waits in the outbox until acked. */
    SERVER("server"),
    /** An operator in the agent's Gogo shell ({@code agent:exec}): answered there. */
    SHELL("shell"),
    /** A task file in offline mode: answered in the report. */
    OFFLINE("offline");

    private final String wire;

    Destination(String wire) { this.wire = wire; }

    /** @return the name stored in the database, e.g. {@code server} */
    public String wireName() { return wire; }

    /**
     * @param wire a stored name
     * @return the destination
     * @throws IllegalArgumentException naming the value
     */
    public static Destination fromWire(String wire) {
        for (Destination d : values()) {
            if (d.wire.equals(wire)) return d;
        }
        throw new IllegalArgumentException("unknown destination '" + wire + "' (known: server, shell, offline)");
    }
}
