package packager;

import java.io.PrintStream;
import java.util.Locale;

/**
 * What the packager tells while it works, on standard error: one line when a slow step starts and one when it ends,
 * with its time; with {@code -v}, the details (tools run, modules, every bundle).
 */
final class Progress {
    private final PrintStream out;
    private final boolean verbose;

    Progress(PrintStream out, boolean verbose) {
        this.out = out;
        this.verbose = verbose;
    }

    /** @param line a fact worth telling without -v */
    void say(String line) {
        out.println("outpost-packager: " + line);
        out.flush();
    }

    /** @param line shown with -v only */
    void detail(String line) {
        if (verbose) {
            out.println("  " + line);
            out.flush();
        }
    }

    /** @return whether details are shown */
    boolean verbose() { return verbose; }

    /** A slow step: started now, ended by {@link Step#done}. */
    final class Step {
        private final String name;
        private final long start = System.nanoTime();

        private Step(String name) { this.name = name; }

        /** @param result what came of it, e.g. "15 bundles resolve" */
        void done(String result) {
            say(name + ": " + result + " (" + String.format(Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e9) + " s)");
        }
    }

    /**
     * @param name  the step, e.g. "resolve"
     * @param doing what it does, e.g. "15 bundles against Felix"
     * @return the step, to end with done
     */
    Step start(String name, String doing) {
        say(name + ": " + doing + " ...");
        return new Step(name);
    }
}
