package agent.core.internal;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import agent.api.Command;
import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.Output;
import agent.api.Params;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;
import agent.api.Status;

/**
 * The {@link CommandContext} of one run: owns the output, the processes it started and the stop signal.
 * Public (in a package the bundle does not export) so that agent.testkit gives plugin tests this same context.
 */
public final class ExecutionContext implements CommandContext {
    /** Captured process output is for parsing (lsblk JSON and the like); more than this is a runaway. */
    private static final int MAX_CAPTURE = 16 * 1024 * 1024;

    /** Where {@link #progress(Integer, String)} goes once checked. */
    public interface ProgressSink {
        /** @param id the command id @param percent 0..100 or null @param message the message */
        void progress(String id, Integer percent, String message);
    }

    private final Command command;
    private final Params params;
    private final CappedOutput output;
    private final ProgressSink progress;
    private final Set<Process> processes = ConcurrentHashMap.newKeySet();
    private volatile Status stopReason; // CANCELLED or TIMED_OUT once stopped
    private volatile Integer exitCode;
    private Thread worker; // guarded by this

    private final agent.core.internal.config.SettingsSection settings;
    /** Where {@link #resultOnRestart} records go: the store, durably. */
    private final java.util.function.Consumer<agent.api.Result> restartPlans;

    /**
     * @param command        the command to run
     * @param maxOutputBytes output kept (first and last halves)
     * @param progress       receives checked progress reports
     * @param settings       the config section of the action's prefix
     */
    public ExecutionContext(Command command, int maxOutputBytes, ProgressSink progress,
            agent.core.internal.config.SettingsSection settings) {
        this(command, maxOutputBytes, progress, settings, r -> {
            throw new IllegalStateException("this context cannot record a result for a restart");
        });
    }

    /**
     * @param command        the command to run
     * @param maxOutputBytes output kept (first and last halves)
     * @param progress       receives checked progress reports
     * @param settings       the config section of the action's prefix
     * @param restartPlans   records {@link #resultOnRestart} durably before returning
     */
    public ExecutionContext(Command command, int maxOutputBytes, ProgressSink progress,
            agent.core.internal.config.SettingsSection settings, java.util.function.Consumer<agent.api.Result> restartPlans) {
        this.restartPlans = restartPlans;
        this.command = command;
        this.settings = settings;
        this.params = new ParamsImpl(command.params());
        this.output = new CappedOutput(maxOutputBytes);
        this.progress = progress;
    }

    @Override
    public Command command() { return command; }

    @Override
    public Params params() { return params; }

    @Override
    public Output output() { return output; }

    /** @return the output with its text and truncation flag */
    public CappedOutput cappedOutput() { return output; }

    @Override
    public void progress(Integer percent, String message) {
        if (percent != null && (percent < 0 || percent > 100)) {
            throw new IllegalArgumentException("progress percent must be 0..100, got " + percent);
        }
        progress.progress(command.id(), percent, message);
    }

    @Override
    public java.util.Map<String, Object> settings() { return settings.raw(); }

    @Override
    public <T> T settings(Class<T> type) { return settings.as(type); }

    @Override
    public boolean isCancelled() { return stopReason != null; }

    @Override
    public void checkCancelled() throws CommandCancelledException {
        Status s = stopReason;
        if (s != null) throw new CommandCancelledException(describe(s));
    }

    /** @return {@code CANCELLED} or {@code TIMED_OUT} once stopped, else null */
    public Status stopReason() { return stopReason; }

    /** @return the exit code the handler set, or null */
    public Integer exitCodeOrNull() { return exitCode; }

    @Override
    public void exitCode(int code) { this.exitCode = code; }

    @Override
    public void resultOnRestart(Status status, String error, Object data) {
        if (!status.isTerminal()) throw new IllegalArgumentException("resultOnRestart needs a terminal status, got " + status);
        if (status == Status.SUCCEEDED && error != null) {
            throw new IllegalArgumentException("resultOnRestart: a success carries no error; put a note in the data");
        }
        agent.core.internal.events.EventData.checkValues("resultOnRestart data", data);
        java.time.Instant now = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        restartPlans.accept(new agent.api.Result(command.id(), status, exitCode, "", false, error,
            status == Status.SUCCEEDED ? null : agent.api.ErrorCode.FAILED, data, now, now));
    }

    /** @param t the thread that runs the handler: a stop interrupts it */
    public synchronized void runningOn(Thread t) { this.worker = t; }

    /** The handler returned: from now on a stop must not interrupt the pool thread, which runs other work. */
    public synchronized void detach() { this.worker = null; }

    /** Stops the run: marks it, kills every process tree it started, and interrupts its thread. */
    public synchronized void stop(Status reason) {
        if (stopReason != null) return;
        stopReason = reason;
        for (Process p : processes) ProcessTrees.kill(p.toHandle());
        if (worker != null) worker.interrupt();
    }

    @Override
    public ProcessResult exec(ProcessSpec spec) throws IOException, CommandCancelledException {
        checkCancelled();
        ProcessBuilder pb = new ProcessBuilder(spec.command()).redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (spec.directory() != null) pb.directory(spec.directory().toFile());
        pb.environment().putAll(spec.environment());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run '" + spec.command().get(0) + "': " + e.getMessage(), e);
        }
        processes.add(p);
        try {
            if (stopReason != null) ProcessTrees.kill(p.toHandle()); // stopped between the check and the start
            ByteArrayOutputStream captured = spec.captures() ? new ByteArrayOutputStream() : null;
            try (InputStream in = p.getInputStream()) {
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (captured == null) output.write(buf, 0, n);
                    else if (captured.size() + n <= MAX_CAPTURE) captured.write(buf, 0, n);
                }
            }
            int code = p.waitFor();
            checkCancelled();
            return new ProcessResult(code, captured == null ? null : captured.toString(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            ProcessTrees.kill(p.toHandle());
            throw new CommandCancelledException(stopReason == null ? "interrupted" : describe(stopReason));
        } catch (IOException e) {
            checkCancelled(); // a pipe closed by the kill is the cancellation, not an I/O error
            throw e;
        } finally {
            processes.remove(p);
            if (p.isAlive()) ProcessTrees.kill(p.toHandle());
        }
    }

    /** @param s a stop reason @return how a stop is named in messages */
    public static String describe(Status s) {
        return s == Status.TIMED_OUT ? "timed out" : "cancelled";
    }
}
