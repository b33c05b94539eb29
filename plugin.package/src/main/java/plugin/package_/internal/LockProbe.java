package plugin.package_.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;

/**
 * Who holds a package manager's lock, found the way {@code lslocks} and {@code fuser} do, without running them:
 * {@code /proc/locks} lists every {@code fcntl} lock with its owner's pid and the locked file's device and inode
 * (dpkg's and apt's locks, rpm's); the pid files of dnf, yum and zypper name their owner. {@link #await} waits for all
 * of them to be free, with a bound, and then reports the holder.
 */
final class LockProbe {
    /** How often a held lock is looked at again. */
    static final Duration POLL = Duration.ofMillis(200);

    private final Path procLocks;
    private final Path proc;

    LockProbe() { this(Path.of("/proc/locks"), Path.of("/proc")); }

    LockProbe(Path procLocks, Path proc) {
        this.procLocks = procLocks;
        this.proc = proc;
    }

    /** A lock file and how it is taken. */
    record Lock(Path path, Kind kind) {
        static Lock fcntl(Path p) { return new Lock(p, Kind.FCNTL); }

        static Lock pidFile(Path p) { return new Lock(p, Kind.PID_FILE); }
    }

    enum Kind {
        /** An advisory record lock ({@code fcntl F_SETLK}): dpkg, apt, rpm. */
        FCNTL,
        /** A file holding its owner's pid while it runs: dnf, yum, zypper. */
        PID_FILE
    }

    /**
     * @param lock    the lock
     * @param pid     its holder's process id, or -1 if the kernel does not say (an open file description lock)
     * @param command the holder's command name ({@code /proc/PID/comm}), or null
     */
    record Holder(Path lock, long pid, String command) {
        @Override
        public String toString() {
            return lock + " is held by " + (pid < 0 ? "a process whose pid the kernel does not report"
                : "pid " + pid + (command == null ? "" : " (" + command + ")"));
        }
    }

    /** @return who holds any of the locks now; empty if all are free */
    List<Holder> holders(List<Lock> locks) throws IOException {
        List<Holder> out = new ArrayList<>();
        List<String> table = null;
        for (Lock l : locks) {
            if (l.kind == Kind.PID_FILE) {
                long pid = pidIn(l.path);
                if (pid > 0 && Files.isDirectory(proc.resolve(Long.toString(pid)))) out.add(new Holder(l.path, pid, comm(pid)));
                continue;
            }
            long dev, ino;
            try {
                dev = ((Number) Files.getAttribute(l.path, "unix:dev")).longValue();
                ino = ((Number) Files.getAttribute(l.path, "unix:ino")).longValue();
            } catch (NoSuchFileException e) {
                continue; // a lock file that does not exist is not held
            }
            if (table == null) table = Files.readAllLines(procLocks, StandardCharsets.UTF_8);
            Set<Long> pids = new LinkedHashSet<>();
            boolean unknownPid = false;
            for (String line : table) {
                Entry e = Entry.parse(line);
                if (e == null || e.ino != ino || e.major != major(dev) || e.minor != minor(dev)) continue;
                if (e.pid > 0) pids.add(e.pid);
                else unknownPid = true;
            }
            for (long pid : pids) out.add(new Holder(l.path, pid, comm(pid)));
            if (pids.isEmpty() && unknownPid) {
                // an OFD lock carries no pid: name the processes that have the file open, as fuser would
                List<Long> openers = openers(l.path);
                if (openers.isEmpty()) out.add(new Holder(l.path, -1, null));
                for (long pid : openers) out.add(new Holder(l.path, pid, comm(pid)));
            }
        }
        return out;
    }

    /**
     * Waits until none of the locks is held, at most {@code bound}.
     *
     * @throws CommandRefusedException with {@link ErrorCode#BUSY} naming the holders, if they still hold a lock then
     */
    void await(CommandContext ctx, List<Lock> locks, Duration bound) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        List<Holder> last = List.of();
        while (true) {
            List<Holder> now = holders(locks);
            if (now.isEmpty()) {
                if (!last.isEmpty()) ctx.output().println("the package manager's lock is free now");
                return;
            }
            if (!now.equals(last)) ctx.output().println("waiting (at most " + bound.toSeconds() + " s) for the package manager's lock: " + describe(now));
            last = now;
            if (System.nanoTime() - deadline >= 0) {
                throw new CommandRefusedException("the package manager is busy: " + describe(now) + "; waited "
                    + bound.toSeconds() + " s (plugins.settings.package.lock_wait_seconds). Nothing was changed.", ErrorCode.BUSY);
            }
            ctx.checkCancelled();
            Thread.sleep(POLL.toMillis());
        }
    }

    static String describe(List<Holder> holders) {
        List<String> parts = new ArrayList<>();
        for (Holder h : holders) parts.add(h.toString());
        return String.join("; ", parts);
    }

    /** One line of /proc/locks: {@code 3: POSIX  ADVISORY  WRITE 1703 fe:00:402117 0 EOF}. A waiter ({@code ->}) is skipped. */
    record Entry(long pid, long major, long minor, long ino) {
        static Entry parse(String line) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 6 || f[1].equals("->")) return null;
            try {
                String[] dev = f[5].split(":");
                if (dev.length != 3) return null;
                return new Entry(Long.parseLong(f[4]), Long.parseLong(dev[0], 16), Long.parseLong(dev[1], 16), Long.parseLong(dev[2]));
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /** glibc's gnu_dev_major: a dev_t as stat gives it, in the kernel's major/minor. */
    static long major(long dev) { return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL); }

    static long minor(long dev) { return (dev & 0xff) | ((dev >>> 12) & ~0xffL); }

    private long pidIn(Path pidFile) {
        try {
            String s = Files.readString(pidFile, StandardCharsets.US_ASCII).trim();
            return s.matches("[0-9]{1,10}") ? Long.parseLong(s) : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    private String comm(long pid) {
        try {
            return Files.readString(proc.resolve(Long.toString(pid)).resolve("comm"), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return null; // it ended meanwhile
        }
    }

    private List<Long> openers(Path file) throws IOException {
        Path target = file.toRealPath();
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path p : procs) {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(p.resolve("fd"))) {
                    for (Path fd : fds) {
                        if (Files.readSymbolicLink(fd).equals(target)) {
                            out.add(Long.parseLong(p.getFileName().toString()));
                            break;
                        }
                    }
                } catch (IOException e) {
                    // ended, or not ours to look at
                }
            }
        }
        return out;
    }

    /** @return a lock list's paths, for messages */
    static String paths(List<Lock> locks) {
        List<String> out = new ArrayList<>();
        for (Lock l : locks) out.add(l.path.toString());
        return String.join(", ", out);
    }

    /** A failure to read the lock tables is not a reason to refuse: say so and let the manager's own lock decide. */
    static CommandException unreadable(IOException e) {
        return new CommandException("cannot read the lock table (" + e.getMessage() + ")");
    }
}
