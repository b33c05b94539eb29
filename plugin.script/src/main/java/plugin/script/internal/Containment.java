package plugin.script.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import agent.api.CommandContext;

/**
 * Makes sure that a script stopped by its timeout or a cancel leaves nothing behind, including processes that left
 * its process group, called setsid or were double-forked (re-parented to init, out of reach of a walk down the
 * process tree). Every process of a run carries {@code OUTPOST_COMMAND_ID=<id>} in its environment, which children
 * inherit whatever their session; a sweep kills every process that has it.
 *
 * <p>A watcher thread does this while the script runs: once the command is cancelled or timed out (the agent's stop),
 * or the script's own limit passes, it sweeps every 100 ms until the run returns. That is what makes the plugin's own
 * limit ({@code timeoutSeconds}, {@code script.max_seconds}) possible at all: {@code CommandContext.exec} blocks in a
 * read of the script's output, which only the death of every writer ends. A process that also scrubs its environment
 * escapes this; the agent's core contains those (a cgroup per command where the host allows it).
 */
final class Containment implements AutoCloseable {
    /** The variable that marks a run's processes. */
    static final String MARKER = "OUTPOST_COMMAND_ID";
    private static final long TICK_MS = 100;

    private final CommandContext ctx;
    private final String entry;
    private final long deadlineNanos;
    private final Thread watcher;
    private volatile boolean closed;
    private volatile boolean limitPassed;

    /**
     * @param ctx        the command (its cancellation is watched)
     * @param commandId  the id in the marker
     * @param limitNanos the script's own limit
     */
    Containment(CommandContext ctx, String commandId, long limitNanos) {
        this.ctx = ctx;
        this.entry = MARKER + "=" + commandId;
        this.deadlineNanos = System.nanoTime() + limitNanos;
        this.watcher = new Thread(this::watch, "outpost-script-watch-" + commandId);
        this.watcher.setDaemon(true);
    }

    /** @return this, watching */
    Containment start() {
        watcher.start();
        return this;
    }

    /** @return whether the script's own limit passed (and the run was killed for it) */
    boolean limitPassed() { return limitPassed; }

    private void watch() {
        synchronized (this) {
            while (!closed) {
                boolean stop = ctx.isCancelled();
                if (!stop && System.nanoTime() - deadlineNanos >= 0) {
                    limitPassed = true;
                    stop = true;
                }
                if (stop) sweep(entry);
                try {
                    wait(TICK_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Kills the run's processes once more (after a stop, in case one was being born) and ends the watch. */
    void sweepNow() { sweep(entry); }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
    }

    /**
     * Kills every process whose environment holds {@code entry}, and their descendants, until none is left (a few
     * rounds: one may fork while the first is being killed).
     *
     * @param entry {@code NAME=value}
     * @return how many processes were killed
     */
    static int sweep(String entry) {
        int killed = 0;
        for (int round = 0; round < 10; round++) {
            List<ProcessHandle> found = marked(entry);
            if (found.isEmpty()) return killed;
            List<ProcessHandle> all = new ArrayList<>(found);
            for (ProcessHandle p : found) p.descendants().forEach(all::add); // listed before any dies: orphans keep their pid
            for (ProcessHandle p : all) {
                if (p.destroyForcibly()) killed++;
            }
        }
        return killed;
    }

    private static List<ProcessHandle> marked(String entry) {
        byte[] needle = entry.getBytes(StandardCharsets.UTF_8);
        long self = ProcessHandle.current().pid();
        List<ProcessHandle> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path d : ds) {
                long pid;
                try {
                    pid = Long.parseLong(d.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid == self) continue;
                byte[] env;
                try {
                    env = Files.readAllBytes(d.resolve("environ"));
                } catch (IOException gone) { // exited meanwhile, or a kernel thread
                    continue;
                }
                if (holds(env, needle)) {
                    Optional<ProcessHandle> h = ProcessHandle.of(pid);
                    h.ifPresent(out::add);
                }
            }
        } catch (IOException e) {
            // no /proc: nothing more can be found than the agent's own tree kill found
        }
        return out;
    }

    /** @return whether the NUL-separated environment block holds exactly this entry */
    static boolean holds(byte[] env, byte[] entry) {
        int start = 0;
        for (int i = 0; i <= env.length; i++) {
            if (i == env.length || env[i] == 0) {
                if (i - start == entry.length && java.util.Arrays.equals(env, start, i, entry, 0, entry.length)) return true;
                start = i + 1;
            }
        }
        return false;
    }
}
