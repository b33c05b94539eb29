package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;
import static runtime.test.OfflineAgent.cmd;
import static runtime.test.OfflineAgent.error;
import static runtime.test.OfflineAgent.status;
import static runtime.test.OfflineAgent.strings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * Issue 23, the plugin items (5, 6, 7, 13, 16, 18), against the exported agent with plugins built at test time
 * (FixturePlugins). Offline runs unless the item is about what the server sees.
 */
class PluginHardeningIT {
    static final Duration T = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private Path jars() {
        return dir.resolve("jars");
    }

    /** Item 13: a task file runs in order (an install, then the installed plugin's action); "parallel" allows overlap. */
    @Test
    void aTaskFileRunsInOrderUnlessItSaysParallel() throws Exception {
        OfflineAgent agent = new OfflineAgent(dir, "agent");
        Path good = FixturePlugins.good("1.0.0", "installed first").build(jars());
        Map<String, JsonObject> r = agent.run(cmd("i1", "plugin.install", FixturePlugins.jarParams(good)),
            cmd("h1", "good.hello", "{}"), cmd("p1", "agent.ping", "{\"sleepMs\": 1000}"), cmd("p2", "agent.ping", "{\"sleepMs\": 1000}"));
        assertThat(r.values()).allSatisfy(x -> assertThat(status(x)).as(x.toString()).isEqualTo("succeeded"));
        assertThat(r.get("h1").getAsJsonObject("data").get("greeting").getAsString()).isEqualTo("installed first");
        assertThat(startedAt(r.get("h1"))).isAfterOrEqualTo(finishedAt(r.get("i1")));
        assertThat(startedAt(r.get("p2"))).as("one after another").isAfterOrEqualTo(finishedAt(r.get("p1")));

        Map<String, JsonObject> p = agent.runFile("{\"parallel\": true, \"commands\": [" + cmd("q1", "agent.ping",
            "{\"sleepMs\": 3000}") + "," + cmd("q2", "agent.ping", "{\"sleepMs\": 3000}") + "]}", 2);
        assertThat(p.values()).allSatisfy(x -> assertThat(status(x)).as(x.toString()).isEqualTo("succeeded"));
        assertThat(startedAt(p.get("q2"))).as("\"parallel\": true lets them overlap: %s", p)
            .isBefore(finishedAt(p.get("q1")));
        assertThat(startedAt(p.get("q1"))).isBefore(finishedAt(p.get("q2")));
    }

    private static Instant startedAt(JsonObject r) {
        return Instant.parse(r.get("startedAt").getAsString());
    }

    private static Instant finishedAt(JsonObject r) {
        return Instant.parse(r.get("finishedAt").getAsString());
    }

    /** Item 16: a plugin rebuilt under the same version is new content: upgrade installs it and says so. */
    @Test
    void aPluginRebuiltUnderTheSameVersionIsInstalledByUpgradeWithANote() throws Exception {
        OfflineAgent agent = new OfflineAgent(dir, "agent");
        Path first = FixturePlugins.good("1.0.0", "first build").build(jars().resolve("first"));
        Path second = FixturePlugins.good("1.0.0", "second build").build(jars().resolve("second"));
        assertThat(FixturePlugins.sha256(first)).isNotEqualTo(FixturePlugins.sha256(second));

        assertThat(status(agent.one("i1", "plugin.install", FixturePlugins.jarParams(first)))).isEqualTo("succeeded");
        JsonObject u1 = agent.one("u1", "plugin.upgrade", FixturePlugins.jarParams(second));
        assertThat(status(u1)).as(u1.toString()).isEqualTo("succeeded");
        JsonObject data = u1.getAsJsonObject("data");
        assertThat(data.get("changed").getAsBoolean()).as(u1.toString()).isTrue();
        assertThat(data.get("note").getAsString()).contains("same version 1.0.0").contains("new content")
            .contains(FixturePlugins.sha256(second)).doesNotContain("already at");
        JsonObject h1 = agent.one("h1", "good.hello", "{}");
        assertThat(h1.getAsJsonObject("data").get("greeting").getAsString()).isEqualTo("second build");

        // the same content again is no change, and says so
        JsonObject u2 = agent.one("u2", "plugin.upgrade", FixturePlugins.jarParams(second));
        assertThat(u2.getAsJsonObject("data").get("changed").getAsBoolean()).as(u2.toString()).isFalse();
        assertThat(u2.getAsJsonObject("data").get("note").getAsString()).contains("already at 1.0.0 with this content");
    }
}
