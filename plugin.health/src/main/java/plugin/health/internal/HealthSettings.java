package plugin.health.internal;

import java.util.Map;

/**
 * The agent config's top-level {@code health} section: {@code interval_seconds} (how often a {@code health} event is
 * sent and the thresholds are checked; 0 turns both off) and {@code thresholds} ({@link Thresholds}). Checked by the
 * agent when it starts (the handlers declare it with {@code @SettingsType}).
 *
 * @param intervalSeconds 0 (off) to 86400, default 60
 * @param thresholds      the alert rules' changes from the defaults, by metric
 */
record HealthSettings(int intervalSeconds, Map<String, Object> thresholds) {
    static HealthSettings defaults() { return new HealthSettings(60, Map.of()); }

    HealthSettings {
        if (intervalSeconds < 0 || intervalSeconds > 86400) {
            throw new IllegalArgumentException("key 'interval_seconds' must be 0 (no periodic events) to 86400, got " + intervalSeconds);
        }
        thresholds = thresholds == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(thresholds));
        Thresholds.parse(thresholds); // a bad rule is refused when the config is read, not at the first tick
    }

    /** @return the alert rules in force, by metric */
    Map<String, Thresholds.Rule> rules() { return Thresholds.parse(thresholds); }
}
