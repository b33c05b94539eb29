package plugin.health.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import agent.api.AgentPaths;
import agent.api.Events;
import agent.api.PluginSettings;

/**
 * Sends a {@code health} event with a snapshot every {@code health.interval_seconds} and an {@code alert} event when a
 * threshold is crossed or cleared ({@link AlertTracker}). One daemon thread, made only when the interval is not 0, idle
 * between ticks; a tick reads {@code /proc} and statfs for a few milliseconds of CPU. CPU usage in a periodic snapshot
 * is the host's over the whole interval since the previous tick, not a sample of its own.
 */
@Component
public final class HealthMonitor {
    private static final System.Logger LOG = System.getLogger("plugin.health");
    /** Kept per list when a snapshot is too big for one event (a host with hundreds of virtual interfaces). */
    static final int KEEP_WHEN_TOO_BIG = 24;

    @Reference
    Events events;
    @Reference
    PluginSettings settings;
    @Reference
    AgentPaths paths;

    /** the time alerts are judged by; tests set a clock they move */
    Clock clock = Clock.systemUTC();
    /** takes a snapshot at the given time; tests set one that returns the readings they want */
    Function<Instant, Map<String, Object>> source;
    /** the filesystem root the default source reads */
    Path root = Path.of("/");

    private final AlertTracker tracker = new AlertTracker();
    private Map<String, Thresholds.Rule> rules;
    private AlertStore store;
    private ScheduledExecutorService scheduler;
    private HealthSampler sampler;
    private HealthSampler.CpuTimes lastCpu;

    @Activate
    private void activate() {
        HealthSettings s = settings.get("health", HealthSettings.class);
        start(s);
        LOG.log(System.Logger.Level.INFO, s.intervalSeconds() == 0 ? "health events off (health.interval_seconds is 0)"
            : "health events every " + s.intervalSeconds() + " s");
    }

    @Deactivate
    private void deactivate() { stop(); }

    /** Loads the rules and the alerts open before a restart, and schedules the ticks unless the interval is 0. */
    synchronized void start(HealthSettings s) {
        rules = s.rules();
        store = new AlertStore(paths.pluginDir("health"));
        tracker.restore(store.load());
        if (source == null) {
            sampler = new HealthSampler(root);
            lastCpu = sampler.cpuTimes();
            source = this::sample;
        }
        if (s.intervalSeconds() > 0) {
            ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "outpost-health");
                t.setDaemon(true);
                return t;
            });
            ex.setRemoveOnCancelPolicy(true);
            ex.scheduleAtFixedRate(this::tick, s.intervalSeconds(), s.intervalSeconds(), TimeUnit.SECONDS);
            scheduler = ex;
        }
    }

    /** Stops the ticks and waits (bounded) for one in progress to end. */
    void stop() {
        ScheduledExecutorService ex;
        synchronized (this) {
            ex = scheduler;
            scheduler = null;
        }
        if (ex == null) return;
        ex.shutdownNow();
        try {
            ex.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** @return whether ticks are scheduled */
    synchronized boolean running() { return scheduler != null; }

    private Map<String, Object> sample(Instant now) {
        HealthSampler.CpuTimes cpu = sampler.cpuTimes();
        Map<String, Object> snap = sampler.snapshot(lastCpu, cpu, now);
        lastCpu = cpu;
        return snap;
    }

    /**
     * One round: a snapshot, its health event, the alerts it fires or clears. Never throws: a tick that throws would
     * end the schedule for good.
     */
    synchronized void tick() {
        try {
            Instant now = clock.instant();
            Map<String, Object> snap = source.apply(now);
            emitHealth(snap);
            List<Map<String, Object>> alerts = tracker.evaluate(Thresholds.readings(snap), rules, now);
            for (Map<String, Object> a : alerts) {
                try {
                    events.emit("alert", a);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot record an alert event (" + a.get("message") + "): " + e);
                }
            }
            if (!alerts.isEmpty()) {
                try {
                    store.save(tracker.open());
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot record the open alerts: " + e.getMessage());
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "health tick failed: " + e, e);
        }
    }

    private void emitHealth(Map<String, Object> snap) {
        try {
            events.emit("health", snap);
        } catch (IllegalArgumentException tooBig) {
            try {
                events.emit("health", trimmed(snap));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot record a health event: " + e.getMessage());
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot record a health event: " + e.getMessage());
        }
    }

    /**
     * @return the snapshot with its long lists cut to the busiest network interfaces and disks and the fullest
     *         filesystems, and a count of what was left out, so that it fits in one event
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> trimmed(Map<String, Object> snap) {
        Map<String, Object> t = new LinkedHashMap<>(snap);
        trim(t, "network", m -> -(num(m, "rxBytes") + num(m, "txBytes")));
        trim(t, "disks", m -> -(num(m, "readBytes") + num(m, "writeBytes")));
        trim(t, "filesystems", m -> -num(m, "usedPercent"));
        return t;
    }

    @SuppressWarnings("unchecked")
    private static void trim(Map<String, Object> snap, String key, java.util.function.ToDoubleFunction<Map<String, Object>> order) {
        Object o = snap.get(key);
        if (!(o instanceof List) || ((List<?>) o).size() <= KEEP_WHEN_TOO_BIG) return;
        List<Map<String, Object>> list = new ArrayList<>((List<Map<String, Object>>) o);
        list.sort(Comparator.comparingDouble(order));
        snap.put(key, new ArrayList<Object>(list.subList(0, KEEP_WHEN_TOO_BIG)));
        snap.put(key + "Omitted", list.size() - KEEP_WHEN_TOO_BIG);
    }

    private static double num(Map<String, Object> m, String k) {
        Object v = m.get(k);
        return v instanceof Number ? ((Number) v).doubleValue() : 0;
    }
}
