package plugin.health.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state of every alert, fed one set of readings at a time with the time they were taken (the caller's clock, so a
 * test can move it). Per metric and subject:
 *
 * <pre>
 *   normal ──breached──► pending ──still breached for for_seconds──► FIRING (event "firing")
 *     ▲                     │ not breached: back to normal, no event     │ recovered (past the clear line)
 *     │                                                                  ▼
 *     └──── event "cleared" ◄── recovered for clear_for_seconds ── clearing ──not recovered──► firing, no event
 * </pre>
 *
 * A firing alert whose subject is no longer measured (a filesystem unmounted) or whose rule was turned off clears
 * with a reason. Not thread-safe: the health thread owns it.
 */
final class AlertTracker {
    enum State { PENDING, FIRING, CLEARING }

    /** An open (firing) alert as it is kept across restarts. */
    record Open(String metric, String subject, Instant since, Instant firedAt, double value) {}

    private static final class Track {
        final String metric;
        final String subject;
        State state;
        Instant since;      // when the value first crossed the line
        Instant firedAt;
        Instant clearingSince;
        double value;

        Track(String metric, String subject, Instant since, double value) {
            this.metric = metric;
            this.subject = subject;
            this.since = since;
            this.value = value;
        }
    }

    private final Map<String, Track> tracks = new LinkedHashMap<>();

    private static String key(String metric, String subject) { return subject == null ? metric : metric + "\u0000" + subject; }

    /** Puts back the alerts that were open when the agent stopped: they stay firing, and clear when their values recover. */
    void restore(List<Open> open) {
        for (Open o : open) {
            Track t = new Track(o.metric(), o.subject(), o.since(), o.value());
            t.state = State.FIRING;
            t.firedAt = o.firedAt();
            tracks.put(key(o.metric(), o.subject()), t);
        }
    }

    /** @return the alerts firing now (clearing ones included: they have not cleared yet) */
    List<Open> open() {
        List<Open> out = new ArrayList<>();
        for (Track t : tracks.values()) {
            if (t.state != State.PENDING) out.add(new Open(t.metric, t.subject, t.since, t.firedAt, t.value));
        }
        return out;
    }

    /**
     * @param readings the values measured now
     * @param rules    the rules in force, by metric
     * @param now      when the values were measured
     * @return the data of the alert events to send, in order: alerts that fired and alerts that cleared
     */
    List<Map<String, Object>> evaluate(List<Thresholds.Reading> readings, Map<String, Thresholds.Rule> rules, Instant now) {
        List<Map<String, Object>> events = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Thresholds.Reading r : readings) {
            Thresholds.Rule rule = rules.get(r.metric());
            if (rule == null) continue;
            String k = key(r.metric(), r.subject());
            seen.add(k);
            double v = r.value();
            Track t = tracks.get(k);
            if (t == null) {
                if (!rule.breached(v)) continue;
                t = new Track(r.metric(), r.subject(), now, v);
                t.state = State.PENDING;
                tracks.put(k, t);
            }
            t.value = v;
            switch (t.state) {
                case PENDING:
                    if (!rule.breached(v)) {
                        tracks.remove(k);
                    } else if (elapsed(t.since, now) >= rule.forSeconds()) {
                        t.state = State.FIRING;
                        t.firedAt = now;
                        events.add(event("firing", t, rule, v, now, null));
                    }
                    break;
                case FIRING:
                    if (rule.recovered(v)) {
                        t.state = State.CLEARING;
                        t.clearingSince = now;
                        if (rule.clearForSeconds() == 0) {
                            tracks.remove(k);
                            events.add(event("cleared", t, rule, v, now, null));
                        }
                    }
                    break;
                case CLEARING:
                    if (!rule.recovered(v)) {
                        t.state = State.FIRING;
                        t.clearingSince = null;
                    } else if (elapsed(t.clearingSince, now) >= rule.clearForSeconds()) {
                        tracks.remove(k);
                        events.add(event("cleared", t, rule, v, now, null));
                    }
                    break;
                default:
                    throw new IllegalStateException(t.state.toString());
            }
        }
        for (Iterator<Map.Entry<String, Track>> it = tracks.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Track> e = it.next();
            if (seen.contains(e.getKey())) continue;
            Track t = e.getValue();
            it.remove();
            if (t.state == State.PENDING) continue;
            Thresholds.Rule rule = rules.get(t.metric);
            String reason = rule == null ? "the threshold for " + t.metric + " was turned off"
                : t.subject != null ? t.subject + " is no longer measured (unmounted?)" : t.metric + " is no longer measured";
            events.add(event("cleared", t, rule, null, now, reason));
        }
        return events;
    }

    private static long elapsed(Instant from, Instant to) { return Duration.between(from, to).getSeconds(); }

    private static Map<String, Object> event(String state, Track t, Thresholds.Rule rule, Double value, Instant now, String reason) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("state", state);
        e.put("alert", t.metric);
        e.put("subject", t.subject);
        e.put("value", value);
        if (rule != null) {
            e.put("direction", rule.direction() == Thresholds.Direction.ABOVE ? "above" : "below");
            e.put("threshold", rule.value());
            e.put("clear", rule.clear());
            e.put("forSeconds", rule.forSeconds());
        }
        e.put("since", t.since.toString());
        e.put("firedAt", t.firedAt == null ? null : t.firedAt.toString());
        if (state.equals("cleared")) e.put("clearedAt", now.toString());
        if (reason != null) e.put("reason", reason);
        e.put("message", message(state, t, rule, value, reason));
        return e;
    }

    private static String message(String state, Track t, Thresholds.Rule rule, Double value, String reason) {
        String what = describe(t.metric, t.subject, value);
        if (state.equals("firing")) {
            return what + " (alert at " + (rule.direction() == Thresholds.Direction.ABOVE ? "≥ " : "≤ ") + Thresholds.fmt(rule.value())
                + unit(t.metric) + (rule.forSeconds() > 0 ? " for " + rule.forSeconds() + " s" : "") + ")";
        }
        if (reason != null) return "cleared: " + reason;
        return "cleared: " + what + " (back " + (rule.direction() == Thresholds.Direction.ABOVE ? "below " : "above ")
            + Thresholds.fmt(rule.clear()) + unit(t.metric) + ")";
    }

    private static String unit(String metric) { return metric.equals(Thresholds.LOAD_PER_CORE) ? " per core" : " %"; }

    private static String describe(String metric, String subject, Double v) {
        String val = v == null ? "?" : Thresholds.fmt(v);
        switch (metric) {
            case Thresholds.FILESYSTEM_USED: return "filesystem " + subject + " is " + val + " % used";
            case Thresholds.FILESYSTEM_INODES: return "filesystem " + subject + " has " + val + " % of its inodes used";
            case Thresholds.MEMORY_AVAILABLE: return "memory available is " + val + " %";
            case Thresholds.SWAP_USED: return "swap is " + val + " % used";
            case Thresholds.LOAD_PER_CORE: return "load is " + val + " per core";
            default: return metric + " is " + val;
        }
    }
}
