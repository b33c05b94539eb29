package agent.core.internal;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

import agent.api.Command;
import agent.api.CommandException;
import agent.api.ErrorCode;
import agent.api.Result;
import agent.api.Status;
import agent.store.Admission;
import agent.store.CommandRecord;
import agent.store.CommandStore;

/**
 * Runs commands at most once: records each before acknowledging it, runs it on a bounded pool with commands of
 * the same concurrency key one at a time, enforces timeouts and cancellation (killing process trees), and
 * stores the one result before anyone hears of it.
 */
final class Dispatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("agent.core.dispatcher");

    /** Told about results (after they are durable) and live progress; the transport is one. */
    interface Listener {
        default void accepted(String id) {}

        /** @param source where the command came from: {@code server}, {@code shell}, {@code offline} */
        default void result(Result result, String source) {}

        default void progress(String id, Integer percent, String message) {}
    }

    /** The answer to a submission: what the store knew, and a future of the one result. */
    static final class Submission {
        final Admission.Kind kind;
        final CompletableFuture<Result> result;

        Submission(Admission.Kind kind, CompletableFuture<Result> result) {
            this.kind = kind;
            this.result = result;
        }
    }

    private enum JobState { QUEUED, RUNNING, DONE }

    private final class Job implements Runnable {
        final Command command;
        final String source;
        final String lane;
        final AtomicReference<JobState> state = new AtomicReference<>(JobState.QUEUED);
        final AtomicBoolean finished = new AtomicBoolean();
        volatile ExecutionContext context;
        /** A cancel came while the job was starting; execute() reads it after publishing its context. */
        volatile boolean cancelRequested;

        Job(Command command, String source, String lane) {
            this.command = command;
            this.source = source;
            this.lane = lane;
        }

        @Override
        public void run() {
            synchronized (lanes) {
                // a job of a plugin being changed waits, keeping its lane, until the change ends (see hold)
                if (state.get() == JobState.QUEUED && held.containsKey(command.action())) {
                    parked.add(this);
                    return;
                }
                // taken under the lock so that a hold sees every job that has started (awaitIdle)
                if (!state.compareAndSet(JobState.QUEUED, JobState.RUNNING)) state.set(JobState.DONE);
            }
            try {
                if (state.get() == JobState.RUNNING) execute(this);
            } finally {
                laneDone(this);
            }
        }
    }

    private final CommandStore store;
    private final HandlerRegistry registry;
    private final Limits limits;
    private final Clock clock;
    private final ExecutorService pool;
    private final ScheduledExecutorService timer;
    private final Map<String, ArrayDeque<Job>> lanes = new HashMap<>(); // guarded by lanes; present = lane busy
    /** Actions whose plugin is being changed, with their concurrency key ("" for none); guarded by lanes. */
    private final Map<String, String> held = new HashMap<>();
    /** Jobs of held actions that were due to start; they run when the hold ends. Guarded by lanes. */
    private final List<Job> parked = new java.util.ArrayList<>();
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Result>> waiters = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    Dispatcher(CommandStore store, HandlerRegistry registry, Limits limits, Clock clock) {
        this.store = store;
        this.registry = registry;
        this.limits = limits;
        this.clock = clock;
        this.pool = Executors.newFixedThreadPool(limits.workers, named("outpost-worker"));
        this.timer = Executors.newSingleThreadScheduledExecutor(named("outpost-timer"));
    }

    void addListener(Listener l) { listeners.add(l); }

    void removeListener(Listener l) { listeners.remove(l); }

    /**
     * Records the command durably, then schedules it if it is new. A duplicate is never run again: its future
     * completes with the stored result (now if it finished, later if it is still pending).
     */
    Submission submit(Command command, String source) {
        return submitAll(List.of(command), source).get(0);
    }

    /**
     * {@link #submit} for several commands with one durable write: each is answered ({@code accepted}) and
     * scheduled in order once all of them are recorded.
     */
    List<Submission> submitAll(List<Command> commands, String source) {
        if (closed) throw new IllegalStateException("the dispatcher is shut down");
        List<CompletableFuture<Result>> futures = new java.util.ArrayList<>(commands.size());
        boolean[] made = new boolean[commands.size()]; // futures this call registered (not a pending duplicate's)
        for (int i = 0; i < commands.size(); i++) {
            CompletableFuture<Result> mine = new CompletableFuture<>();
            CompletableFuture<Result> known = waiters.putIfAbsent(commands.get(i).id(), mine);
            futures.add(known != null ? known : mine);
            made[i] = known == null;
        }
        List<Admission> admissions;
        try {
            admissions = store.admitAll(commands, source);
        } catch (RuntimeException e) {
            for (int i = 0; i < commands.size(); i++) {
                if (made[i]) waiters.remove(commands.get(i).id(), futures.get(i));
            }
            throw e;
        }
        List<Submission> out = new java.util.ArrayList<>(commands.size());
        for (int i = 0; i < commands.size(); i++) {
            Command command = commands.get(i);
            CompletableFuture<Result> future = futures.get(i);
            Admission admission = admissions.get(i);
            try {
                answer(command, source, admission, future);
            } catch (RuntimeException e) {
                // recorded: it runs after a restart at the latest (recovery); the rest of the burst goes on
                LOG.log(Level.SEVERE, "command " + command.id() + " is recorded but could not be scheduled", e);
            }
            out.add(new Submission(admission.kind(), future));
        }
        return out;
    }

    private void answer(Command command, String source, Admission admission, CompletableFuture<Result> future) {
        switch (admission.kind()) {
            case FINISHED:
                waiters.remove(command.id(), future);
                future.complete(admission.result());
                break;
            case PENDING:
                tellAccepted(command.id());
                // it may have finished between admit and the waiter's registration
                store.get(command.id()).map(CommandRecord::result).ifPresent(this::completeWaiter);
                break;
            case NEW:
                tellAccepted(command.id());
                schedule(command, source);
                break;
            default:
                throw new IllegalStateException(admission.kind().name());
        }
    }

    private void tellAccepted(String id) {
        for (Listener l : listeners) {
            try {
                l.accepted(id);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "accepted listener failed for " + id, e); // the server sends it again
            }
        }
    }

    /** Runs commands that were recorded before a restart but never started. */
    void resume(List<CommandRecord> received) {
        for (CommandRecord r : received) {
            waiters.computeIfAbsent(r.command().id(), id -> new CompletableFuture<>());
            schedule(r.command(), r.source());
        }
    }

    /** Cancels a queued or running command; a finished or unknown one is left alone. */
    boolean cancel(String id) {
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

    /** @return the ids of commands queued or running now */
    Map<String, String> active() {
        Map<String, String> out = new HashMap<>();
        jobs.forEach((id, job) -> out.put(id, job.state.get().name().toLowerCase()));
        return out;
    }

    Optional<CompletableFuture<Result>> waiter(String id) { return Optional.ofNullable(waiters.get(id)); }

    /**
     * Records a command that cannot be run (a malformed frame that still had an id) as {@code rejected}, so the id
     * is answered and never runs later. A finished duplicate is answered from the store.
     */
    Submission reject(String id, String error, String source) {
        CompletableFuture<Result> future = waiters.computeIfAbsent(id, x -> new CompletableFuture<>());
        Admission admission = store.admit(new Command(id, "invalid.command", Map.of(), null, null, null), source);
        if (admission.kind() == Admission.Kind.NEW) {
            finishWithoutJob(Result.notRun(id, ErrorCode.INVALID_COMMAND, error, now()), source);
        } else if (admission.kind() == Admission.Kind.FINISHED) {
            waiters.remove(id, future);
            future.complete(admission.result());
        }
        return new Submission(admission.kind(), future);
    }

    private void schedule(Command command, String source) {
        Optional<Result> rejection = rejectionOf(command);
        if (rejection.isPresent()) {
            finishWithoutJob(rejection.get(), source);
            return;
        }
        String key = registry.lookup(command.action()).map(h -> h.concurrencyKey).orElse(null);
        if (key == null) {
            synchronized (lanes) {
                String heldKey = held.get(command.action());
                if (heldKey != null && !heldKey.isEmpty()) key = heldKey;
            }
        }
        Job job = new Job(command, source, key == null ? "id:" + command.id() : "key:" + key);
        jobs.put(command.id(), job);
        boolean start;
        synchronized (lanes) {
            ArrayDeque<Job> lane = lanes.get(job.lane);
            if (lane == null) {
                lanes.put(job.lane, new ArrayDeque<>());
                start = true;
            } else {
                lane.add(job);
                start = false;
            }
        }
        if (start) pool.execute(job);
    }

    private Optional<Result> rejectionOf(Command c) {
        Instant now = now();
        if (c.expiresAt() != null && c.expiresAt().isBefore(now)) {
            return Optional.of(Result.notRun(c.id(), ErrorCode.EXPIRED, "expired", now));
        }
        if (c.issuedAt() != null && c.issuedAt().isBefore(now.minus(limits.retention))) {
            return Optional.of(Result.notRun(c.id(), ErrorCode.EXPIRED, "expired", now));
        }
        Optional<HandlerRegistry.Registration> handler = registry.lookup(c.action());
        if (handler.isEmpty() && !isHeld(c.action())) {
            return Optional.of(Result.notRun(c.id(), ErrorCode.UNKNOWN_ACTION, unknownAction(c.action()), now));
        }
        if (c.dryRun() && handler.isPresent() && !handler.get().dryRun) {
            return Optional.of(dryRunUnsupported(c));
        }
        return Optional.empty();
    }

    private Result dryRunUnsupported(Command c) {
        return Result.notRun(c.id(), ErrorCode.DRY_RUN_UNSUPPORTED, "action '" + c.action()
            + "' does not support dry runs; nothing was run", now());
    }

    private boolean isHeld(String action) {
        synchronized (lanes) {
            return held.containsKey(action);
        }
    }

    /**
     * Holds the given actions while their plugin is changed: their commands are accepted and recorded as usual but
     * wait, in their lanes, until the returned hold is closed; then they run against whatever serves the action
     * (the new version, the old one put back, or nothing: rejected as unknown).
     */
    Hold hold(java.util.Collection<String> actions) {
        synchronized (lanes) {
            for (String a : actions) {
                held.put(a, registry.lookup(a).map(r -> r.concurrencyKey == null ? "" : r.concurrencyKey).orElse(""));
            }
        }
        return new Hold(List.copyOf(actions));
    }

    /** The end of a {@link #hold}: parked commands go on. */
    final class Hold implements AutoCloseable {
        private final List<String> actions;

        private Hold(List<String> actions) { this.actions = actions; }

        /**
         * Waits until no command of the held actions is running (queued ones stay parked).
         *
         * @throws CommandException naming the commands still running when the wait ends
         */
        void awaitIdle(java.time.Duration max) throws CommandException, InterruptedException {
            long end = System.nanoTime() + max.toNanos();
            while (true) {
                List<String> running = new java.util.ArrayList<>();
                jobs.forEach((id, j) -> {
                    if (j.state.get() == JobState.RUNNING && actions.contains(j.command.action())) running.add(id);
                });
                if (running.isEmpty()) return;
                if (System.nanoTime() > end) {
                    throw new CommandException("commands " + running + " of " + actions + " were still running after "
                        + max.toSeconds() + " s; nothing was changed");
                }
                Thread.sleep(20);
            }
        }

        @Override
        public void close() {
            List<Job> resume = new java.util.ArrayList<>();
            synchronized (lanes) {
                actions.forEach(held::remove);
                for (java.util.Iterator<Job> it = parked.iterator(); it.hasNext();) {
                    Job j = it.next();
                    if (!held.containsKey(j.command.action())) {
                        resume.add(j);
                        it.remove();
                    }
                }
            }
            if (!closed) resume.forEach(pool::execute);
        }
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
        // the handler may have gone (bundle stopped) while the command waited in its lane
        Optional<HandlerRegistry.Registration> handler = registry.lookup(c.action());
        if (handler.isEmpty()) {
            finish(job, Result.notRun(c.id(), ErrorCode.UNKNOWN_ACTION, unknownAction(c.action()), now()));
            return;
        }
        if (c.dryRun() && !handler.get().dryRun) { // the plugin changed while the command waited
            finish(job, dryRunUnsupported(c));
            return;
        }
        String prefix = c.action().substring(0, c.action().indexOf('.'));
        ExecutionContext ctx = new ExecutionContext(c, limits.maxOutputBytes,
            (id, pct, msg) -> listeners.forEach(l -> l.progress(id, pct, msg)),
            limits.settings.apply(prefix), store::resultOnRestart);
        job.context = ctx;
        if (job.cancelRequested) { // cancelled before it was marked running: it never starts
            finish(job, Result.notRun(c.id(), ErrorCode.CANCELLED, "cancelled before it started", now()));
            return;
        }
        Instant started = now();
        store.markRunning(c.id(), started);
        ctx.runningOn(Thread.currentThread()); // only now may a stop interrupt this thread (not in markRunning)
        int timeout = c.timeoutSeconds() == null ? limits.maxCommandSeconds
            : Math.min(c.timeoutSeconds(), limits.maxCommandSeconds);
        ScheduledFuture<?> watchdog = timer.schedule(() -> stop(job, ctx, Status.TIMED_OUT), timeout, TimeUnit.SECONDS);
        Status status;
        String error = null;
        ErrorCode code = null;
        Object data = null;
        try {
            if (ctx.stopReason() == null) data = handler.get().handler.handle(ctx); // else cancelled just now
            status = Status.SUCCEEDED;
        } catch (Throwable e) { // Errors too (a StackOverflowError in a plugin): the command still gets its result
            status = HandlerOutcome.status(e);
            error = HandlerOutcome.error(e);
            code = HandlerOutcome.errorCode(e);
            if (HandlerOutcome.unexpected(e)) LOG.log(Level.WARNING, "handler of " + c.action() + " threw for command " + c.id(), e);
        } finally {
            watchdog.cancel(false);
            ctx.detach();
            Thread.interrupted(); // a stop's interrupt belongs to this run only
        }
        Status stopped = ctx.stopReason();
        if (stopped != null) {
            status = stopped;
            error = stopped == Status.TIMED_OUT ? "timed out after " + timeout + " s; process tree killed"
                : "cancelled while running; process tree killed";
            code = stopped == Status.TIMED_OUT ? ErrorCode.TIMED_OUT : ErrorCode.CANCELLED;
            data = null;
        }
        finish(job, new Result(c.id(), status, ctx.exitCodeOrNull(), ctx.cappedOutput().text(),
            ctx.cappedOutput().truncated(), error, code, data, started, now()));
    }

    /** Signals a stop; if the handler has not returned within the grace time, its result is written without it. */
    private void stop(Job job, ExecutionContext ctx, Status reason) {
        ctx.stop(reason);
        timer.schedule(() -> {
            if (job.finished.get()) return;
            LOG.warning(() -> "handler of " + job.command.action() + " did not stop within "
                + limits.stopGrace.toSeconds() + " s; its result is written without it");
            String error = (reason == Status.TIMED_OUT ? "timed out" : "cancelled")
                + "; the handler did not stop and was abandoned";
            finish(job, new Result(job.command.id(), reason, ctx.exitCodeOrNull(), ctx.cappedOutput().text(),
                ctx.cappedOutput().truncated(), error, reason == Status.TIMED_OUT ? ErrorCode.TIMED_OUT : ErrorCode.CANCELLED,
                null, null, now()));
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
        if (stored) announce(result, job.source);
    }

    private void finishWithoutJob(Result result, String source) {
        if (store(result)) announce(result, source);
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

    private void announce(Result result, String source) {
        LOG.fine(() -> "command " + result);
        for (Listener l : listeners) {
            try {
                l.result(result, source);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "result listener failed for " + result.id(), e);
            }
        }
        completeWaiter(result);
    }

    private void completeWaiter(Result result) {
        CompletableFuture<Result> f = waiters.remove(result.id());
        if (f != null) f.complete(result);
    }

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
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
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
