package agent.core.internal.config;

import java.nio.file.Path;
import java.util.List;

/** The parsed command line of {@code bin/outpost}. */
public final class Invocation {
    /** What {@code outpost help} prints. */
    public static final String USAGE = String.join("\n",
        "usage: outpost run     [--config F] [--data-dir D] [--reset-store]",
        "       outpost once    [--config F] [--data-dir D] [--wait S] [--max-seconds S]",
        "       outpost offline --tasks F [--report F] [--config F] [--data-dir D]",
        "       outpost console [--config F] [--data-dir D]",
        "       outpost help");
    /** How long one-shot mode tries by default before it gives up (exit 1): cron runs must not pile up. */
    public static final int DEFAULT_ONCE_SECONDS = 600;

    public final Mode mode;
    /** null: the default file, if it exists. */
    public final Path config;
    /** null: from config / environment / default. */
    public final Path dataDir;
    public final Path tasks;
    /** null: stdout. */
    public final Path report;
    public final int waitSeconds;
    /** One-shot mode: the longest the run may take, the random wait included. */
    public final int maxSeconds;
    /** Start with a new, empty command store although the old one is missing (recorded). */
    public final boolean resetStore;

    private Invocation(Mode mode, Path config, Path dataDir, Path tasks, Path report, int waitSeconds, int maxSeconds,
            boolean resetStore) {
        this.mode = mode;
        this.config = config;
        this.dataDir = dataDir;
        this.tasks = tasks;
        this.report = report;
        this.waitSeconds = waitSeconds;
        this.maxSeconds = maxSeconds;
        this.resetStore = resetStore;
    }

    /**
     * @param args the command line after the launcher's own options
     * @return the invocation, or null when help was asked for
     * @throws ConfigException naming the bad option, with the usage
     */
    public static Invocation parse(List<String> args) throws ConfigException {
        if (args.isEmpty()) throw new ConfigException("no mode given\n" + USAGE);
        String first = args.get(0);
        if (first.equals("help") || first.equals("--help") || first.equals("-h")) return null;
        Mode mode;
        try {
            mode = Mode.valueOf(first.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("unknown mode '" + first + "'\n" + USAGE);
        }
        Path config = null, dataDir = null, tasks = null, report = null;
        int wait = 0;
        int maxSeconds = -1;
        boolean resetStore = false;
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            String name = a, value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (name.equals("--reset-store")) {
                resetStore = true;
                continue;
            }
            switch (name) {
                case "--config": config = Path.of(value(args, i, name, value)); break;
                case "--data-dir": dataDir = Path.of(value(args, i, name, value)).toAbsolutePath(); break;
                case "--tasks": tasks = Path.of(value(args, i, name, value)); break;
                case "--report": report = Path.of(value(args, i, name, value)); break;
                case "--wait":
                    String w = value(args, i, name, value);
                    try {
                        wait = Integer.parseInt(w);
                    } catch (NumberFormatException e) {
                        wait = -1;
                    }
                    if (wait < 0 || wait > 86400) throw new ConfigException("--wait must be 0..86400 seconds, got '" + w + "'");
                    break;
                case "--max-seconds":
                    String m = value(args, i, name, value);
                    try {
                        maxSeconds = Integer.parseInt(m);
                    } catch (NumberFormatException e) {
                        maxSeconds = 0;
                    }
                    if (maxSeconds < 1 || maxSeconds > 7 * 86400) {
                        throw new ConfigException("--max-seconds must be 1..604800 seconds, got '" + m + "'");
                    }
                    break;
                default:
                    throw new ConfigException("unknown option '" + a + "' for mode " + mode.wireName() + "\n" + USAGE);
            }
            if (value == null) i++;
        }
        if (mode == Mode.OFFLINE && tasks == null) throw new ConfigException("offline mode needs --tasks FILE\n" + USAGE);
        if (mode != Mode.OFFLINE && (tasks != null || report != null)) {
            throw new ConfigException("--tasks and --report are for offline mode only\n" + USAGE);
        }
        if (mode != Mode.ONCE && (wait != 0 || maxSeconds != -1)) {
            throw new ConfigException("--wait and --max-seconds are for once mode only\n" + USAGE);
        }
        if (maxSeconds == -1) maxSeconds = Math.max(DEFAULT_ONCE_SECONDS, wait + 300);
        if (mode == Mode.ONCE && wait >= maxSeconds) {
            throw new ConfigException("--wait " + wait + " leaves no time within --max-seconds " + maxSeconds + "\n" + USAGE);
        }
        return new Invocation(mode, config, dataDir, tasks, report, wait, maxSeconds, resetStore);
    }

    private static String value(List<String> args, int i, String name, String inline) throws ConfigException {
        if (inline != null) {
            if (inline.isEmpty()) throw new ConfigException(name + " needs a value");
            return inline;
        }
        if (i + 1 >= args.size() || args.get(i + 1).startsWith("--")) throw new ConfigException(name + " needs a value");
        return args.get(i + 1);
    }
}
