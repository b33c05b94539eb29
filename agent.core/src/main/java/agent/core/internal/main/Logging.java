package agent.core.internal.main;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.logging.ConsoleHandler;
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
        ConsoleHandler console = new ConsoleHandler();
        console.setLevel(level);
        console.setFormatter(f);
        root.addHandler(console);
        try {
            Files.createDirectories(c.logDir);
            Handler file = new RotatingFile(c.logDir.resolve("agent.log"), c.logFileBytes, c.logFiles);
            file.setFormatter(f);
            file.setLevel(level);
            root.addHandler(file);
        } catch (IOException | SecurityException e) {
            root.warning("cannot write the log file in " + c.logDir + " (" + e.getMessage() + "); logging to stderr only");
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
