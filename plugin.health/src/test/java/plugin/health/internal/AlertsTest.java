package plugin.health.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The alert rules with injected readings at times the test chooses: fire, hold, clear, and no flapping at the line.
 */
class AlertsTest {
    private final AlertTracker tracker = new AlertTracker();
    private final Map<String, Thresholds.Rule> rules = Thresholds.parse(Map.of());
    private Instant now = Instant.parse("2026-11-30T12:00:00Z");

    private List<Map<String, Object>> at(long seconds, Thresholds.Reading... readings) {
        return tracker.evaluate(List.of(readings), rules, now.plusSeconds(seconds));
    }

    private static Thresholds.Reading fs(String mp, double used) { return new Thresholds.Reading(Thresholds.FILESYSTEM_USED, mp, used); }

    private static Thresholds.Reading load(double perCore) { return new Thresholds.Reading(Thresholds.LOAD_PER_CORE, null, perCore); }

    private static Thresholds.Reading mem(double available) { return new Thresholds.Reading(Thresholds.MEMORY_AVAILABLE, null, available); }

    @Test
    void aFullFilesystemFiresAtOnceAndClearsOnlyBelowTheClearLine() {
        assertThat(at(0, fs("/var", 80))).isEmpty();
        List<Map<String, Object>> fired = at(60, fs("/var", 91.5));
        assertThat(fired).singleElement().satisfies(e -> {
            assertThat(e).containsEntry("state", "firing").containsEntry("alert", "filesystem_used_percent")
                .containsEntry("subject", "/var").containsEntry("value", 91.5).containsEntry("threshold", 90.0)
                .containsEntry("clear", 85.0).containsEntry("direction", "above").containsEntry("since", now.plusSeconds(60).toString());
            assertThat((String) e.get("message")).isEqualTo("filesystem /var is 91.5 % used (alert at ≥ 90 %)");
        });
        assertThat(at(120, fs("/var", 95))).as("still firing: nothing new").isEmpty();
        assertThat(at(180, fs("/var", 87))).as("below the line, above the clear line: still firing").isEmpty();
        assertThat(tracker.open()).hasSize(1);
        List<Map<String, Object>> cleared = at(240, fs("/var", 84.9));
        assertThat(cleared).singleElement().satisfies(e -> {
            assertThat(e).containsEntry("state", "cleared").containsEntry("value", 84.9).containsEntry("clearedAt", now.plusSeconds(240).toString());
            assertThat((String) e.get("message")).isEqualTo("cleared: filesystem /var is 84.9 % used (back below 85 %)");
        });
        assertThat(tracker.open()).isEmpty();
    }

    @Test
    void aValueHoveringAtTheLineFiresOnceAndNeverFlaps() {
        List<Map<String, Object>> all = new ArrayList<>();
        double[] hover = {89.9, 90.1, 89.8, 90.4, 88.0, 91.0, 86.0, 90.0, 89.99, 85.5};
        for (int i = 0; i < hover.length; i++) all.addAll(at(60L * i, fs("/srv", hover[i])));
        assertThat(all).extracting(e -> e.get("state")).containsExactly("firing");

        AlertTracker withoutBand = new AlertTracker();
        Map<String, Thresholds.Rule> noBand = Thresholds.parse(Map.of("filesystem_used_percent", Map.of("value", 90, "clear", 90)));
        List<Map<String, Object>> flapping = new ArrayList<>();
        for (int i = 0; i < hover.length; i++) {
            flapping.addAll(withoutBand.evaluate(List.of(fs("/srv", hover[i])), noBand, now.plusSeconds(60L * i)));
        }
        assertThat(flapping).as("what the band prevents: without it the same values flap").hasSizeGreaterThan(4);
    }

    @Test
    void loadFiresOnlyAfterFiveMinutesAboveTheLine() {
        assertThat(at(0, load(2.5))).isEmpty();
        assertThat(at(60, load(3.0))).isEmpty();
        assertThat(at(299, load(2.1))).as("4 min 59 s").isEmpty();
        assertThat(at(300, load(2.2))).singleElement().satisfies(e -> {
            assertThat(e).containsEntry("state", "firing").containsEntry("forSeconds", 300L).containsEntry("since", now.toString());
            assertThat((String) e.get("message")).isEqualTo("load is 2.2 per core (alert at ≥ 2 per core for 300 s)");
        });
    }

    @Test
    void aDipBelowTheLineRestartsThePendingTime() {
        assertThat(at(0, load(2.5))).isEmpty();
        assertThat(at(120, load(1.9))).isEmpty();
        assertThat(at(180, load(2.5))).isEmpty();
        assertThat(at(420, load(2.5))).as("five minutes since 180 s, not since 0").isEmpty();
        assertThat(at(480, load(2.5))).extracting(e -> e.get("state")).containsExactly("firing");
    }

    @Test
    void clearingWaitsForTheClearDurationAndABounceBackKeepsItFiring() {
        for (int t = 0; t <= 300; t += 60) at(t, load(3));
        assertThat(tracker.open()).hasSize(1);
        assertThat(at(360, load(1.0))).as("recovering, not yet for 300 s").isEmpty();
        assertThat(at(420, load(1.8))).as("back above the clear line: still firing").isEmpty();
        assertThat(at(480, load(1.0))).isEmpty();
        assertThat(at(779, load(1.2))).isEmpty();
        assertThat(at(780, load(1.4))).extracting(e -> e.get("state")).containsExactly("cleared");
    }

    @Test
    void memoryFiresWhenAvailableDropsBelowTheLine() {
        assertThat(at(0, mem(6))).isEmpty();
        assertThat(at(60, mem(4.5))).isEmpty();
        assertThat(at(120, mem(5))).singleElement().satisfies(e -> assertThat(e).containsEntry("direction", "below")
            .containsEntry("message", "memory available is 5 % (alert at ≤ 5 % for 60 s)"));
        assertThat(at(180, mem(9))).as("above the line, not above the clear line").isEmpty();
        assertThat(at(240, mem(10.5))).isEmpty();
        assertThat(at(300, mem(11))).extracting(e -> e.get("state")).containsExactly("cleared");
    }

    @Test
    void aFilesystemUnmountedWhileFiringClearsWithAReasonAndEachMountIsItsOwnAlert() {
        assertThat(at(0, fs("/a", 95), fs("/b", 96), fs("/c", 10))).extracting(e -> e.get("subject")).containsExactly("/a", "/b");
        List<Map<String, Object>> gone = at(60, fs("/b", 96), fs("/c", 10));
        assertThat(gone).singleElement().satisfies(e -> assertThat(e).containsEntry("state", "cleared").containsEntry("subject", "/a")
            .containsEntry("value", null).containsEntry("reason", "/a is no longer measured (unmounted?)"));
        assertThat(tracker.open()).extracting(AlertTracker.Open::subject).containsExactly("/b");
    }

    @Test
    void readingsComeFromASnapshotAndSkipReadOnlyFilesystemsAndAbsentSwap() {
        Map<String, Object> snap = Map.of(
            "filesystems", List.of(
                Map.of("mountpoint", "/", "readOnly", false, "usedPercent", 50.0, "inodesUsedPercent", 10.0),
                Map.of("mountpoint", "/iso", "readOnly", true, "usedPercent", 100.0),
                Map.of("mountpoint", "/data", "readOnly", false, "usedPercent", 70.0)),
            "memory", Map.of("availablePercent", 40.0),
            "swap", Map.of("totalBytes", 0L, "usedPercent", 0.0),
            "load", Map.of("load1PerCore", 0.5));
        assertThat(Thresholds.readings(snap)).containsExactly(
            new Thresholds.Reading("filesystem_used_percent", "/", 50.0),
            new Thresholds.Reading("filesystem_inodes_used_percent", "/", 10.0),
            new Thresholds.Reading("filesystem_used_percent", "/data", 70.0),
            new Thresholds.Reading("memory_available_percent", null, 40.0),
            new Thresholds.Reading("load_per_core", null, 0.5));
    }

    @Test
    void aRestoredAlertDoesNotFireAgainAndClearsWhenItsValueRecovered() {
        tracker.restore(List.of(new AlertTracker.Open("filesystem_used_percent", "/var", now.minus(Duration.ofHours(1)), now.minusSeconds(3000), 93)));
        assertThat(at(0, fs("/var", 94))).isEmpty();
        assertThat(at(60, fs("/var", 50))).singleElement().satisfies(e -> assertThat(e).containsEntry("state", "cleared")
            .containsEntry("since", now.minus(Duration.ofHours(1)).toString()));
    }

    @Test
    void aRuleTurnedOffClearsItsOpenAlerts() {
        tracker.restore(List.of(new AlertTracker.Open("swap_used_percent", null, now, now, 70)));
        Map<String, Thresholds.Rule> off = Thresholds.parse(Map.of("swap_used_percent", false));
        assertThat(tracker.evaluate(List.of(new Thresholds.Reading("swap_used_percent", null, 80)), off, now))
            .singleElement().satisfies(e -> assertThat(e).containsEntry("state", "cleared")
                .containsEntry("reason", "the threshold for swap_used_percent was turned off"));
    }
}
