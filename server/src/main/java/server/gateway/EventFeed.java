package server.gateway;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Operators following events ({@code GET /api/v1/events?after=..&wait=S}): each waiting request holds a future that
 * completes when events are next committed; it then reads the store again with its filters. Nothing polls.
 */
public final class EventFeed {
    private final Set<CompletableFuture<Void>> waiting = ConcurrentHashMap.newKeySet();

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
    }

    /** Requests waiting now (for tests). */
    public int waiting() {
        return waiting.size();
    }
}
