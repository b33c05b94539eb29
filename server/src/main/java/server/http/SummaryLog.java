package server.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A log line per kind of refusal that does not grow with the attempts: the first refusal from a source in a period is
 * logged at once, the others are counted and summed up in one line when the period ends ({@link #flush}, called by
 * the owner's timer). A flood of refused requests costs a few lines a minute.
 */
public final class SummaryLog {
    /** Sources kept apart in one period; beyond it they are counted together. */
    private static final int MAX_SOURCES = 1000;
    private static final int SHOWN = 10;
    /** Sources whose first refusal of a period is logged at once; many sources at once wait for the summary too. */
    private static final int LOGGED_AT_ONCE = 20;

    private final Logger log;
    private final Level level;
    private final String what;
    private final Map<String, Count> bySource = new LinkedHashMap<>();
    private long others;

    private static final class Count {
        long more;
        String last;
    }

    /** @param what what is counted, as a phrase: "refused authentication" */
    public SummaryLog(Logger log, Level level, String what) {
        this.log = log;
        this.level = level;
        this.what = what;
    }

    /**
     * One refusal from {@code source}; {@code detail} says why (no secret in it). The first from each of the first
     * few sources in a period is logged at once, the rest are counted for {@link #flush}.
     */
    public void note(String source, String detail) {
        boolean first;
        synchronized (this) {
            Count c = bySource.get(source);
            first = c == null && bySource.size() < LOGGED_AT_ONCE;
            if (c == null) {
                if (bySource.size() >= MAX_SOURCES) {
                    others++;
                    return;
                }
                c = new Count();
                bySource.put(source, c);
            }
            if (!first) {
                c.more++;
                c.last = detail;
            }
        }
        if (first) log.log(level, what + " from " + source + ": " + detail + " (more from this source are summed up once a minute)");
    }

    /** Logs one line for what was counted since the last flush (nothing if nothing was) and starts a new period. */
    public void flush() {
        StringBuilder sb = new StringBuilder();
        long total;
        synchronized (this) {
            total = others;
            int shown = 0;
            for (Map.Entry<String, Count> e : bySource.entrySet()) {
                Count c = e.getValue();
                if (c.more == 0) continue;
                total += c.more;
                if (shown++ < SHOWN) sb.append(shown == 1 ? "" : ", ").append(e.getKey()).append(" ×").append(c.more).append(" (").append(c.last).append(')');
            }
            if (shown > SHOWN) sb.append(", and ").append(shown - SHOWN).append(" more sources");
            if (others > 0) sb.append(shown == 0 ? "" : ", ").append(others).append(" from sources not kept apart");
            bySource.clear();
            others = 0;
        }
        if (total > 0) log.log(level, what + ": " + total + " more since the last summary: " + sb);
    }
}
