package agent.store;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

import agent.api.Event;

/**
 * Events waiting for the server (docs/protocol.md §9): recorded durably before anyone is told, kept until the
 * server acks them, bounded by count and age. When a bound drops events, the oldest go first and an event of kind
 * {@link #DROPPED_KIND} reports how many and from when (reports are not counted against the bound).
 *
 * @since 2.0
 */
@ProviderType
public interface EventLog {
    /** The kind of the event that reports dropped events: {@code {"count", "oldest", "newest", "reason"}}. */
    String DROPPED_KIND = "agent.events_dropped";

    /**
     * Records an event; returns once it is committed and synced.
     *
     * @param event    the event
     * @param maxCount the most events kept (drop reports not counted); beyond it the oldest tenth is dropped at once,
     *                 so a flood costs one drop report per tenth, not one per event
     * @param maxAge   events older than this are dropped
     * @return how many events were dropped to keep the bounds (usually 0)
     */
    int record(Event event, int maxCount, Duration maxAge);

    /** @param limit most to return @return events not yet acked, oldest first */
    List<Event> pending(int limit);

    /** @param ids events the server has stored: they are deleted */
    void ack(Collection<String> ids);

    /** @return how many events wait */
    int size();
}
