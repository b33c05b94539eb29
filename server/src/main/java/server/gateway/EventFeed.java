package server.gateway;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Operators following events ({@code GET /api/v1/events?after=..&wait=S}): each waiting request holds a future that
 * completes when events are next committed; it then reads the store again with its filters. Nothing polls.
 */
public final class EventFeed {
    private final Set<CompletableFuture<Void>> waiting = ConcurrentHashMap.newKeySet();
    /** Told of every commit of events, for as long as the server runs (the console's live pages). */
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** A future completed at the next {@link #signal}. Register it before reading, so no commit falls in between. */
    public CompletableFuture<Void> next() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        waiting.add(f);
        f.whenComplete((v, err) -> waiting.remove(f)); // a timeout or a client gone away unregisters it too
        return f;
    }

    /** Events were committed: wake every waiting request. Cheap: the requests re-read on their own threads. */
    public void signal() {
        for (CompletableFuture<Void> f : waiting) f.complete(null);
        for (Runnable l : listeners) l.run();
    }

    /** Tells {@code listener} of every commit of events from now on; it runs on the committing thread and must return at once. */
    public void addListener(Runnable listener) {
        listeners.add(listener);
    }

    /** Requests waiting now (for tests). */
    public int waiting() {
        return waiting.size();
    }
}
