package agent.core.internal.dispatch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Keeps every process a command starts inside the command, however it detaches (a double fork, {@code setsid},
 * {@code nohup ... &}): each command that runs a process gets a cgroup v2 of its own, its processes are started
 * inside it, and when the command is stopped or ends, {@code cgroup.kill} ends everything still in it. This needs a
 * writable cgroup v2 hierarchy and a kernel with {@code cgroup.kill} (Linux 5.14); the agent under systemd gets one
 * with {@code Delegate=yes}. Where the host has neither (no cgroup v2 mounted, not writable, an old kernel), it
 * falls back to killing the process tree as the kernel shows it at the time: a child that detached from its parent
 * before the kill then survives, and this is said once in the log. Public (in a package the bundle does not export)
 * for agent.testkit, which runs plugins' processes the same way.
 */
public abstract class Containment {
    private static final Logger LOG = Logger.getLogger("agent.core.processes");
    private static volatile Containment host;

    /** One command's processes. */
    public interface Group {
        /** @param argv a program and its arguments @return the argument array that starts it inside the group */
        List<String> wrap(List<String> argv);

        /** @param root a process started from {@link #wrap} @return kills it and everything else in the group */
        void kill(ProcessHandle root);

        /** The command ended: whatever is still in the group is killed and the group removed. */
        void close();
    }

    /** @return how this host contains commands: detected once */
    public static Containment host() {
        Containment c = host;
        if (c == null) {
            synchronized (Containment.class) {
                if (host == null) host = detect();
                c = host;
            }
        }
        return c;
    }

    /** @return a new group for one command */
    public abstract Group open(String commandId);

    /** @return a line for status displays, e.g. "cgroup v2 at /sys/fs/cgroup/..." */
    public abstract String describe();

    private static Containment detect() {
        String why;
        try {
            Path mount = cgroup2Mount();
            String own = ownCgroup();
            if (mount == null) {
                why = "no cgroup v2 hierarchy is mounted";
            } else if (own == null) {
                why = "this process is in no cgroup v2 (/proc/self/cgroup)";
            } else {
                Path base = mount.resolve(own.substring(1)).resolve("outpost-commands");
                Files.createDirectories(base);
                if (!Files.exists(base.resolve("cgroup.kill"))) {
                    why = "the kernel has no cgroup.kill (Linux 5.14 or later)";
                } else {
                    LOG.fine("commands' processes are contained in cgroups under " + base);
                    return new Cgroups(base);
                }
            }
        } catch (IOException | SecurityException e) {
            why = "cannot create a cgroup (" + e.getMessage() + "); under systemd the unit needs Delegate=yes";
        }
        LOG.warning("commands' processes are killed as a process tree: " + why
            + "; a child that detaches from its parent (a double fork, setsid) can outlive its command");
        return new Trees(why);
    }

    private static Path cgroup2Mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f.length > 2 && f[2].equals("cgroup2")) return Path.of(f[1].replace("\\040", " "));
        }
        return null;
    }

    private static String ownCgroup() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            if (line.startsWith("0::")) return line.substring(3);
        }
        return null;
    }

    /** A cgroup v2 per command, under the agent's own cgroup. */
    static final class Cgroups extends Containment {
        private final Path base;
        private final AtomicLong counter = new AtomicLong();

        Cgroups(Path base) { this.base = base; }

        @Override
        public String describe() { return "cgroup v2 per command under " + base; }

        @Override
        public Group open(String commandId) {
            String safe = commandId.replaceAll("[^A-Za-z0-9_.-]", "_");
            if (safe.length() > 64) safe = safe.substring(0, 64);
            Path dir = base.resolve("cmd-" + safe + "-" + counter.incrementAndGet());
            try {
                Files.createDirectory(dir);
            } catch (IOException e) {
                LOG.warning("cannot create cgroup " + dir + " (" + e.getMessage() + "); this command's processes are killed as a tree");
                return new Trees("no cgroup for this command").open(commandId);
            }
            return new CgroupGroup(dir);
        }
    }

    private static final class CgroupGroup implements Group {
        private final Path dir;

        CgroupGroup(Path dir) { this.dir = dir; }

        @Override
        public List<String> wrap(List<String> argv) {
            // the shell moves itself into the cgroup, then becomes the program: whatever it starts is born inside.
            // The program and its arguments are positional parameters ("$@"), never part of the script.
            List<String> out = new ArrayList<>(argv.size() + 4);
            out.add("/bin/sh");
            out.add("-c");
            out.add("echo 0 > \"$0\" && exec \"$@\"");
            out.add(dir.resolve("cgroup.procs").toString());
            out.addAll(argv);
            return out;
        }

        @Override
        public void kill(ProcessHandle root) {
            killAll();
            ProcessTrees.kill(root); // a process that had not moved in yet
        }

        private void killAll() {
            try {
                Files.writeString(dir.resolve("cgroup.kill"), "1", StandardCharsets.US_ASCII);
            } catch (IOException e) {
                LOG.warning("cannot kill the processes of cgroup " + dir + ": " + e.getMessage());
            }
        }

        @Override
        public void close() {
            if (!Files.exists(dir)) return;
            if (!isEmpty()) killAll();
            // the kernel empties a killed cgroup promptly; a cgroup with processes cannot be removed
            for (int i = 0; i < 200 && !isEmpty(); i++) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                LOG.warning("cannot remove cgroup " + dir + ": " + e.getMessage());
            }
        }

        private boolean isEmpty() {
            try {
                return Files.readString(dir.resolve("cgroup.procs"), StandardCharsets.US_ASCII).isBlank();
            } catch (IOException e) {
                return true;
            }
        }
    }

    /** Without cgroups: the process tree as the kernel shows it when the kill comes. */
    static final class Trees extends Containment {
        private final String why;

        Trees(String why) { this.why = why; }

        @Override
        public String describe() { return "process trees (" + why + ")"; }

        @Override
        public Group open(String commandId) {
            return new Group() {
                private final List<ProcessHandle> roots = new java.util.concurrent.CopyOnWriteArrayList<>();

                @Override
                public List<String> wrap(List<String> argv) { return argv; }

                @Override
                public void kill(ProcessHandle root) {
                    roots.add(root);
                    ProcessTrees.kill(root);
                }

                @Override
                public void close() {}
            };
        }
    }
}
