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
final class Logging {
    /**
     * The one line format (java.util.logging's SimpleFormatter): time with its zone, level, logger, message, and the
     * stack trace of an exception. bin/outpost sets the same with -Djava.util.logging.SimpleFormatter.format, so the
     * lines logged before this configuration (bundles starting) look the same.
     */
    static final String FORMAT = "%1$tFT%1$tT.%1$tL%1$tz %4$s %3$s: %5$s%6$s%n";
    private static final String FORMAT_PROPERTY = "java.util.logging.SimpleFormatter.format";

    /** The handlers this run installed: put back if the JVM's shutdown hook took them off before the last lines. */
    private static volatile Handler[] installed = new Handler[0];

    private Logging() {}

    static void configure(AgentConfig c) {
        Level level;
        switch (c.logLevel) {
            case "error": level = Level.SEVERE; break;
            case "warn": level = Level.WARNING; break;
            case "debug": level = Level.FINE; break;
            case "trace": level = Level.FINEST; break;
            default: level = Level.INFO;
        }
        if (System.getProperty(FORMAT_PROPERTY) == null) System.setProperty(FORMAT_PROPERTY, FORMAT);
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
            h.close();
        }
        root.setLevel(level);
        Formatter f = new SimpleFormatter();
        // under systemd the journal keeps its own time; it reads the level from a <N> prefix (sd-daemon(3))
        Handler console = new Console(System.getenv("JOURNAL_STREAM") != null ? new Journal() : f);
        console.setLevel(level);
        root.addHandler(console);
        installed = new Handler[] {console};
        try {
            Files.createDirectories(c.logDir);
            Handler file = new RotatingFile(c.logDir.resolve("agent.log"), c.logFileBytes, c.logFiles);
            file.setFormatter(f);
            file.setLevel(level);
            root.addHandler(file);
            installed = new Handler[] {console, file};
        } catch (IOException | SecurityException e) {
            root.warning("cannot write the log file in " + c.logDir + " (" + e.getMessage() + "); logging to stderr only");
        }
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

    /** stderr; a close by the JVM's logging shutdown hook only flushes (the stream is the process's own). */
    static final class Console extends StreamHandler {
        Console(Formatter f) { super(System.err, f); }

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
