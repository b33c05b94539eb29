package agent.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.FileHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One-line logs on stderr (the journal under systemd) and in {@code log_dir/agent.log}, rotated by size.
 * java.util.logging keeps the footprint at zero extra bundles.
 */
final class Logging {
    private static final Logger ROOT = Logger.getLogger("agent");

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
        for (Handler h : ROOT.getHandlers()) {
            ROOT.removeHandler(h);
            h.close();
        }
        ROOT.setUseParentHandlers(false);
        ROOT.setLevel(level);
        Formatter f = new OneLine();
        ConsoleHandler console = new ConsoleHandler();
        console.setLevel(level);
        console.setFormatter(f);
        ROOT.addHandler(console);
        try {
            Files.createDirectories(c.logDir);
            FileHandler file = new FileHandler(c.logDir.resolve("agent.log").toString(), 10 << 20, 5, true);
            file.setFormatter(f);
            file.setLevel(level);
            ROOT.addHandler(file);
        } catch (IOException | SecurityException e) {
            ROOT.warning("cannot write the log file in " + c.logDir + " (" + e.getMessage() + "); logging to stderr only");
        }
    }

    private static final class OneLine extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder sb = new StringBuilder(128).append(Instant.ofEpochMilli(r.getMillis())).append(' ')
                .append(level(r.getLevel())).append(' ').append(r.getLoggerName()).append(": ").append(formatMessage(r));
            if (r.getThrown() != null) sb.append(" (").append(r.getThrown()).append(')');
            return sb.append('\n').toString();
        }

        private static String level(Level l) {
            if (l == Level.SEVERE) return "ERROR";
            if (l == Level.WARNING) return "WARN ";
            if (l == Level.INFO) return "INFO ";
            return "DEBUG";
        }
    }
}
