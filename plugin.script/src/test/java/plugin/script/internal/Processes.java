package plugin.script.internal;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What tests need to know about processes a script left, by pid. */
final class Processes {
    private Processes() {}

    /** @return whether the process exists and is not a zombie (an orphan's zombie may wait for a lazy init) */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the pids written one per line to the file, once it has {@code n} of them (waits at most 10 s) */
    static List<Long> pids(Path file, int n) throws Exception {
        long end = System.nanoTime() + 10_000_000_000L;
        while (true) {
            List<Long> pids = new ArrayList<>();
            if (Files.exists(file)) {
                for (String l : Files.readAllLines(file)) if (!l.isBlank()) pids.add(Long.parseLong(l.strip()));
            }
            if (pids.size() >= n) return pids;
            if (System.nanoTime() > end) fail("the script wrote " + pids.size() + " of " + n + " pids to " + file + " in 10 s");
            Thread.sleep(20);
        }
    }

    /** Waits (at most 5 s) until none of the pids is alive; fails naming the survivors. */
    static void assertAllGone(List<Long> pids) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (true) {
            List<Long> alive = pids.stream().filter(Processes::alive).toList();
            if (alive.isEmpty()) return;
            if (System.nanoTime() > end) {
                alive.forEach(p -> ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly)); // leave no sleeper behind
                fail("still alive 5 s after the run ended: " + alive);
            }
            Thread.sleep(20);
        }
    }

    /** Runs a command as the test's setup, failing with its output unless it exits 0. */
    static String run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) fail(String.join(" ", argv) + " failed (exit " + p.exitValue() + "): " + out);
        return out;
    }
}
