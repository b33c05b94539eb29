package agent.testkit;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import agent.api.Command;
import agent.api.CommandHandler;
import agent.api.Result;
import agent.api.Status;
import agent.core.internal.dispatch.Containment;
import agent.core.internal.dispatch.ExecutionContext;
import agent.core.internal.dispatch.HandlerRun;

/**
 * A handler run started by {@link TestContext#start}: it can be watched, cancelled as the server cancels a running
 * command, and awaited. The run ends as the agent's dispatcher ends it: the handler's return or exception gives the
 * status, and a cancel or timeout overrides it, after killing every process tree the run started.
 */
public final class Running {
    private final Command command;
    private final ExecutionContext context;
    private final RecordingContext view;
    private final Duration timeout;
    private final Duration stopGrace;
    private final List<Progress> progress = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    private volatile Error fatal;
    private final java.util.concurrent.atomic.AtomicReference<Result> restartPlan = new java.util.concurrent.atomic.AtomicReference<>();
    private volatile ScheduledFuture<?> watchdog;

    /** The timeouts and stop graces of every run: one daemon thread, like the agent's timer. */
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private Running(Command command, Map<String, Object> settings, Duration timeout, Duration stopGrace, int maxOutputBytes) {
        this.command = command;
        this.timeout = timeout;
        this.stopGrace = stopGrace;
        this.context = new ExecutionContext(command, maxOutputBytes,
            (id, percent, message) -> progress.add(new Progress(percent, message)),
            new agent.core.internal.config.SettingsSection(
                agent.core.internal.config.AgentConfig.sectionKey(command.action().substring(0, command.action().indexOf('.'))),
                settings, null),
            restartPlan::set, Containment.host());
        this.view = new RecordingContext(context);
    }

    static Running start(Command command, Map<String, Object> settings, CommandHandler handler, Duration timeout,
            Duration stopGrace, int maxOutputBytes) {
        Running r = new Running(command, settings, timeout, stopGrace, maxOutputBytes);
        Thread worker = new Thread(() -> r.execute(handler), "outpost-testkit-" + command.action());
        worker.setDaemon(true); // an abandoned handler must not keep the test JVM alive
        r.context.runningOn(worker);
        r.watchdog = TIMER.schedule(() -> r.stop(Status.TIMED_OUT), timeout.toMillis(), TimeUnit.MILLISECONDS);
        worker.start();
        return r;
    }

    /** What the dispatcher does around the handler: the same {@link HandlerRun}, so the outcome is the agent's. */
    private void execute(CommandHandler handler) {
        HandlerRun.Ended ended;
        try {
            ended = HandlerRun.run(handler, view, context, false, now(), seconds(timeout), Running::now);
        } finally {
            context.close(); // nothing the run started outlives it, as in the agent
        }
        Throwable thrown = ended.thrown();
        if (thrown instanceof Error && !(thrown instanceof LinkageError)) fatal = (Error) thrown; // a failed assertion
        finish(ended.result(), thrown);
    }

    private void stop(Status reason) {
        if (outcome.isDone()) return;
        context.stop(reason);
        TIMER.schedule(() -> {
            finish(HandlerRun.abandoned(context, reason, now()), null);
        }, stopGrace.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void finish(Result result, Throwable thrown) {
        ScheduledFuture<?> w = watchdog;
        if (w != null) w.cancel(false); // a finished run holds no timer (nor its output buffers) until the timeout
        outcome.complete(new Outcome(command, result, thrown, List.copyOf(progress), view.executed(), restartPlan.get()));
    }

    /** Cancels the run as a {@code cancel} from the server does: its processes are killed, its thread interrupted. */
    public void cancel() { stop(Status.CANCELLED); }

    /** @return whether the run has ended */
    public boolean isDone() { return outcome.isDone(); }

    /** @return the command being run */
    public Command command() { return command; }

    /** @return the progress reported so far */
    public List<Progress> progress() { return List.copyOf(progress); }

    /** @return the output so far */
    public String output() { return context.cappedOutput().text(); }

    /** @return the argument arrays of the processes the handler asked to run so far */
    public List<List<String>> executed() { return view.executed(); }

    /**
     * Waits for the end, however it comes: the timeout and the grace after it bound the wait.
     *
     * @return how the run ended
     */
    public Outcome await() { return await(timeout.plus(stopGrace).plusSeconds(5)); }

    /**
     * @param limit how long to wait
     * @return how the run ended
     * @throws AssertionError if it has not ended within the limit
     */
    public Outcome await(Duration limit) {
        Outcome o;
        try {
            o = outcome.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(command.action() + " did not end within " + limit + "; output so far:\n" + output());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + command.action(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        Error e = fatal;
        if (e != null) throw e;
        return o;
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "outpost-testkit-timer");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    /** The store keeps milliseconds, and so does every result. */
    private static Instant now() { return Instant.now().truncatedTo(ChronoUnit.MILLIS); }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : Double.toString(d.toMillis() / 1000.0);
    }
}
