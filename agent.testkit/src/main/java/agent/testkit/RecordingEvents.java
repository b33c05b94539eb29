package agent.testkit;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import agent.api.Event;
import agent.api.Events;
import agent.core.internal.events.EventData;

/**
 * An {@link Events} for plugin unit tests: checks each event as the agent does (kind, JSON-only data, size) and keeps
 * it, so a test can assert what a component emitted. Give it to the component where the agent would inject its own
 * ({@code component.events = new RecordingEvents();}).
 *
 * @since 1.2
 */
public final class RecordingEvents implements Events {
    private final List<Event> emitted = new CopyOnWriteArrayList<>();

    @Override
    public Event emit(String kind, Object data) {
        EventData.check(kind, data);
        Event e = new Event(UUID.randomUUID().toString(), kind, Instant.now().truncatedTo(ChronoUnit.MILLIS), data);
        emitted.add(e);
        return e;
    }

    /** @return every event emitted so far, in order */
    public List<Event> all() { return List.copyOf(emitted); }

    /** @param kind a kind @return the events of that kind, in order */
    public List<Event> ofKind(String kind) {
        return emitted.stream().filter(e -> e.kind().equals(kind)).toList();
    }

    /** Forgets what was emitted. */
    public void clear() { emitted.clear(); }
}
