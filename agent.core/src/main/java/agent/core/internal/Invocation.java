package agent.core.internal;

import java.nio.file.Path;
import java.util.List;

/** The parsed command line of {@code bin/outpost}. */
final class Invocation {
    static final String USAGE = String.join("\n",
        "usage: outpost run     [--config F] [--data-dir D]",
        "       outpost once    [--config F] [--data-dir D] [--wait S]",
        "       outpost offline --tasks F [--report F] [--config F] [--data-dir D]",
        "       outpost console [--config F] [--data-dir D]",
        "       outpost help");

    final Mode mode;
    final Path config;       // null: the default file, if it exists
    final Path dataDir;      // null: from config / environment / default
    final Path tasks;
    final Path report;       // null: stdout
    final int waitSeconds;

    private Invocation(Mode mode, Path config, Path dataDir, Path tasks, Path report, int waitSeconds) {
        this.mode = mode;
        this.config = config;
        this.dataDir = dataDir;
        this.tasks = tasks;
        this.report = report;
        this.waitSeconds = waitSeconds;
    }

    /** @return the invocation, or null when help was asked for */
    static Invocation parse(List<String> args) throws ConfigException {
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
        for (int i = 1; i < args.size(); i++) {
            String a = args.get(i);
            String name = a, value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
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
                default:
                    throw new ConfigException("unknown option '" + a + "' for mode " + mode.wireName() + "\n" + USAGE);
            }
            if (value == null) i++;
        }
        if (mode == Mode.OFFLINE && tasks == null) throw new ConfigException("offline mode needs --tasks FILE\n" + USAGE);
        if (mode != Mode.OFFLINE && (tasks != null || report != null)) {
            throw new ConfigException("--tasks and --report are for offline mode only\n" + USAGE);
        }
        if (mode != Mode.ONCE && wait != 0) throw new ConfigException("--wait is for once mode only\n" + USAGE);
        return new Invocation(mode, config, dataDir, tasks, report, wait);
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
