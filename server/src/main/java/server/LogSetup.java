package server;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** java.util.logging, one line a record, to stderr. Jetty logs through SLF4J into the same place. */
public final class LogSetup {
    /** Held: java.util.logging keeps loggers weakly, and a collected one forgets its level. */
    private static final Logger JETTY = Logger.getLogger("org.eclipse.jetty");

    private LogSetup() {}

    public static void configure(Level level) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Handler h = new ConsoleHandler(); // stderr
        h.setFormatter(new OneLine());
        h.setLevel(level);
        root.addHandler(h);
        root.setLevel(level);
        // Jetty is chatty at INFO about its own start; its warnings are worth seeing
        JETTY.setLevel(level.intValue() < Level.INFO.intValue() ? level : Level.WARNING);
    }

    /** {@code 2026-11-24T10:00:00.123Z INFO gateway.AgentGateway: message}, and the stack trace if any. */
    public static final class OneLine extends Formatter {
        @Override
        public String format(LogRecord r) {
            StringBuilder sb = new StringBuilder(160);
            sb.append(Instant.ofEpochMilli(r.getMillis())).append(' ').append(r.getLevel().getName()).append(' ');
            String name = r.getLoggerName() == null ? "" : r.getLoggerName();
            sb.append(name.startsWith("server.") ? name.substring("server.".length()) : name).append(": ");
            sb.append(formatMessage(r).replace('\n', ' ')).append('\n');
            if (r.getThrown() != null) {
                java.io.StringWriter sw = new java.io.StringWriter();
                r.getThrown().printStackTrace(new java.io.PrintWriter(sw));
                sb.append(sw);
            }
            return sb.toString();
        }
    }
}
