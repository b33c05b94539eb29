package agent.core.internal.dispatch;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import agent.api.Command;
import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.ErrorCode;
import agent.api.Output;
import agent.api.Params;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;
import agent.api.Result;
import agent.api.Status;
import agent.core.internal.config.SettingsSection;
import agent.core.internal.events.EventData;

/**
 * The {@link CommandContext} of one run: owns the output, the processes it started (in a {@link Containment} group
 * of their own) and the stop signal. Public (in a package the bundle does not export) so that agent.testkit gives
 * plugin tests this same context.
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
    private final SettingsSection settings;
    /** Where {@link #resultOnRestart} records go: the store, durably. */
    private final Consumer<Result> restartPlans;
    private final Containment containment;
    private final Set<Process> processes = ConcurrentHashMap.newKeySet();
    private volatile Status stopReason; // CANCELLED or TIMED_OUT once stopped
    private volatile Integer exitCode;
    private Thread worker; // guarded by this
    private Containment.Group group; // guarded by this; made at the first process
    private boolean closed; // guarded by this

    /**
     * @param command        the command to run
     * @param maxOutputBytes output kept (first and last halves)
     * @param progress       receives checked progress reports
     * @param settings       the config section of the action's prefix
     * @param restartPlans   records {@link #resultOnRestart} durably before returning
     * @param containment    how its processes are kept together
     */
    public ExecutionContext(Command command, int maxOutputBytes, ProgressSink progress, SettingsSection settings,
            Consumer<Result> restartPlans, Containment containment) {
        this.command = command;
        this.params = new ParamsImpl(command.params());
        this.output = new CappedOutput(maxOutputBytes);
        this.progress = progress;
        this.settings = settings;
        this.restartPlans = restartPlans;
        this.containment = containment;
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
    public Map<String, Object> settings() { return settings.raw(); }

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
        EventData.checkValues("resultOnRestart data", data);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        restartPlans.accept(new Result(command.id(), status, exitCode, "", false, error,
            status == Status.SUCCEEDED ? null : ErrorCode.FAILED, data, now, now));
    }

    /** @param t the thread that runs the handler: a stop interrupts it */
    public synchronized void runningOn(Thread t) { this.worker = t; }

    /** The handler returned: from now on a stop must not interrupt the pool thread, which runs other work. */
    public synchronized void detach() { this.worker = null; }

    /** Stops the run: marks it, kills every process it started (its whole group), and interrupts its thread. */
    public synchronized void stop(Status reason) {
        if (stopReason != null) return;
        stopReason = reason;
        for (Process p : processes) group.kill(p.toHandle());
        if (group != null) group.close();
        if (worker != null) worker.interrupt();
    }

    /**
     * The command has ended: every process it started and left behind (a daemonised grandchild) is killed, so none
     * outlives its command.
     */
    public synchronized void close() {
        closed = true;
        if (group != null) group.close();
    }

    private synchronized Containment.Group group() throws CommandCancelledException {
        if (closed) throw new IllegalStateException("command " + command.id() + " has ended; it cannot start processes");
        checkCancelled();
        if (group == null) group = containment.open(command.id());
        return group;
    }

    @Override
    public ProcessResult exec(ProcessSpec spec) throws IOException, CommandCancelledException {
        Containment.Group g = group();
        ProcessBuilder pb = new ProcessBuilder().redirectErrorStream(true);
        if (spec.stdin() == null) pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (spec.directory() != null) pb.directory(spec.directory().toFile());
        if (spec.clearsEnvironment()) pb.environment().clear();
        // the agent's own: its config overrides (an enrolment token may be one) and systemd's notify socket
        pb.environment().keySet().removeIf(k -> k.startsWith("OUTPOST_") || k.equals("NOTIFY_SOCKET"));
        pb.environment().putAll(spec.environment());
        // resolved here, so a missing program is an error naming it (not a wrapper's exit code 127)
        java.util.List<String> argv = new java.util.ArrayList<>(spec.command());
        argv.set(0, resolve(argv.get(0), pb.environment().get("PATH")));
        pb.command(g.wrap(argv));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run '" + spec.command().get(0) + "': " + e.getMessage(), e);
        }
        processes.add(p);
        try {
            if (stopReason != null) g.kill(p.toHandle()); // stopped between the check and the start
            if (spec.stdin() != null) writeStdin(p, spec.stdin());
            ByteArrayOutputStream captured = spec.captures() ? new ByteArrayOutputStream() : null;
            Thread reader = pump(p, captured);
            int code = p.waitFor();
            // a child that left the process (nohup cmd &) may hold the output pipe open: read what is there, then
            // stop reading; the child itself ends with the command (its group is closed then)
            reader.join(OUTPUT_DRAIN_MS);
            if (reader.isAlive()) {
                p.getInputStream().close();
                reader.join(OUTPUT_DRAIN_MS);
            }
            checkCancelled();
            String text = null;
            if (captured != null) {
                synchronized (captured) {
                    text = captured.toString(StandardCharsets.UTF_8);
                }
            }
            return new ProcessResult(code, text);
        } catch (InterruptedException e) {
            g.kill(p.toHandle());
            throw new CommandCancelledException(stopReason == null ? "interrupted" : describe(stopReason));
        } catch (IOException e) {
            checkCancelled(); // a pipe closed by the kill is the cancellation, not an I/O error
            throw e;
        } finally {
            processes.remove(p);
            if (p.isAlive()) g.kill(p.toHandle());
        }
    }

    /** How long output is read after its process exited, for what a left-behind child may still hold open. */
    private static final long OUTPUT_DRAIN_MS = 300;

    /** Reads the process's output into the command's output (or the capture) on a thread of its own. */
    private Thread pump(Process p, ByteArrayOutputStream captured) {
        Thread t = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (captured == null) output.write(buf, 0, n);
                    else synchronized (captured) {
                        if (captured.size() + n <= MAX_CAPTURE) captured.write(buf, 0, n);
                    }
                }
            } catch (IOException e) {
                // closed: the process ended, or its output was given up after it did
            }
        }, "outpost-output-" + command.id());
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The shell's default when a clean environment has no PATH. */
    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** @return the program's absolute path, looked up in PATH as execvp would @throws IOException naming it if there is none */
    static String resolve(String program, String path) throws IOException {
        if (program.contains("/")) {
            java.nio.file.Path p = java.nio.file.Path.of(program);
            if (java.nio.file.Files.isExecutable(p) && !java.nio.file.Files.isDirectory(p)) return program;
            throw new IOException("cannot run '" + program + "': " + (java.nio.file.Files.exists(p) ? "not an executable file"
                : "No such file or directory"));
        }
        for (String dir : (path == null || path.isEmpty() ? DEFAULT_PATH : path).split(":")) {
            if (dir.isEmpty()) continue;
            java.nio.file.Path p = java.nio.file.Path.of(dir, program);
            if (java.nio.file.Files.isExecutable(p) && !java.nio.file.Files.isDirectory(p)) return p.toString();
        }
        throw new IOException("cannot run '" + program + "': No such file or directory (not in PATH)");
    }

    /** Stdin is written by a thread of its own: a process that does not read it must not block the output's reader. */
    private static void writeStdin(Process p, String text) {
        Thread t = new Thread(() -> {
            try (OutputStream os = p.getOutputStream()) {
                os.write(text.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // the process closed its input or ended: what it did not read is not needed
            }
        }, "outpost-stdin");
        t.setDaemon(true);
        t.start();
    }

    /** @param s a stop reason @return how a stop is named in messages */
    public static String describe(Status s) {
        return s == Status.TIMED_OUT ? "timed out" : "cancelled";
    }
}
