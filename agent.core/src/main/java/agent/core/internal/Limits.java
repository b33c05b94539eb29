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
    final java.util.Map<String, java.util.Map<String, Object>> settings;

    Limits(int workers, int maxCommandSeconds, int maxOutputBytes, Duration retention, Duration stopGrace) {
        this(workers, maxCommandSeconds, maxOutputBytes, retention, stopGrace, java.util.Map.of());
    }

    Limits(int workers, int maxCommandSeconds, int maxOutputBytes, Duration retention, Duration stopGrace,
            java.util.Map<String, java.util.Map<String, Object>> settings) {
        this.settings = settings;
        this.workers = workers;
        this.maxCommandSeconds = maxCommandSeconds;
        this.maxOutputBytes = maxOutputBytes;
        this.retention = retention;
        this.stopGrace = stopGrace;
    }
}
