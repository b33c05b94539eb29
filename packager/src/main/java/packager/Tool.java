package packager;

import java.io.IOException;
import java.io.InputStream;
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
 * An external program run to completion (jdeps, jlink, dpkg-deb, the agent): an argument array, never a shell line,
 * with its output collected and a time limit.
 */
final class Tool {
    private final List<String> argv = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> unset = new ArrayList<>();
    private Path cwd;

    /** What it gave. @param exitCode @param stdout @param stderr */
    record Result(int exitCode, String stdout, String stderr) {
        String both() { return (stdout + (stdout.isEmpty() || stderr.isEmpty() ? "" : "\n") + stderr).strip(); }
    }

    private Tool(List<String> argv) { this.argv.addAll(argv); }

    static Tool of(List<String> argv) { return new Tool(argv); }

    static Tool of(String... argv) { return new Tool(List.of(argv)); }

    Tool env(String name, String value) {
        env.put(name, value);
        return this;
    }

    Tool unset(String name) {
        unset.add(name);
        return this;
    }

    Tool cwd(Path dir) {
        cwd = dir;
        return this;
    }

    List<String> argv() { return argv; }

    /**
     * @param limit how long it may take
     * @return what it gave
     * @throws PackagerException when it cannot be started or does not finish in time
     */
    Result run(Duration limit) throws PackagerException {
        ProcessBuilder pb = new ProcessBuilder(argv);
        // the packager's own OUTPOST_* settings have no business in the programs it runs
        pb.environment().keySet().removeIf(k -> k.startsWith("OUTPOST_"));
        unset.forEach(pb.environment()::remove);
        pb.environment().putAll(env);
        if (cwd != null) pb.directory(cwd.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw PackagerException.build("cannot run " + argv.get(0) + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw PackagerException.build(argv.get(0) + " did not finish within " + limit.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw PackagerException.build("interrupted while running " + argv.get(0));
        }
        return new Result(p.exitValue(), out.join(), err.join());
    }

    /** Runs and fails the build, with the program's output, unless it exits 0. */
    Result runOk(Duration limit, String what) throws PackagerException {
        Result r = run(limit);
        if (r.exitCode() != 0) throw PackagerException.build(what + " failed (exit " + r.exitCode() + " of " + argv + "):\n" + r.both());
        return r;
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (in) {
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
