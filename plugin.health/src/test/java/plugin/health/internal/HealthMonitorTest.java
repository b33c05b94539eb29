package plugin.health.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.AgentPaths;
import agent.api.Event;
import agent.api.InvalidSettingsException;
import agent.api.PluginSettings;
import agent.core.internal.config.SettingsSection;
import agent.testkit.RecordingEvents;

/**
 * The periodic side: health events every interval, alert events from the readings, open alerts kept across a
 * restart, one thread at most, and the config errors an operator sees. Time is a clock the test moves; readings are
 * snapshots the test makes.
 */
class HealthMonitorTest {
    @TempDir
    Path data;

    private final List<HealthMonitor> started = new ArrayList<>();
    private final RecordingEvents events = new RecordingEvents();
    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-30T08:00:00Z"));
    private final AtomicReference<Map<String, Object>> reading = new AtomicReference<>();

    /** A clock that stands still until the test moves it. */
    static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant start) { this.now = start; }

        void advance(long seconds) { now = now.plusSeconds(seconds); }

        @Override
        public Instant instant() { return now; }

        @Override
        public ZoneId getZone() { return ZoneOffset.UTC; }

        @Override
        public Clock withZone(ZoneId zone) { return this; }
    }

    private AgentPaths paths() {
        return new AgentPaths() {
            @Override
            public Path dataDir() { return data; }

            @Override
            public Path pluginDir(String name) {
                try {
                    return Files.createDirectories(data.resolve("plugins-data").resolve(name));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }

            @Override
            public Path scriptsDir() { return data.resolve("scripts"); }

            @Override
            public Path runDir() { return data.resolve("run"); }
        };
    }

    private HealthMonitor monitor(int interval, Map<String, Object> thresholds, boolean injected) {
        HealthMonitor m = new HealthMonitor();
        m.events = events;
        m.paths = paths();
        m.clock = clock;
        if (injected) m.source = now -> reading.get();
        m.start(new HealthSettings(interval, thresholds));
        started.add(m);
        return m;
    }

    @AfterEach
    void stopAll() { started.forEach(HealthMonitor::stop); }

    private static Map<String, Object> snapshot(double rootUsed, double memAvailable) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("filesystems", List.of(Map.of("mountpoint", "/", "readOnly", false, "usedPercent", rootUsed)));
        s.put("memory", Map.of("availablePercent", memAvailable));
        s.put("load", Map.of("load1PerCore", 0.1));
        return s;
    }

    @Test
    void eachTickSendsAHealthEventAndTheAlertsItsReadingsFireAndClear() {
        HealthMonitor m = monitor(0, Map.of(), true);
        reading.set(snapshot(50, 40));
        m.tick();
        assertThat(events.ofKind("health")).singleElement().satisfies(e -> assertThat(e.data()).isEqualTo(snapshot(50, 40)));
        assertThat(events.ofKind("alert")).isEmpty();

        clock.advance(60);
        reading.set(snapshot(92, 40));
        m.tick();
        assertThat(events.ofKind("alert")).singleElement().satisfies(e -> {
            assertThat(data(e)).containsEntry("state", "firing").containsEntry("subject", "/").containsEntry("value", 92.0);
            assertThat(data(e)).containsEntry("since", clock.instant().toString());
        });

        clock.advance(60);
        reading.set(snapshot(80, 40));
        m.tick();
        assertThat(events.ofKind("alert")).extracting(e -> data(e).get("state")).containsExactly("firing", "cleared");
        assertThat(events.ofKind("health")).hasSize(3);
        assertThat(events.all()).extracting(Event::kind).containsExactly("health", "health", "alert", "health", "alert");
    }

    @Test
    void thresholdsFromTheConfigAreTheOnesApplied() {
        HealthMonitor m = monitor(0, Map.of("filesystem_used_percent", Map.of("value", 70, "clear", 60), "memory_available_percent", false), true);
        reading.set(snapshot(75, 1));
        m.tick();
        assertThat(events.ofKind("alert")).singleElement().satisfies(e -> assertThat(data(e)).containsEntry("alert", "filesystem_used_percent")
            .containsEntry("threshold", 70.0));
    }

    @Test
    void anAlertOpenWhenTheAgentStoppedIsNotFiredAgainAndStillClears() throws Exception {
        HealthMonitor first = monitor(0, Map.of(), true);
        reading.set(snapshot(97, 40));
        first.tick();
        assertThat(events.ofKind("alert")).hasSize(1);
        first.stop();
        assertThat(Files.readString(data.resolve("plugins-data/health/open-alerts.tsv"))).startsWith("filesystem_used_percent\t=/\t");

        events.clear();
        HealthMonitor second = monitor(0, Map.of(), true);
        clock.advance(3600);
        second.tick();
        assertThat(events.ofKind("alert")).as("still full after the restart: no second 'firing'").isEmpty();
        reading.set(snapshot(40, 40));
        second.tick();
        assertThat(events.ofKind("alert")).singleElement().satisfies(e -> assertThat(data(e)).containsEntry("state", "cleared")
            .containsEntry("since", clock.instant().minusSeconds(3600).toString()));
        assertThat(Files.readString(data.resolve("plugins-data/health/open-alerts.tsv"))).isEmpty();
    }

    @Test
    void aSnapshotTooBigForOneEventIsSentWithItsListsCut() {
        HealthMonitor m = monitor(0, Map.of(), true);
        Map<String, Object> s = snapshot(10, 50);
        List<Object> ifs = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            ifs.add(Map.of("interface", "veth" + String.format("%05d", i), "rxBytes", (long) i * 1000, "txBytes", 5L,
                "rxPackets", 1L, "txPackets", 1L, "rxErrors", 0L, "txErrors", 0L, "rxDropped", 0L, "txDropped", 0L));
        }
        s.put("network", ifs);
        reading.set(s);
        m.tick();
        Map<String, Object> sent = data(events.ofKind("health").get(0));
        assertThat(sent).containsEntry("networkOmitted", 600 - HealthMonitor.KEEP_WHEN_TOO_BIG);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> kept = (List<Map<String, Object>>) sent.get("network");
        assertThat(kept).hasSize(HealthMonitor.KEEP_WHEN_TOO_BIG).first().satisfies(i -> assertThat(i).containsEntry("interface", "veth00599"));
    }

    @Test
    void eventsComeEveryIntervalFromOneThreadThatStopsWithTheComponent() throws Exception {
        HealthMonitor m = monitor(1, Map.of(), false); // the real sampler, a one-second interval
        assertThat(healthThreads()).hasSize(1);
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (events.ofKind("health").size() < 2 && System.nanoTime() < deadline) Thread.sleep(20);
        List<Event> health = events.ofKind("health");
        assertThat(health).as("two health events within 15 s").hasSizeGreaterThanOrEqualTo(2);
        Map<String, Object> cpu = data(health.get(1)).get("cpu") instanceof Map ? cast(data(health.get(1)).get("cpu")) : Map.of();
        assertThat(((Number) cpu.get("intervalMs")).longValue()).as("CPU over the interval since the previous tick").isBetween(500L, 5000L);
        m.stop();
        long gone = System.nanoTime() + 5_000_000_000L;
        while (!healthThreads().isEmpty() && System.nanoTime() < gone) Thread.sleep(10);
        assertThat(healthThreads()).isEmpty();
        assertThat(m.running()).isFalse();
    }

    @Test
    void intervalZeroMakesNoThreadAndSendsNothing() throws Exception {
        HealthMonitor m = monitor(0, Map.of(), false);
        assertThat(m.running()).isFalse();
        assertThat(healthThreads()).isEmpty();
        assertThat(events.all()).isEmpty();
    }

    @Test
    void theComponentReadsItsSettingsFromTheAgent() {
        HealthMonitor m = new HealthMonitor();
        m.events = events;
        m.paths = paths();
        m.settings = new PluginSettings() {
            @Override
            public <T> T get(String section, Class<T> type) {
                assertThat(section).isEqualTo("health");
                return new SettingsSection("health", Map.of("interval_seconds", 0L), null).as(type);
            }
        };
        m.source = now -> snapshot(1, 99);
        m.start(m.settings.get("health", HealthSettings.class));
        started.add(m);
        assertThat(m.running()).isFalse();
    }

    /** What an operator sees for a bad health section: the agent's own mapping of it onto HealthSettings. */
    @Test
    void badSettingsAreRefusedNamingTheKey() {
        Object[][] cases = {
            {Map.of("interval_seconds", -1L), "key 'interval_seconds' must be 0 (no periodic events) to 86400, got -1"},
            {Map.of("interval_seconds", "often"), "config key 'health.interval_seconds' in /etc/outpost/config.json must be an integer, got 'often'"},
            {Map.of("thresholds", Map.of("disk_full", 90L)), "key 'thresholds.disk_full' is unknown (known: filesystem_used_percent, "
                + "filesystem_inodes_used_percent, memory_available_percent, swap_used_percent, load_per_core)"},
            {Map.of("thresholds", Map.of("swap_used_percent", 150L)), "key 'thresholds.swap_used_percent.value' must be a percentage, 0 to 100, got 150"},
            {Map.of("thresholds", Map.of("filesystem_used_percent", Map.of("value", 90L, "clear", 95L))),
                "key 'thresholds.filesystem_used_percent.clear' must be at most its value 90 (the alert clears on the good side of the line), got 95"},
            {Map.of("thresholds", Map.of("memory_available_percent", Map.of("value", 10L, "clear", 5L))),
                "key 'thresholds.memory_available_percent.clear' must be at least its value 10"},
            {Map.of("thresholds", Map.of("load_per_core", Map.of("for_seconds", 1.5))), "key 'thresholds.load_per_core.for_seconds' must be a whole number of seconds, 0 to 86400, got 1.5"},
            {Map.of("thresholds", Map.of("load_per_core", Map.of("after", 60L))), "key 'thresholds.load_per_core.after' is unknown (known: value, clear, for_seconds, clear_for_seconds)"},
            {Map.of("thresholds", Map.of("load_per_core", "high")), "key 'thresholds.load_per_core' must be a number, an object with"},
            {Map.of("period", 5L), "config key 'health.period' in /etc/outpost/config.json is unknown (known: interval_seconds, thresholds)"},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Map<String, Object> section = (Map<String, Object>) c[0];
            assertThatThrownBy(() -> new SettingsSection("health", section, Path.of("/etc/outpost/config.json")).as(HealthSettings.class))
                .as("%s", section).isInstanceOf(InvalidSettingsException.class).hasMessageContaining((String) c[1]);
        }
        HealthSettings ok = new SettingsSection("health", Map.of("thresholds", Map.of("filesystem_used_percent", 95L)), null).as(HealthSettings.class);
        assertThat(ok.intervalSeconds()).isEqualTo(60);
        assertThat(ok.rules().get("filesystem_used_percent")).isEqualTo(new Thresholds.Rule("filesystem_used_percent",
            Thresholds.Direction.ABOVE, 95, 90, 0, 0));
        assertThat(ok.rules().get("load_per_core")).isEqualTo(Thresholds.DEFAULTS.get("load_per_core"));
    }

    private static List<Thread> healthThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("outpost-health") && t.isAlive()).toList();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> data(Event e) { return (Map<String, Object>) e.data(); }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object o) { return (Map<String, Object>) o; }
}
