package agent.core.internal.events;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.Event;
import agent.api.Events;
import agent.core.internal.config.AgentConfig;
import agent.store.CommandStore;
import agent.store.StoreException;

/**
 * agent.api {@link Events}: every event is checked, recorded in the store (bounded by {@code max_queued_events} and
 * {@code max_event_age_hours}, docs/protocol.md §9) and only then announced, so the server connection sends it when
 * it can and again after a reconnect until the server acks it.
 */
@Component(service = {Events.class, EventsService.class}, immediate = true)
public final class EventsService implements Events {
    private static final Logger LOG = Logger.getLogger("agent.core.events");

    private final CommandStore store;
    private final int maxCount;
    private final Duration maxAge;
    private final Clock clock;
    private final List<Runnable> recorded = new CopyOnWriteArrayList<>();

    /** @param store where events wait @param config the bounds */
    @Activate
    public EventsService(@Reference CommandStore store, @Reference AgentConfig config) {
        this(store, config.maxQueuedEvents, Duration.ofHours(config.maxEventAgeHours), Clock.systemUTC());
    }

    /** For tests. */
    public EventsService(CommandStore store, int maxCount, Duration maxAge, Clock clock) {
        this.store = store;
        this.maxCount = maxCount;
        this.maxAge = maxAge;
        this.clock = clock;
    }

    @Override
    public Event emit(String kind, Object data) {
        EventData.check(kind, data);
        Event e = new Event(UUID.randomUUID().toString(), kind, Instant.now(clock).truncatedTo(ChronoUnit.MILLIS), data);
        try {
            store.events().record(e, maxCount, maxAge);
        } catch (StoreException ex) {
            LOG.warning("cannot record event " + kind + ": " + ex.getMessage());
            throw new IllegalStateException("event '" + kind + "' cannot be recorded: " + ex.getMessage(), ex);
        }
        LOG.fine(() -> "event " + e);
        recorded.forEach(Runnable::run);
        return e;
    }

    /** @param listener told after each event is recorded (the server connection sends it) */
    public void onRecorded(Runnable listener) { recorded.add(listener); }

    /** @param listener no longer told */
    public void removeOnRecorded(Runnable listener) { recorded.remove(listener); }
}
