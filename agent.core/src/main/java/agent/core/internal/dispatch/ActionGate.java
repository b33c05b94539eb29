package agent.core.internal.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.CommandException;

/**
 * Holds the actions of a plugin while it is installed, upgraded or removed: their commands are accepted and recorded
 * as usual but wait before they start, until the change ends; then they run against whatever serves the action (the
 * new version, the old one put back, or nothing: rejected as unknown). Knows which commands of each action run now,
 * so a change can wait for them to end first. A component of its own so that the dispatcher (which asks it before
 * each start) and the plugin manager (which holds) both depend on it and not on each other.
 */
@Component(service = ActionGate.class, immediate = true)
public final class ActionGate {
    private final HandlerRegistry registry;
    /** Held actions, with the concurrency key their commands keep while they wait ("" for none). */
    private final Map<String, String> held = new HashMap<>();
    /** Ids of the commands running now, by action. */
    private final Map<String, java.util.Set<String>> running = new HashMap<>();
    /** Starts that came while their action was held; run when the hold ends. */
    private final List<Parked> parked = new ArrayList<>();

    private record Parked(String action, Runnable start) {}

    /** @param registry what serves each action now (its concurrency key is kept while held) */
    @Activate
    public ActionGate(@Reference HandlerRegistry registry) { this.registry = registry; }

    /**
     * A command of the action is about to start.
     *
     * @param action the action
     * @param id     the command's id
     * @param start  what to run later if the action is held now
     * @return true if it may start now (it then counts as running until {@link #exit}); false if it was parked
     */
    public synchronized boolean enter(String action, String id, Runnable start) {
        if (held.containsKey(action)) {
            parked.add(new Parked(action, start));
            return false;
        }
        running.computeIfAbsent(action, a -> new java.util.LinkedHashSet<>()).add(id);
        return true;
    }

    /** @param action the action @param id a command of it that ended (after {@link #enter} returned true) */
    public synchronized void exit(String action, String id) {
        java.util.Set<String> ids = running.get(action);
        if (ids != null && ids.remove(id) && ids.isEmpty()) running.remove(action);
        notifyAll();
    }

    /** @param action an action @return the concurrency key its waiting commands keep ("" for none), or null if not held */
    public synchronized String heldKey(String action) { return held.get(action); }

    /**
     * @param actions the actions of the plugin about to change
     * @return the hold; close it when the change ends
     */
    public Hold hold(Collection<String> actions) {
        synchronized (this) {
            for (String a : actions) {
                held.put(a, registry.lookup(a).map(r -> r.concurrencyKey == null ? "" : r.concurrencyKey).orElse(""));
            }
        }
        return new Hold(List.copyOf(actions));
    }

    /** The end of a {@link #hold}: parked commands go on. */
    public final class Hold implements AutoCloseable {
        private final List<String> actions;

        private Hold(List<String> actions) { this.actions = actions; }

        /**
         * Waits until no command of the held actions is running (queued ones stay parked).
         *
         * @param max the longest to wait
         * @throws CommandException naming the actions still running when the wait ends
         * @throws InterruptedException if interrupted
         */
        public void awaitIdle(Duration max) throws CommandException, InterruptedException {
            long end = System.nanoTime() + max.toNanos();
            synchronized (ActionGate.this) {
                while (true) {
                    List<String> busy = new ArrayList<>();
                    for (String a : actions) busy.addAll(running.getOrDefault(a, java.util.Set.of()));
                    if (busy.isEmpty()) return;
                    long left = end - System.nanoTime();
                    if (left <= 0) {
                        throw new CommandException("commands " + busy + " of " + actions + " were still running after "
                            + max.toSeconds() + " s; nothing was changed");
                    }
                    ActionGate.this.wait(Math.max(1, left / 1_000_000));
                }
            }
        }

        @Override
        public void close() {
            List<Runnable> resume = new ArrayList<>();
            synchronized (ActionGate.this) {
                actions.forEach(held::remove);
                for (var it = parked.iterator(); it.hasNext();) {
                    Parked p = it.next();
                    if (!held.containsKey(p.action())) {
                        resume.add(p.start());
                        it.remove();
                    }
                }
            }
            resume.forEach(Runnable::run);
        }
    }
}
