package agent.core.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import agent.api.InvalidSettingsException;

class SettingsSectionTest {
    enum Level { LOW, HIGH }

    record Backup(Path destination, int keep, boolean compress, Level level, List<String> exclude) {
        static Backup defaults() { return new Backup(Path.of("/var/backups/outpost"), 7, true, Level.LOW, List.of()); }

        Backup {
            if (keep < 1) throw new IllegalArgumentException("keep must be at least 1, got " + keep);
        }
    }

    @interface Health {
        int intervalSeconds() default 60;
        double filesystemPercent() default 90.0;
        String[] ignore() default {};
    }

    private static SettingsSection section(Map<String, Object> values) {
        return new SettingsSection("plugins.settings.backup", values, Path.of("/etc/outpost/config.json"));
    }

    @Test
    void aRecordTakesTheFileValuesByTheirSnakeCaseNamesAndDefaultsForTheRest() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("keep", 3L);
        v.put("level", "high");
        v.put("exclude", List.of("*.tmp"));
        Backup b = section(v).as(Backup.class);
        assertThat(b).isEqualTo(new Backup(Path.of("/var/backups/outpost"), 3, true, Level.HIGH, List.of("*.tmp")));
    }

    @Test
    void theSameInstanceComesBackForTheSameType() {
        SettingsSection s = section(Map.of("keep", 2L));
        assertThat(s.as(Backup.class)).isSameAs(s.as(Backup.class));
    }

    @Test
    void anUnknownKeyIsAnErrorNamingTheKeyTheFileAndTheKnownKeys() {
        assertThatThrownBy(() -> section(Map.of("kep", 2L)).as(Backup.class))
            .isInstanceOf(InvalidSettingsException.class)
            .hasMessageContaining("config key 'plugins.settings.backup.kep' in /etc/outpost/config.json is unknown")
            .hasMessageContaining("known: compress, destination, exclude, keep, level")
            .satisfies(e -> assertThat(((InvalidSettingsException) e).key()).isEqualTo("plugins.settings.backup.kep"));
    }

    @Test
    void aWrongTypeIsAnErrorNamingTheKeyAndWhatCame() {
        assertThatThrownBy(() -> section(Map.of("keep", "three")).as(Backup.class))
            .isInstanceOf(InvalidSettingsException.class)
            .hasMessage("config key 'plugins.settings.backup.keep' in /etc/outpost/config.json must be an integer, got 'three'");
        assertThatThrownBy(() -> section(Map.of("level", "medium")).as(Backup.class))
            .hasMessageContaining("must be one of [low, high], got 'medium'");
        assertThatThrownBy(() -> section(Map.of("exclude", List.of(1L))).as(Backup.class))
            .hasMessageContaining("'plugins.settings.backup.exclude'").hasMessageContaining("must be a list of strings");
    }

    @Test
    void aValueTheRecordRefusesIsReportedWithTheSectionAndFile() {
        assertThatThrownBy(() -> section(Map.of("keep", 0L)).as(Backup.class))
            .isInstanceOf(InvalidSettingsException.class)
            .hasMessage("config section 'plugins.settings.backup' in /etc/outpost/config.json: keep must be at least 1, got 0");
    }

    @Test
    void anAnnotationTypeTakesItsDefaultsAndTheFileOverridesThem() {
        Health h = new SettingsSection("health", Map.of("interval_seconds", 15L, "ignore", List.of("/boot")), null).as(Health.class);
        assertThat(h.intervalSeconds()).isEqualTo(15);
        assertThat(h.filesystemPercent()).isEqualTo(90.0);
        assertThat(h.ignore()).containsExactly("/boot");
        assertThatThrownBy(() -> new SettingsSection("health", Map.of("interval_seconds", 1.5), null).as(Health.class))
            .hasMessageContaining("config key 'health.interval_seconds'").hasMessageContaining("must be an integer, got 1.5");
    }

    @Test
    void snakeCaseOfJavaNames() {
        assertThat(SettingsSection.snake("intervalSeconds")).isEqualTo("interval_seconds");
        assertThat(SettingsSection.snake("keep")).isEqualTo("keep");
    }
}
