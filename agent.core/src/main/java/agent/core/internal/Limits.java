package agent.core.internal;

import java.time.Duration;

/** The dispatcher's limits, from the config file. */
final class Limits {
    final int workers;
    final int maxCommandSeconds;
    final int maxOutputBytes;
    final Duration retention;
    /** How long a stopped handler may take to return before its result is written without it. */
    final Duration stopGrace;

    /** Config sections by plugin prefix ({@code disk} → {@code {"fstab": ...}}), handed to handlers. */
    final java.util.function.Function<String, agent.core.internal.config.SettingsSection> settings;

    Limits(int workers, int maxCommandSeconds, int maxOutputBytes, Duration retention, Duration stopGrace) {
        this(workers, maxCommandSeconds, maxOutputBytes, retention, stopGrace,
            prefix -> new agent.core.internal.config.SettingsSection(prefix, java.util.Map.of(), null));
    }

    Limits(int workers, int maxCommandSeconds, int maxOutputBytes, Duration retention, Duration stopGrace,
            java.util.function.Function<String, agent.core.internal.config.SettingsSection> settings) {
        this.settings = settings;
        this.workers = workers;
        this.maxCommandSeconds = maxCommandSeconds;
        this.maxOutputBytes = maxOutputBytes;
        this.retention = retention;
        this.stopGrace = stopGrace;
    }
}
