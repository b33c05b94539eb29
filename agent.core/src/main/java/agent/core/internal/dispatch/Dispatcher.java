package agent.core.internal.dispatch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import agent.api.Command;
import agent.api.ErrorCode;
import agent.api.Result;
import agent.api.Status;
import agent.core.internal.config.AgentConfig;
import agent.store.Admission;
import agent.store.CommandRecord;
import agent.store.CommandStore;
import agent.store.Destination;
import agent.store.Recovery;

/**
 * Runs commands at most once (docs/protocol.md §6): records each before acknowledging it, runs it on a bounded pool
 * with commands of the same concurrency key one at a time, enforces timeouts and cancellation (killing every process
 * of the command), and stores the one result before anyone hears of it. What becomes of each command is told to the
 * {@link CommandListener}s, new, pending and finished duplicates alike.
 */
@Component(service = Dispatcher.class, immediate = true)
public final class Dispatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("agent.core.dispatcher");

    private enum JobState { QUEUED, RUNNING, DONE }

    private final class Job implements Runnable {
        final Command command;
        final Destination to;
        final String lane;
        /** What serves the action, looked up when the command was scheduled; looked up again only if it went away. */
        final HandlerRegistry.Registration handler;
        final AtomicReference<JobState> state = new AtomicReference<>(JobState.QUEUED);
        final AtomicBoolean finished = new AtomicBoolean();
        volatile ExecutionContext context;
        /** A cancel came while the job was starting; execute() reads it after publishing its context. */
        volatile boolean cancelRequested;

        Job(Command command, Destination to, String lane, HandlerRegistry.Registration handler) {
            this.command = command;
            this.to = to;
            this.lane = lane;
            this.handler = handler;
        }

        @Override
        public void run() {
            if (state.get() == JobState.QUEUED && !gate.enter(command.action(), command.id(), () -> {
                if (!closed) pool.execute(this);
            })) {
                return; // its plugin is being changed: it waits, keeping its lane, and runs when the change ends
            }
            try {
                if (state.compareAndSet(JobState.QUEUED, JobState.RUNNING)) execute(this);
                else state.set(JobState.DONE);
            } finally {
                gate.exit(command.action(), command.id());
                laneDone(this);
            }
        }
    }

    private final CommandStore store;
    private final HandlerRegistry registry;
    private final ActionGate gate;
    private final Limits limits;
    private final Clock clock;
    private final ExecutorService pool;
    private final ScheduledExecutorService timer;
    private final Map<String, ArrayDeque<Job>> lanes = new HashMap<>(); // guarded by lanes; present = lane busy
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Result>> waiters = new ConcurrentHashMap<>();
    private final List<CommandListener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    /**
     * The agent's dispatcher: recovers what the last run left (running commands become {@code interrupted},
     * received ones run now) before anything new is admitted.
     */
    @Activate
    public Dispatcher(@Reference CommandStore store, @Reference HandlerRegistry registry, @Reference ActionGate gate,
            @Reference AgentConfig config) {
        this(store, registry, gate, Limits.of(config), Clock.systemUTC());
        Recovery rec = store.recover("the agent restarted while the command ran; it was not run again");
        rec.interrupted().forEach(r -> LOG.warning("command " + r.id() + " was running when the agent stopped: interrupted"));
        int pruned = store.prune(Instant.now().minus(Duration.ofDays(config.retentionDays)));
        if (pruned > 0) LOG.info("pruned " + pruned + " delivered command records older than " + config.retentionDays + " days");
        resume(rec.toRun());
    }

    /** For tests, and for the DS constructor: no recovery. */
    public Dispatcher(CommandStore store, HandlerRegistry registry, ActionGate gate, Limits limits, Clock clock) {
        this.store = store;
        this.registry = registry;
        this.gate = gate;
        this.limits = limits;
        this.clock = clock;
        this.pool = Executors.newFixedThreadPool(limits.workers, named("outpost-worker"));
        this.timer = Executors.newSingleThreadScheduledExecutor(named("outpost-timer"));
    }

    /** @param l told what becomes of every command from now on */
    public void addListener(CommandListener l) { listeners.add(l); }

    /** @param l no longer told */
    public void removeListener(CommandListener l) { listeners.remove(l); }

    /**
     * Records the command durably, then schedules it if it is new. A duplicate is never run again: its future completes
     * with the stored result (now if it finished, later if it is still pending).
     *
     * @return a future of the command's one result
     */
    public CompletableFuture<Result> submit(Command command, Destination to) {
        return submitAll(List.of(command), to).get(0);
    }

    /**
     * {@link #submit} for several commands with one durable write: each is answered ({@code accepted}) and scheduled
     * in order once all of them are recorded.
     *
     * @throws agent.store.StoreException if they cannot be recorded: none is accepted
     */
    public List<CompletableFuture<Result>> submitAll(List<Command> commands, Destination to) {
        return submit(commands, to, false);
    }

    /**
     * {@link #submitAll}, but the new commands run one after another in list order, each once the one before it has
     * ended (a task file: an operator reads it top to bottom, and a command may need what the one before installed).
     * An action is looked up when its command starts, not when it is recorded.
     */
    public List<CompletableFuture<Result>> submitInOrder(List<Command> commands, Destination to) {
        return submit(commands, to, true);
    }

    private List<CompletableFuture<Result>> submit(List<Command> commands, Destination to, boolean inOrder) {
        if (closed) throw new IllegalStateException("the dispatcher is shut down");
        List<CompletableFuture<Result>> futures = new ArrayList<>(commands.size());
        boolean[] made = new boolean[commands.size()]; // futures this call registered (not a pending duplicate's)
        for (int i = 0; i < commands.size(); i++) {
            CompletableFuture<Result> mine = new CompletableFuture<>();
            CompletableFuture<Result> known = waiters.putIfAbsent(commands.get(i).id(), mine);
            futures.add(known != null ? known : mine);
            made[i] = known == null;
        }
        List<Admission> admissions;
        try {
            admissions = store.admitAll(commands, to);
        } catch (RuntimeException e) {
            for (int i = 0; i < commands.size(); i++) {
                if (made[i]) waiters.remove(commands.get(i).id(), futures.get(i));
            }
            throw e;
        }
        String sequence = inOrder ? "seq:" + UUID.randomUUID() : null;
        for (int i = 0; i < commands.size(); i++) {
            try {
                answer(commands.get(i), to, admissions.get(i), futures.get(i), sequence);
            } catch (RuntimeException e) {
                // recorded: it runs after a restart at the latest (recovery); the rest of the burst goes on
                LOG.log(Level.SEVERE, "command " + commands.get(i).id() + " is recorded but could not be scheduled", e);
            }
        }
        return futures;
    }

    private void answer(Command command, Destination to, Admission admission, CompletableFuture<Result> future, String sequence) {
        switch (admission.kind()) {
            case FINISHED:
                waiters.remove(command.id(), future);
                future.complete(admission.result());
                tellFinished(admission.result(), to);
                break;
            case PENDING:
                tellAccepted(command.id(), to);
                // it may have finished between admit and the waiter's registration
                store.get(command.id()).map(CommandRecord::result).ifPresent(this::completeWaiter);
                break;
            case NEW:
                tellAccepted(command.id(), to);
                schedule(command, to, sequence);
                break;
            default:
                throw new IllegalStateException(admission.kind().name());
        }
    }

    /** Runs commands that were recorded before a restart but never started. */
    void resume(List<CommandRecord> received) {
        for (CommandRecord r : received) {
            waiters.computeIfAbsent(r.command().id(), id -> new CompletableFuture<>());
            schedule(r.command(), r.destination(), null);
        }
    }

    /** Cancels a queued or running command; a finished or unknown one is left alone. @return whether it was active */
    public boolean cancel(String id) {
        Job job = jobs.get(id);
        if (job == null) return false;
        if (job.state.compareAndSet(JobState.QUEUED, JobState.DONE)) {
            finish(job, Result.notRun(id, ErrorCode.CANCELLED, "cancelled before it started", now()));
            return true;
        }
        if (job.state.get() != JobState.RUNNING) return false;
        // a job that is starting may have no context yet: the flag and the context are written and read in
        // opposite orders here and in execute(), so at least one side sees the other (no cancel is lost)
        job.cancelRequested = true;
        ExecutionContext ctx = job.context;
        if (ctx != null) stop(job, ctx, Status.CANCELLED);
        return true;
    }

    /** @return the ids of commands queued or running now, with their state */
    public Map<String, String> active() {
        Map<String, String> out = new HashMap<>();
        jobs.forEach((id, job) -> out.put(id, job.state.get().name().toLowerCase()));
        return out;
    }

    /**
     * Records a command that cannot be run (a malformed frame that still had an id) as {@code rejected}, so the id
     * is answered and never runs later. A finished duplicate is answered from the store.
     *
     * @return a future of its one result
     */
    public CompletableFuture<Result> reject(String id, String error, Destination to) {
        CompletableFuture<Result> future = waiters.computeIfAbsent(id, x -> new CompletableFuture<>());
        Admission admission = store.admit(new Command(id, "invalid.command", Map.of(), null, null, null), to);
        if (admission.kind() == Admission.Kind.NEW) {
            finishWithoutJob(Result.notRun(id, ErrorCode.INVALID_COMMAND, error, now()), to);
        } else {
            answer(new Command(id, "invalid.command", Map.of(), null, null, null), to, admission, future, null);
        }
        return future;
    }

    private void schedule(Command command, Destination to, String sequence) {
        Optional<HandlerRegistry.Registration> handler = registry.lookup(command.action());
        Optional<Result> rejection = rejectionOf(command, handler, sequence != null);
        if (rejection.isPresent()) {
            finishWithoutJob(rejection.get(), to);
            return;
        }
        String key = handler.map(h -> h.concurrencyKey).orElse(null);
        if (key == null) {
            String heldKey = gate.heldKey(command.action());
            if (heldKey != null && !heldKey.isEmpty()) key = heldKey;
        }
        String lane = sequence != null ? sequence : key == null ? "id:" + command.id() : "key:" + key;
        Job job = new Job(command, to, lane, handler.orElse(null));
        jobs.put(command.id(), job);
        boolean start;
        synchronized (lanes) {
            ArrayDeque<Job> queue = lanes.get(job.lane);
            if (queue == null) {
                lanes.put(job.lane, new ArrayDeque<>());
                start = true;
            } else {
                queue.add(job);
                start = false;
            }
        }
        if (start) pool.execute(job);
    }

    /** @param later the action is looked up when the command starts (a task file's sequence), not now */
    private Optional<Result> rejectionOf(Command c, Optional<HandlerRegistry.Registration> handler, boolean later) {
        Instant now = now();
        if (c.expiresAt() != null && c.expiresAt().isBefore(now)) {
            return Optional.of(Result.notRun(c.id(), ErrorCode.EXPIRED, "expired", now));
        }
        if (c.issuedAt() != null && c.issuedAt().isBefore(now.minus(limits.retention))) {
            return Optional.of(Result.notRun(c.id(), ErrorCode.EXPIRED, "expired", now));
        }
        if (c.issuedAt() != null && c.issuedAt().isAfter(now.plus(limits.maxClockSkew))) {
            return Optional.of(Result.notRun(c.id(), ErrorCode.CLOCK_SKEW, "issuedAt " + c.issuedAt() + " is more than "
                + limits.maxClockSkew.toSeconds() + " s ahead of this host's clock (" + now + ", config key"
                + " 'max_clock_skew_seconds'); not run", now));
        }
        if (later) return Optional.empty();
        if (handler.isEmpty() && gate.heldKey(c.action()) == null) {
            return Optional.of(Result.notRun(c.id(), ErrorCode.UNKNOWN_ACTION, unknownAction(c.action()), now));
        }
        if (c.dryRun() && handler.isPresent() && !handler.get().dryRun) return Optional.of(dryRunUnsupported(c));
        return Optional.empty();
    }

    private Result dryRunUnsupported(Command c) {
        return Result.notRun(c.id(), ErrorCode.DRY_RUN_UNSUPPORTED, "action '" + c.action()
            + "' does not support dry runs; nothing was run", now());
    }

    private String unknownAction(String action) {
        return "unknown action '" + action + "'; known actions: " + String.join(", ", registry.actions().keySet());
    }

    private void laneDone(Job job) {
        Job next;
        synchronized (lanes) {
            ArrayDeque<Job> lane = lanes.get(job.lane);
            next = lane == null ? null : lane.poll();
            if (next == null) lanes.remove(job.lane);
        }
        if (next != null && !closed) pool.execute(next);
    }

    private void execute(Job job) {
        Command c = job.command;
        // what served the action when it was scheduled may have gone (a plugin stopped or changed while it waited)
        HandlerRegistry.Registration handler = job.handler != null && registry.isCurrent(job.handler) ? job.handler
            : registry.lookup(c.action()).orElse(null);
        if (handler == null) {
            finish(job, Result.notRun(c.id(), ErrorCode.UNKNOWN_ACTION, unknownAction(c.action()), now()));
            return;
        }
        if (c.dryRun() && !handler.dryRun) {
            finish(job, dryRunUnsupported(c));
            return;
        }
        ExecutionContext ctx = new ExecutionContext(c, limits.maxOutputBytes,
            (id, pct, msg) -> listeners.forEach(l -> l.progress(id, pct, msg, job.to)),
            limits.settings.apply(handler.prefix()), store::resultOnRestart, limits.containment);
        job.context = ctx;
        if (job.cancelRequested) { // cancelled before it was marked running: it never starts
            finish(job, Result.notRun(c.id(), ErrorCode.CANCELLED, "cancelled before it started", now()));
            return;
        }
        Instant started = now();
        store.markRunning(c.id(), started);
        ctx.runningOn(Thread.currentThread()); // only now may a stop interrupt this thread (not in markRunning)
        int timeout = c.timeoutSeconds() == null ? limits.maxCommandSeconds : Math.min(c.timeoutSeconds(), limits.maxCommandSeconds);
        ScheduledFuture<?> watchdog = timer.schedule(() -> stop(job, ctx, Status.TIMED_OUT), timeout, TimeUnit.SECONDS);
        HandlerRun.Ended ended;
        try {
            ended = HandlerRun.run(handler::handler, ctx, started, Integer.toString(timeout), this::now);
        } finally {
            watchdog.cancel(false);
            ctx.close(); // nothing the command started outlives it
        }
        if (ended.thrown() != null && HandlerOutcome.unexpected(ended.thrown())) {
            LOG.log(Level.WARNING, "handler of " + c.action() + " from " + handler.bundleName + " threw for command " + c.id(),
                ended.thrown());
        }
        finish(job, ended.result());
    }

    /** Signals a stop; if the handler has not returned within the grace time, its result is written without it. */
    private void stop(Job job, ExecutionContext ctx, Status reason) {
        ctx.stop(reason);
        timer.schedule(() -> {
            if (job.finished.get()) return;
            LOG.warning(() -> "handler of " + job.command.action() + " did not stop within "
                + limits.stopGrace.toSeconds() + " s; its result is written without it");
            finish(job, HandlerRun.abandoned(ctx, reason, now()));
        }, limits.stopGrace.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void finish(Job job, Result result) {
        if (!job.finished.compareAndSet(false, true)) return;
        job.state.set(JobState.DONE);
        boolean stored;
        try {
            stored = store(result);
        } finally {
            // after the store (one-shot mode waits for active() and the outbox) and before anyone hears of the result
            jobs.remove(job.command.id(), job);
        }
        if (stored) announce(result, job.to);
    }

    private void finishWithoutJob(Result result, Destination to) {
        if (store(result)) announce(result, to);
    }

    private boolean store(Result result) {
        try {
            store.finish(result);
            return true;
        } catch (RuntimeException e) {
            // the store refused (already terminal) or failed: the stored state stays the truth
            LOG.log(Level.SEVERE, "cannot store the result of " + result.id(), e);
            return false;
        }
    }

    private void announce(Result result, Destination to) {
        LOG.fine(() -> "command " + result);
        tellFinished(result, to);
        completeWaiter(result);
    }

    private void tellAccepted(String id, Destination to) {
        for (CommandListener l : listeners) {
            try {
                l.accepted(id, to);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "accepted listener failed for " + id, e); // the server sends it again
            }
        }
    }

    private void tellFinished(Result result, Destination to) {
        for (CommandListener l : listeners) {
            try {
                l.finished(result, to);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "result listener failed for " + result.id(), e); // the outbox sends it again
            }
        }
    }

    private void completeWaiter(Result result) {
        CompletableFuture<Result> f = waiters.remove(result.id());
        if (f != null) f.complete(result);
    }

    @Deactivate
    @Override
    public void close() {
        closed = true;
        pool.shutdownNow();
        for (Job job : jobs.values()) {
            ExecutionContext ctx = job.context;
            if (ctx != null) ctx.stop(Status.CANCELLED);
        }
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        timer.shutdownNow();
    }

    /** The store keeps milliseconds; so does every result, so a live result equals its stored copy. */
    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
