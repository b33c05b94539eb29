package server.gateway;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import server.store.Records.Result;

/**
 * Operators waiting for results (the API's {@code wait}): each wait is a future completed from the place where the
 * server has just committed an agent's result, or by a timer. Nothing polls the store.
 */
public final class ResultWaiters implements AutoCloseable {
    /** How many of the awaited results complete a wait. */
    public enum Until {
        /** Every one (or the timeout). */
        ALL,
        /** At least one new one (or the timeout): a long poll that returns results as they come. */
        ANY
    }

    /** One operator request's wait. Its future completes once, with the results it collected. */
    public final class Wait {
        private final Set<String> missing;
        /** Every id this wait is registered under (a result read from the store leaves its registration behind). */
        private final List<String> ids;
        private final List<Result> got = new ArrayList<>();
        private final Until until;
        private final CompletableFuture<List<Result>> future = new CompletableFuture<>();
        private ScheduledFuture<?> timeout; // guarded by this
        private boolean finished; // guarded by this: what it answers with is fixed

        private Wait(Collection<String> ids, Until until) {
            this.missing = new LinkedHashSet<>(ids);
            this.ids = List.copyOf(missing);
            this.until = until;
        }

        public CompletableFuture<List<Result>> future() {
            return future;
        }

        /** Ends the wait now with what it has (the timeout, or the client went away). */
        public void finish() {
            List<Result> out;
            synchronized (this) {
                if (finished) return;
                finished = true;
                out = List.copyOf(got);
                if (timeout != null) timeout.cancel(false);
            }
            for (String id : ids) unregister(id, this);
            future.complete(out);
        }

        private void offer(Result r) {
            boolean done;
            synchronized (this) {
                if (finished || !missing.remove(r.id())) return;
                got.add(r);
                done = missing.isEmpty() || until == Until.ANY;
            }
            if (done) finish();
        }
    }

    private final ConcurrentHashMap<String, List<Wait>> byId = new ConcurrentHashMap<>();
    /** Told of every stored result (the console's live updates); each must return at once. */
    private final List<java.util.function.Consumer<Result>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "result-waits");
        t.setDaemon(true);
        return t;
    });

    /**
     * Starts waiting for the results of {@code ids}.
     *
     * @param mayBeStored   the ids whose results may be stored already (a new command's cannot be)
     * @param storedAlready reads the stored results of {@code mayBeStored}; called after the wait is registered, so a
     *                      result committed at any moment is either read there or offered to the wait
     * @param timeoutMillis 0 answers at once with what is stored
     */
    public Wait await(Collection<String> ids, Collection<String> mayBeStored, Function<Collection<String>, List<Result>> storedAlready,
                      Until until, long timeoutMillis) {
        Wait w = new Wait(ids, until);
        if (ids.isEmpty()) {
            w.finish();
            return w;
        }
        for (String id : w.ids) byId.compute(id, (k, list) -> {
            List<Wait> l = list == null ? new ArrayList<>(1) : list;
            l.add(w);
            return l;
        });
        if (!mayBeStored.isEmpty()) for (Result r : storedAlready.apply(mayBeStored)) w.offer(r);
        if (timeoutMillis <= 0) {
            w.finish();
        } else {
            synchronized (w) {
                if (!w.finished) w.timeout = timer.schedule(w::finish, timeoutMillis, TimeUnit.MILLISECONDS);
            }
        }
        return w;
    }

    /** A result is committed: the waits for it get it. Call it after the commit, once per stored result. */
    public void stored(Result r) {
        List<Wait> waits = byId.remove(r.id());
        if (waits != null) for (Wait w : waits) w.offer(r);
        for (java.util.function.Consumer<Result> l : listeners) l.accept(r);
    }

    /**
     * Tells {@code listener} of every result stored from now on, after its commit. It is called on the store's writer
     * thread or a request's: it must only hand the news on, never block.
     */
    public void addListener(java.util.function.Consumer<Result> listener) {
        listeners.add(listener);
    }

    private void unregister(String id, Wait w) {
        byId.computeIfPresent(id, (k, list) -> {
            list.remove(w);
            return list.isEmpty() ? null : list;
        });
    }

    /** How many command ids are being waited for (for tests and metrics). */
    public int waitedIds() {
        return byId.size();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
