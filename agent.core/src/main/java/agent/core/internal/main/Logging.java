package agent.core.internal.main;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.logging.StreamHandler;

import agent.core.internal.config.AgentConfig;

/**
 * One-line logs, the same for every line of a run, on stderr (the journal under systemd) and in
 * {@code log_dir/agent.log}, rotated by size to {@code agent.log.1} .. {@code agent.log.N}. java.util.logging keeps the
 * footprint at zero extra bundles. Plugins log with {@code java.util.logging.Logger.getLogger("plugin.<name>")}: the
 * root logger is configured here, so their lines look like the core's (docs/plugins.md).
 */
public final class Logging {
    /** The config file's level names, in order of verbosity; the same names change the level at runtime. */
    public static final java.util.List<String> LEVELS = java.util.List.of("error", "warn", "info", "debug", "trace");
    /**
     * The one line format (java.util.logging's SimpleFormatter): time with its zone, level, logger, message, and the
     * stack trace of an exception. bin/outpost sets the same with -Djava.util.logging.SimpleFormatter.format, so the
     * lines logged before this configuration (bundles starting) look the same.
     */
    static final String FORMAT = "%1$tFT%1$tT.%1$tL%1$tz %4$s %3$s: %5$s%6$s%n";
    private static final String FORMAT_PROPERTY = "java.util.logging.SimpleFormatter.format";

    /** The handlers this run installed: put back if the JVM's shutdown hook took them off before the last lines. */
    private static volatile Handler[] installed = new Handler[0];
    private static volatile String levelName = "info";
    private static final LastProblem LAST_PROBLEM = new LastProblem();
    /**
     * The loggers the level is for: the agent's own and its plugins' (docs/plugins.md). Everything else (the JDK, the
     * libraries) stays at info: at debug, the JDK's HTTP client logs every frame and header it handles, and SQLite
     * every statement, which would bury the agent's lines and put protocol traffic in the log. Held here: a logger
     * nobody references may be collected and lose its level.
     */
    private static final Logger[] OWN = {Logger.getLogger("agent"), Logger.getLogger("plugin")};

    private Logging() {}

    private static Level level(String name) {
        switch (name) {
            case "error": return Level.SEVERE;
            case "warn": return Level.WARNING;
            case "debug": return Level.FINE;
            case "trace": return Level.FINEST;
            default: return Level.INFO;
        }
    }

    /** The agent's logging: stderr (or the journal) and the rotated log file of {@code log_dir}. */
    static void configure(AgentConfig c) {
        Handler console = install(c.logLevel);
        installed = new Handler[] {console};
        Logger root = root();
        try {
            Files.createDirectories(c.logDir);
            Handler file = new RotatingFile(c.logDir.resolve("agent.log"), c.logFileBytes, c.logFiles);
            file.setFormatter(new SimpleFormatter());
            file.setLevel(level(c.logLevel));
            root.addHandler(file);
            installed = new Handler[] {console, file};
        } catch (IOException | SecurityException e) {
            root.warning("cannot write the log file in " + c.logDir + " (" + e.getMessage() + "); logging to stderr only");
        }
    }

    /**
     * An operator's tool run (status, check, inject): stderr only, at warnings. The log file belongs to the agent,
     * which may be running and rotating it.
     */
    static void configureForTool() {
        installed = new Handler[] {install("warn")};
    }

    private static Handler install(String name) {
        Level level = level(name);
        if (System.getProperty(FORMAT_PROPERTY) == null) System.setProperty(FORMAT_PROPERTY, FORMAT);
        Logger root = root();
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
            h.close();
        }
        applyLevel(level);
        // under systemd the journal keeps its own time; it reads the level from a <N> prefix (sd-daemon(3))
        Handler console = new Console(System.getenv("JOURNAL_STREAM") != null ? new Journal() : new SimpleFormatter());
        console.setLevel(level);
        root.addHandler(console);
        root.addHandler(LAST_PROBLEM);
        levelName = name;
        return console;
    }

    private static Logger root() { return LogManager.getLogManager().getLogger(""); }

    /** The agent's and plugins' loggers at the level; all others at it only when it is quieter than info. */
    private static void applyLevel(Level level) {
        root().setLevel(level.intValue() > Level.INFO.intValue() ? level : Level.INFO);
        for (Logger l : OWN) l.setLevel(level);
    }

    /** @return the level now, as the config file names it ({@code info}, {@code debug}, ...) */
    public static String level() { return levelName; }

    /**
     * Changes the level of the agent's log, stderr and file, at once and until the agent stops (the config file's
     * {@code log_level} applies again at the next start).
     *
     * @param name one of {@link #LEVELS}
     * @return the level before
     * @throws IllegalArgumentException naming the level and the known ones
     */
    public static synchronized String setLevel(String name) {
        if (!LEVELS.contains(name)) {
            throw new IllegalArgumentException("log level must be one of " + String.join(", ", LEVELS) + ", got '" + name + "'");
        }
        String before = levelName;
        Level level = level(name);
        applyLevel(level);
        for (Handler h : installed) h.setLevel(level);
        levelName = name;
        return before;
    }

    /** @return the last warning or error logged in this run, or null */
    public static Problem lastProblem() { return LAST_PROBLEM.last; }

    /** A warning or error as the log has it. */
    public record Problem(java.time.Instant time, String level, String logger, String message) {}

    /** Keeps the last warning or error: what {@code outpost status} shows as the last error. */
    private static final class LastProblem extends Handler {
        volatile Problem last;

        LastProblem() { setLevel(Level.WARNING); }

        @Override
        public void publish(LogRecord r) {
            if (!isLoggable(r)) return;
            String message = new SimpleFormatter().formatMessage(r);
            if (r.getThrown() != null) message += " (" + r.getThrown() + ")";
            last = new Problem(r.getInstant(), r.getLevel().getName(), r.getLoggerName(), message);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    /**
     * On SIGTERM the JVM's logging shutdown hook takes every handler off while the agent still closes its store: the
     * last lines ("stopped") would be lost. The handlers ignore that close (see {@link Console}), and this puts them
     * back before those lines.
     */
    static void reattach() {
        Logger root = LogManager.getLogManager().getLogger("");
        if (root == null) return;
        java.util.List<Handler> now = java.util.Arrays.asList(root.getHandlers());
        for (Handler h : installed) if (!now.contains(h)) root.addHandler(h);
    }

    /**
     * Writes a line straight to this run's handlers, whether or not the root logger still has them: from a shutdown
     * hook, which runs beside the JVM's logging hook that takes them off (a line logged the usual way is then lost).
     */
    static void publishNow(Level level, String logger, String message) {
        LogRecord r = new LogRecord(level, message);
        r.setLoggerName(logger);
        for (Handler h : installed) h.publish(r);
    }

    /**
     * The process's stderr, file descriptor 2 itself: System.err is Gogo's by now, and it hands what a thread running a
     * shell command writes to that command's session, so lines logged while a command of the console or the control
     * socket runs would go to its client instead of the journal. A close by the JVM's logging shutdown hook only flushes.
     */
    static final class Console extends StreamHandler {
        Console(Formatter f) { super(new java.io.FileOutputStream(java.io.FileDescriptor.err), f); }

        @Override
        public synchronized void publish(LogRecord record) {
            super.publish(record);
            flush();
        }

        @Override
        public synchronized void close() { flush(); }
    }

    /** The journal's form of a line: {@code <N>} (3 error, 4 warning, 6 info, 7 debug) before every line of it. */
    static final class Journal extends Formatter {
        @Override
        public String format(LogRecord r) {
            int v = r.getLevel().intValue();
            String prefix = v >= Level.SEVERE.intValue() ? "<3>" : v >= Level.WARNING.intValue() ? "<4>"
                : v >= Level.INFO.intValue() ? "<6>" : "<7>";
            StringBuilder sb = new StringBuilder(prefix).append(r.getLevel().getName()).append(' ').append(r.getLoggerName())
                .append(": ").append(formatMessage(r));
            if (r.getThrown() != null) {
                java.io.StringWriter trace = new java.io.StringWriter();
                r.getThrown().printStackTrace(new java.io.PrintWriter(trace));
                sb.append('\n').append(trace.toString().stripTrailing());
            }
            return sb.toString().replace("\n", "\n" + prefix) + "\n";
        }
    }

    /**
     * {@code agent.log}, renamed to {@code agent.log.1} (and so on, the oldest dropped) when it reaches its size: the
     * names an operator and logrotate expect. java.util.logging's FileHandler writes {@code agent.log.0} instead.
     */
    static final class RotatingFile extends StreamHandler {
        private final Path file;
        private final long limit;
        private final int count;
        private Counting out;

        RotatingFile(Path file, long limit, int count) throws IOException {
            this.file = file;
            this.limit = limit;
            this.count = count;
            open();
        }

        private void open() throws IOException {
            out = new Counting(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                Files.exists(file) ? Files.size(file) : 0);
            setOutputStream(out);
        }

        @Override
        public synchronized void publish(LogRecord record) {
            if (!isLoggable(record)) return;
            super.publish(record);
            flush();
            if (out.written >= limit) rotate();
        }

        /** A close by the JVM's logging shutdown hook only flushes: the agent may still have lines to write. */
        @Override
        public synchronized void close() { flush(); }

        private void rotate() {
            try {
                super.close();
                for (int i = count - 1; i >= 1; i--) {
                    Path older = file.resolveSibling(file.getFileName() + "." + i);
                    if (Files.exists(older)) {
                        Files.move(older, file.resolveSibling(file.getFileName() + "." + (i + 1)), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                Files.deleteIfExists(file.resolveSibling(file.getFileName() + "." + (count + 1)));
                Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
                open();
            } catch (IOException e) {
                reportError("cannot rotate " + file + ": " + e.getMessage(), e, java.util.logging.ErrorManager.WRITE_FAILURE);
            }
        }

        private static final class Counting extends java.io.FilterOutputStream {
            long written;

            Counting(OutputStream out, long already) {
                super(out);
                this.written = already;
            }

            @Override
            public void write(int b) throws IOException {
                out.write(b);
                written++;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                written += len;
            }
        }
    }
}
