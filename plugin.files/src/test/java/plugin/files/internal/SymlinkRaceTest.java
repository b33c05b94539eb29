package plugin.files.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.Status;
import agent.testkit.Outcome;

/**
 * A thread swaps a symlink that leads out of the allowed tree in and out of the path while file.put and file.get run
 * over and over: no write may ever land outside, and no read may return what lies outside. The loop runs until both
 * states were seen by the actions many times (a put that succeeded went through the real directory, one that was
 * refused met the link), so the swaps did happen during the runs.
 */
class SymlinkRaceTest {
    static final long LIMIT_MS = 60_000;
    /** The directory swap: a check-then-write handler let a write escape after 143 runs here (about 5 s). */
    static final int MIN_EACH = 100;
    /** The file swap refuses far more often than it writes (the swapper spends most of its time on the link). */
    static final int MIN_WRITTEN_FILE = 30;

    @TempDir
    Path tmp;
    Sandbox box;

    @BeforeEach
    void setUp() throws Exception { box = new Sandbox(tmp); }

    /** Renames the real directory and the link in and out of {@code name}, as fast as it can, until stopped. */
    private Thread swapper(Path name, Path realDir, Path link, AtomicBoolean stop, AtomicLong swaps) {
        Thread t = new Thread(() -> {
            try {
                while (!stop.get()) {
                    Files.move(realDir, name, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(name, realDir, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(link, name, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(name, link, StandardCopyOption.ATOMIC_MOVE);
                    swaps.incrementAndGet();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "symlink-swapper");
        t.setDaemon(true);
        return t;
    }

    @Test
    void aDirectorySwappedForAnEscapingLinkNeverLetsAPutOrGetThrough() throws Exception {
        Path sub = box.allowed.resolve("sub");
        Path realDir = Files.createDirectories(box.allowed.resolve("sub-real"));
        Path link = Files.createSymbolicLink(box.allowed.resolve("sub-link"), box.outside);
        Files.writeString(box.outside.resolve("secret"), "outside secret\n");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong swaps = new AtomicLong();
        Thread t = swapper(sub, realDir, link, stop, swaps);
        Map<Status, Integer> puts = new EnumMap<>(Status.class);
        int refused = 0, written = 0, runs = 0;
        long end = System.currentTimeMillis() + LIMIT_MS;
        t.start();
        try {
            while ((refused < MIN_EACH || written < MIN_EACH) && System.currentTimeMillis() < end) {
                Outcome o = box.put(Map.of("path", sub.resolve("secret").toString(), "content", "written " + runs + "\n", "backup", false));
                puts.merge(o.status(), 1, Integer::sum);
                if (o.status() == Status.SUCCEEDED) written++;
                if (o.status() == Status.REJECTED) {
                    assertThat(o.error()).contains("through a symlink").contains("not under an allowed prefix");
                    refused++;
                }
                Outcome read = box.run("file.get", Map.of("path", sub.resolve("secret").toString()), box.reader());
                if (read.status() == Status.SUCCEEDED) assertThat(read.dataAsMap().get("content")).asString().startsWith("written ");
                assertThat(Files.readString(box.outside.resolve("secret"))).isEqualTo("outside secret\n");
                runs++;
            }
        } finally {
            stop.set(true);
            t.join(10_000);
        }
        System.out.println("directory swap: " + runs + " runs, " + puts + ", " + swaps.get() + " swaps");
        assertThat(refused).as("puts refused at the link, of " + runs + " (" + puts + ", " + swaps.get() + " swaps)").isGreaterThanOrEqualTo(MIN_EACH);
        assertThat(written).as("puts through the real directory, of " + runs + " (" + puts + ")").isGreaterThanOrEqualTo(MIN_EACH);
        try (var s = Files.list(box.outside)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).as("nothing new outside, no temporary file either")
                .containsExactly("secret");
        }
        assertThat(Files.readString(box.outside.resolve("secret"))).isEqualTo("outside secret\n");
        assertThat(Files.readString(realDir.resolve("secret"))).startsWith("written ");
    }

    @Test
    void aFileSwappedForAnEscapingLinkIsNeverWrittenThrough() throws Exception {
        Path target = Files.writeString(box.allowed.resolve("app.conf"), "inside\n");
        Path outsideFile = Files.writeString(box.outside.resolve("app.conf"), "outside\n");
        AtomicBoolean stop = new AtomicBoolean();
        // renames a fresh file, then a fresh link to the outside file, over the target: it is never missing
        Thread t = new Thread(() -> {
            Path file = box.allowed.resolve("swap-file");
            Path link = box.allowed.resolve("swap-link");
            try {
                while (!stop.get()) {
                    Files.writeString(file, "inside\n");
                    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
                    Files.createSymbolicLink(link, outsideFile);
                    Files.move(link, target, StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "symlink-swapper");
        t.setDaemon(true);
        int refused = 0, written = 0, runs = 0;
        long end = System.currentTimeMillis() + LIMIT_MS;
        t.start();
        try {
            while ((refused < MIN_EACH || written < MIN_WRITTEN_FILE) && System.currentTimeMillis() < end) {
                Outcome o = box.put(Map.of("path", target.toString(), "content", "written " + runs + "\n", "backup", false));
                if (o.status() == Status.SUCCEEDED) written++;
                if (o.status() == Status.REJECTED) refused++;
                assertThat(Files.readString(outsideFile)).isEqualTo("outside\n");
                runs++;
            }
        } finally {
            stop.set(true);
            t.join(10_000);
        }
        System.out.println("file swap: " + runs + " runs, " + refused + " refused, " + written + " written");
        assertThat(t.isAlive()).isFalse();
        assertThat(refused).as("refused, of " + runs).isGreaterThanOrEqualTo(MIN_EACH);
        assertThat(written).as("written, of " + runs).isGreaterThanOrEqualTo(MIN_WRITTEN_FILE);
        assertThat(Files.readString(outsideFile)).isEqualTo("outside\n");
        try (var s = Files.list(box.outside)) {
            assertThat(s.count()).isEqualTo(1);
        }
    }
}
