package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A command run to completion as a real process (a shell script, the launcher, systemd tools), with its
 * environment, working directory and standard input chosen by the test. The environment starts from this
 * process's without any {@code OUTPOST_*} variable, so a developer's settings never leak into a test.
 */
final class HostCommand {
    private final List<String> argv = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> unset = new ArrayList<>();
    private Path cwd;
    private String stdin = "";
    private List<Mount> mounts = List.of();

    /** One change of the private mount namespace the command runs in (see {@link #in}). */
    record Mount(String kind, Path a, Path b, Path c) {
        /** Writes to {@code dir} go to {@code upper} (test-visible); the host's files stay as they are. */
        static Mount overlay(Path dir, Path upper, Path work) { return new Mount("overlay", dir, upper, work); }

        /** {@code source} appears at {@code target} (created in the namespace if missing: overlay its parent first). */
        static Mount bind(Path source, Path target) { return new Mount("bind", source, target, null); }

        /**
         * An install in the scratch {@code root} seen at the system paths it was made for (/opt/outpost, /etc/outpost,
         * /var/lib/outpost, /var/log/outpost), over the host's /opt, /etc, /var/lib, /var/log and /run overlaid so
         * that nothing is written to the host (the overlays' upper and work directories go into {@code scratch}).
         */
        static Mount[] installedAt(Path root, Path scratch) throws java.io.IOException {
            List<Mount> mounts = new ArrayList<>();
            for (String d : List.of("/opt", "/etc", "/var/lib", "/var/log", "/run")) {
                String name = d.substring(1).replace('/', '-');
                mounts.add(overlay(Path.of(d), java.nio.file.Files.createDirectories(scratch.resolve("upper-" + name)),
                    java.nio.file.Files.createDirectories(scratch.resolve("work-" + name))));
            }
            for (String d : List.of("/opt/outpost", "/etc/outpost", "/var/lib/outpost", "/var/log/outpost")) {
                mounts.add(bind(root.resolve(d.substring(1)), Path.of(d)));
            }
            return mounts.toArray(Mount[]::new);
        }
    }

    /** What a finished command gave. */
    record Result(int exitCode, String stdout, String stderr, Duration elapsed) {
        String both() { return "exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr; }
    }

    private HostCommand(List<String> argv) { this.argv.addAll(argv); }

    static HostCommand of(String... argv) { return new HostCommand(List.of(argv)); }

    static HostCommand of(List<String> argv) { return new HostCommand(argv); }

    HostCommand env(String name, String value) {
        env.put(name, value);
        return this;
    }

    HostCommand unsetEnv(String name) {
        unset.add(name);
        return this;
    }

    HostCommand cwd(Path dir) {
        cwd = dir;
        return this;
    }

    HostCommand stdin(String text) {
        stdin = text;
        return this;
    }

    /**
     * Runs the command in a private mount namespace (util-linux {@code unshare}) after these mounts, so a test can
     * let a program use the host's real paths (/var/lib/outpost, /opt/outpost) while what it writes lands in the
     * test's directories and the host is untouched. The mounts die with the namespace.
     */
    HostCommand in(Mount... mounts) {
        this.mounts = List.of(mounts);
        return this;
    }

    // Mount operations are passed as arguments to a fixed script: no path is ever spliced into shell text.
    private static final String MOUNT_SCRIPT = String.join("\n",
        "set -eu",
        "while [ \"$1\" != -- ]; do",
        "  case \"$1\" in",
        "    overlay) mount -t overlay overlay -o \"lowerdir=$2,upperdir=$3,workdir=$4\" \"$2\"; shift 4 ;;",
        "    bind) mkdir -p \"$3\"; mount --bind \"$2\" \"$3\"; shift 3 ;;",
        "    *) echo \"unknown mount kind $1\" >&2; exit 97 ;;",
        "  esac",
        "done",
        "shift",
        "exec \"$@\"");

    /** The command line as run: wrapped in unshare with the mounts when there are any (for a long-running process). */
    List<String> commandLine() {
        if (mounts.isEmpty()) return argv;
        List<String> cmd = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "bash", "-c",
            MOUNT_SCRIPT, "mounts"));
        for (Mount m : mounts) {
            cmd.add(m.kind());
            cmd.add(m.a().toString());
            cmd.add(m.b().toString());
            if (m.c() != null) cmd.add(m.c().toString());
        }
        cmd.add("--");
        cmd.addAll(argv);
        return cmd;
    }

    /** Runs to completion within the limit (the process is killed and the test fails otherwise). */
    Result run(Duration limit) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(commandLine());
        pb.environment().keySet().removeIf(k -> k.startsWith("OUTPOST_"));
        unset.forEach(pb.environment()::remove);
        pb.environment().putAll(env);
        if (cwd != null) pb.directory(cwd.toFile());
        long start = System.nanoTime();
        Process p = pb.start();
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        } catch (IOException closedEarly) {
            // the command did not read all of its input: what it did with the rest is the test's business
        }
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(argv + " did not finish within " + limit + "; stdout:\n" + out.getNow("")
                + "\nstderr:\n" + err.getNow(""));
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        return new Result(p.exitValue(), out.join(), err.join(), elapsed);
    }

    /** Runs and asserts exit 0, naming the command and its output otherwise. */
    Result runOk(Duration limit) throws IOException, InterruptedException {
        Result r = run(limit);
        assertThat(r.exitCode()).as("%s\n%s", argv, r.both()).isZero();
        return r;
    }

    /** A thread of its own per stream: the common pool may have one thread on a small machine, and a full pipe blocks. */
    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
            }
        }, "drain");
        t.setDaemon(true);
        t.start();
        return f;
    }
}
