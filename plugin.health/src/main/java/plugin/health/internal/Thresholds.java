package plugin.health.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The alert rules, from the {@code health.thresholds} config object. Each metric has a line ({@code value}) that fires
 * the alert once the reading has stayed at or past it for {@code for_seconds}, and a second line ({@code clear}) on the
 * good side that the reading must get back past, for {@code clear_for_seconds}, before the alert clears: the band
 * between the two (hysteresis) and the durations keep a value that hovers at the line from flapping.
 *
 * <p>In the config a metric is a number (its {@code value}; the rest default), an object with any of {@code value},
 * {@code clear}, {@code for_seconds}, {@code clear_for_seconds}, or {@code false} (no alert for it).
 */
final class Thresholds {
    enum Direction {
        /** the alert fires at or above the value: a filling filesystem */
        ABOVE,
        /** the alert fires at or below the value: memory running out */
        BELOW
    }

    record Rule(String metric, Direction direction, double value, double clear, long forSeconds, long clearForSeconds) {
        boolean breached(double v) { return direction == Direction.ABOVE ? v >= value : v <= value; }

        boolean recovered(double v) { return direction == Direction.ABOVE ? v < clear : v > clear; }
    }

    static final String FILESYSTEM_USED = "filesystem_used_percent";
    static final String FILESYSTEM_INODES = "filesystem_inodes_used_percent";
    static final String MEMORY_AVAILABLE = "memory_available_percent";
    static final String SWAP_USED = "swap_used_percent";
    static final String LOAD_PER_CORE = "load_per_core";

    /** The defaults: a filesystem ≥ 90 % used or inodes ≥ 90 %, memory available ≤ 5 %, swap ≥ 50 %, load ≥ 2 × cores for 5 minutes. */
    static final Map<String, Rule> DEFAULTS;
    static {
        Map<String, Rule> d = new LinkedHashMap<>();
        // a filesystem fills for good, so it fires at the first reading; hysteresis alone stops the flapping
        d.put(FILESYSTEM_USED, new Rule(FILESYSTEM_USED, Direction.ABOVE, 90, 85, 0, 0));
        d.put(FILESYSTEM_INODES, new Rule(FILESYSTEM_INODES, Direction.ABOVE, 90, 85, 0, 0));
        // memory and swap swing with the workload: a minute (memory) or five (swap) of it before anyone is paged
        d.put(MEMORY_AVAILABLE, new Rule(MEMORY_AVAILABLE, Direction.BELOW, 5, 10, 60, 60));
        d.put(SWAP_USED, new Rule(SWAP_USED, Direction.ABOVE, 50, 40, 300, 300));
        d.put(LOAD_PER_CORE, new Rule(LOAD_PER_CORE, Direction.ABOVE, 2.0, 1.5, 300, 300));
        DEFAULTS = Collections.unmodifiableMap(d);
    }

    private static final List<String> RULE_KEYS = List.of("value", "clear", "for_seconds", "clear_for_seconds");

    private Thresholds() {}

    /**
     * @param config the {@code thresholds} object of the health config section (JSON values)
     * @return the rules in force, by metric: the defaults with the config's changes; a metric turned off is absent
     * @throws IllegalArgumentException naming the key ({@code thresholds.load_per_core.value}) and what is wrong
     */
    static Map<String, Rule> parse(Map<String, Object> config) {
        Map<String, Rule> rules = new LinkedHashMap<>(DEFAULTS);
        if (config == null) return rules;
        for (Map.Entry<String, Object> e : config.entrySet()) {
            String metric = e.getKey();
            Rule dflt = DEFAULTS.get(metric);
            String key = "thresholds." + metric;
            if (dflt == null) {
                throw new IllegalArgumentException("key '" + key + "' is unknown (known: " + String.join(", ", DEFAULTS.keySet()) + ")");
            }
            Object v = e.getValue();
            if (Boolean.FALSE.equals(v)) {
                rules.remove(metric);
                continue;
            }
            Double value = null;
            Double clear = null;
            long forSeconds = dflt.forSeconds();
            Long clearFor = null;
            if (v instanceof Number) {
                value = ((Number) v).doubleValue();
            } else if (v instanceof Map) {
                for (Map.Entry<?, ?> r : ((Map<?, ?>) v).entrySet()) {
                    String k = String.valueOf(r.getKey());
                    String where = key + "." + k;
                    switch (k) {
                        case "value": value = number(where, r.getValue()); break;
                        case "clear": clear = number(where, r.getValue()); break;
                        case "for_seconds": forSeconds = seconds(where, r.getValue()); break;
                        case "clear_for_seconds": clearFor = seconds(where, r.getValue()); break;
                        default:
                            throw new IllegalArgumentException("key '" + where + "' is unknown (known: " + String.join(", ", RULE_KEYS) + ")");
                    }
                }
            } else {
                throw new IllegalArgumentException("key '" + key + "' must be a number, an object with " + RULE_KEYS
                    + " or false, got " + shown(v));
            }
            if (value == null) value = dflt.value();
            checkRange(key + ".value", metric, value);
            if (clear == null) {
                // keep the default band's width on the good side
                double band = Math.abs(dflt.value() - dflt.clear());
                clear = dflt.direction() == Direction.ABOVE ? Math.max(0, value - band) : value + band;
                if (!metric.equals(LOAD_PER_CORE)) clear = Math.min(100, clear);
            } else {
                checkRange(key + ".clear", metric, clear);
            }
            if (dflt.direction() == Direction.ABOVE ? clear > value : clear < value) {
                throw new IllegalArgumentException("key '" + key + ".clear' must be " + (dflt.direction() == Direction.ABOVE ? "at most" : "at least")
                    + " its value " + fmt(value) + " (the alert clears on the good side of the line), got " + fmt(clear));
            }
            rules.put(metric, new Rule(metric, dflt.direction(), value, clear, forSeconds, clearFor == null ? forSeconds : clearFor));
        }
        return rules;
    }

    private static double number(String where, Object v) {
        if (v instanceof Number) return ((Number) v).doubleValue();
        throw new IllegalArgumentException("key '" + where + "' must be a number, got " + shown(v));
    }

    private static long seconds(String where, Object v) {
        if (v instanceof Number && ((Number) v).doubleValue() == Math.rint(((Number) v).doubleValue())) {
            long s = ((Number) v).longValue();
            if (s >= 0 && s <= 86400) return s;
        }
        throw new IllegalArgumentException("key '" + where + "' must be a whole number of seconds, 0 to 86400, got " + shown(v));
    }

    private static void checkRange(String where, String metric, double v) {
        if (metric.equals(LOAD_PER_CORE)) {
            if (!(v > 0 && v <= 1000)) throw new IllegalArgumentException("key '" + where + "' must be above 0 (load per core), got " + fmt(v));
        } else if (!(v >= 0 && v <= 100)) {
            throw new IllegalArgumentException("key '" + where + "' must be a percentage, 0 to 100, got " + fmt(v));
        }
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(HostFiles.round2(v));
    }

    private static String shown(Object v) {
        String s = v instanceof String ? "'" + v + "'" : String.valueOf(v);
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    /** One measured value a rule looks at: a metric, what it is about (a mount point; null for host-wide ones), the value. */
    record Reading(String metric, String subject, double value) {}

    /** @param snapshot a health snapshot ({@link HealthSampler#snapshot}) @return the values the rules look at */
    @SuppressWarnings("unchecked")
    static List<Reading> readings(Map<String, Object> snapshot) {
        List<Reading> out = new ArrayList<>();
        Object fss = snapshot.get("filesystems");
        if (fss instanceof List) {
            for (Object o : (List<Object>) fss) {
                Map<String, Object> fs = (Map<String, Object>) o;
                // a read-only filesystem cannot fill up any further: nothing to act on
                if (Boolean.TRUE.equals(fs.get("readOnly"))) continue;
                String mp = (String) fs.get("mountpoint");
                if (fs.get("usedPercent") instanceof Number) out.add(new Reading(FILESYSTEM_USED, mp, ((Number) fs.get("usedPercent")).doubleValue()));
                if (fs.get("inodesUsedPercent") instanceof Number) {
                    out.add(new Reading(FILESYSTEM_INODES, mp, ((Number) fs.get("inodesUsedPercent")).doubleValue()));
                }
            }
        }
        Object mem = snapshot.get("memory");
        if (mem instanceof Map && ((Map<String, Object>) mem).get("availablePercent") instanceof Number) {
            out.add(new Reading(MEMORY_AVAILABLE, null, ((Number) ((Map<String, Object>) mem).get("availablePercent")).doubleValue()));
        }
        Object swap = snapshot.get("swap");
        if (swap instanceof Map && ((Map<String, Object>) swap).get("totalBytes") instanceof Number
            && ((Number) ((Map<String, Object>) swap).get("totalBytes")).longValue() > 0) {
            out.add(new Reading(SWAP_USED, null, ((Number) ((Map<String, Object>) swap).get("usedPercent")).doubleValue()));
        }
        Object load = snapshot.get("load");
        if (load instanceof Map && ((Map<String, Object>) load).get("load1PerCore") instanceof Number) {
            out.add(new Reading(LOAD_PER_CORE, null, ((Number) ((Map<String, Object>) load).get("load1PerCore")).doubleValue()));
        }
        return out;
    }
}
