package agent.core.internal.dispatch;

import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

import agent.core.internal.config.AgentConfig;
import agent.core.internal.config.SettingsSection;

/** The dispatcher's limits and what it hands each run, from the config file. */
public final class Limits {
    final int workers;
    final int maxCommandSeconds;
    final int maxOutputBytes;
    final Duration retention;
    /** How far in the future an {@code issuedAt} may lie (docs/protocol.md §6). */
    final Duration maxClockSkew;
    /** How long a stopped handler may take to return before its result is written without it. */
    final Duration stopGrace;
    /** Config sections by plugin prefix ({@code disk} → {@code {"fstab": ...}}), handed to handlers. */
    final Function<String, SettingsSection> settings;
    final Containment containment;

    /** For tests: no settings, processes contained as on this host. */
    public Limits(int workers, int maxCommandSeconds, int maxOutputBytes, Duration retention, Duration stopGrace) {
        this(workers, maxCommandSeconds, maxOutputBytes, retention, Duration.ofMinutes(5), stopGrace,
            prefix -> new SettingsSection(AgentConfig.sectionKey(prefix), Map.of(), null), Containment.host());
    }

    Limits(int workers, int maxCommandSeconds, int maxOutputBytes, Duration retention, Duration maxClockSkew,
            Duration stopGrace, Function<String, SettingsSection> settings, Containment containment) {
        this.workers = workers;
        this.maxCommandSeconds = maxCommandSeconds;
        this.maxOutputBytes = maxOutputBytes;
        this.retention = retention;
        this.maxClockSkew = maxClockSkew;
        this.stopGrace = stopGrace;
        this.settings = settings;
        this.containment = containment;
    }

    /** @param c the agent's config @return its limits */
    static Limits of(AgentConfig c) {
        return new Limits(c.maxConcurrentCommands, c.maxCommandSeconds, c.maxOutputBytes, Duration.ofDays(c.retentionDays),
            Duration.ofSeconds(c.maxClockSkewSeconds), Duration.ofSeconds(10), c::section, Containment.host());
    }
}
