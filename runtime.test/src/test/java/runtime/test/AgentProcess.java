package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One run of bin/outpost as a child process, with its output collected as it comes. */
final class AgentProcess implements AutoCloseable {
    static final Path HOME = Path.of(System.getProperty("outpost.home", "..")).toAbsolutePath().normalize();
    static final Path LAUNCHER = HOME.resolve("bin/outpost");

    final Process process;
    private final StringBuffer stdout = new StringBuffer();
    private final StringBuffer stderr = new StringBuffer();
    private final Thread[] pumps;
    private int mark;

    private AgentProcess(Process p) {
        this.process = p;
        this.pumps = new Thread[] {pump(p.getInputStream(), stdout), pump(p.getErrorStream(), stderr)};
    }

    static AgentProcess start(String... args) throws IOException {
        assertThat(HOME.resolve("bndrun/target/outpost.jar")).as("the exported agent (mvn package)").exists();
        List<String> cmd = new ArrayList<>();
        cmd.add(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return startCommand(cmd);
    }

    /** Any command line (the server, outpostctl), with the same output collection. */
    static AgentProcess startCommand(List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("OUTPOST_"));
        return new AgentProcess(pb.start());
    }

    long pid() { return process.pid(); }

    /** Runs to completion within the limit and returns the exit code. */
    static AgentProcess run(Duration limit, String... args) throws Exception {
        AgentProcess a = start(args);
        a.process.getOutputStream().close();
        a.awaitExit(limit, "agent " + List.of(args));
        return a;
    }

    /** Waits for the process to end, and for its output to be read to the end; both bounded by the limit. */
    AgentProcess awaitExit(Duration limit, String what) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        assertThat(process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS))
            .as("%s finished within %s; stderr so far:%n%s", what, limit, stderr()).isTrue();
        // the pumps end at end of file, once the process and whatever inherited its pipes are gone
        for (Thread t : pumps) t.join(Math.max(1, (end - System.nanoTime()) / 1_000_000));
        for (Thread t : pumps) assertThat(t.isAlive()).as("%s: its output was read to the end within %s", what, limit).isFalse();
        return this;
    }

    int exitCode() { return process.exitValue(); }

    String stdout() { return stdout.toString(); }

    String stderr() { return stderr.toString(); }

    void send(String line) throws IOException {
        OutputStream in = process.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** Waits until stdout, after what earlier calls consumed, contains the text; returns what came up to it. */
    String awaitStdout(String text, Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            int i = stdout.indexOf(text, mark);
            if (i >= 0) {
                String seen = stdout.substring(mark, i + text.length());
                mark = i + text.length();
                return seen;
            }
            if (!process.isAlive()) break;
            Thread.sleep(20);
        }
        throw new AssertionError("no '" + text + "' on stdout within " + limit + "; stdout after the last match:\n"
            + stdout.substring(Math.min(mark, stdout.length())) + "\nstderr:\n" + stderr);
    }

    void awaitStderr(String text, Duration limit) throws InterruptedException {
        awaitStderr(text, limit, 0);
    }

    /** @return how much stderr there is now: lines after it are news (see awaitStderr with from) */
    int stderrMark() { return stderr.length(); }

    /** Waits for text on stderr at or after {@code from} (a {@link #stderrMark}). */
    void awaitStderr(String text, Duration limit, int from) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            if (stderr.indexOf(text, from) >= 0) return;
            if (!process.isAlive()) break;
            Thread.sleep(20);
        }
        throw new AssertionError("no '" + text + "' on stderr within " + limit + "; stderr:\n" + stderr);
    }

    /** Waits until stderr holds the text at least {@code count} times. */
    void awaitStderrCount(String text, int count, Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            if (stderr().split(java.util.regex.Pattern.quote(text), -1).length > count) return;
            if (!process.isAlive()) break;
            Thread.sleep(20);
        }
        throw new AssertionError(count + " times '" + text + "' on stderr not seen within " + limit + "; stderr:\n" + stderr);
    }

    private static Thread pump(InputStream in, StringBuffer into) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            int n;
            try {
                while ((n = in.read(buf)) > 0) into.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            } catch (IOException e) {
                // the process ended
            }
        }, "pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return file;
    }
}
