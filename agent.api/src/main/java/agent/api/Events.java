package agent.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Sends events to the server (PROTOCOL.md §3 {@code event}): health snapshots, alerts, anything a plugin notices
 * outside a command. A service of the agent: a plugin component takes it with {@code @Reference Events events;}.
 *
 * <p>An event is recorded durably before {@link #emit} returns and is delivered as soon as the agent is connected;
 * one emitted while the server is unreachable is delivered after the reconnect, once. The backlog is bounded by
 * count and age (the agent's config); when it is full the oldest events are dropped and the drop is reported to
 * the server in an event of kind {@code agent.events_dropped}. In offline mode events go into the report.
 *
 * @since 1.2
 */
@ProviderType
public interface Events {
    /** The most an event's data may take as JSON text, in bytes: it must fit in one frame with room to spare. */
    int MAX_DATA_BYTES = 65536;

    /**
     * Records an event for delivery.
     *
     * @param kind what it is, lower-case dotted words ({@link Event#KIND}); {@code agent.*} is the core's own
     * @param data JSON-compatible Java values (null, String, Number, Boolean, List, Map with String keys), at most
     *             {@link #MAX_DATA_BYTES} as JSON
     * @return the event as recorded, with its id and time
     * @throws IllegalArgumentException naming what is wrong with the kind or the data; nothing is recorded
     * @throws IllegalStateException if the agent cannot record it now (its disk is full); nothing is recorded
     */
    Event emit(String kind, Object data);
}
