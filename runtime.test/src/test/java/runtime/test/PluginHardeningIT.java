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

    /** Item 5: a component that blocks in activate() is quarantined within the watchdog; the agent stays usable. */
    @Test
    void aPluginThatHangsInActivateIsQuarantinedSeenAsSoAndRemovableAndTheAgentStillGetsReady() throws Exception {
        Path hang = FixturePlugins.blockingActivate().build(jars());
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket", ""));
            String[] run = {"run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString()};
            String agentId;
            try (AgentProcess agent = AgentProcess.start(run)) {
                agentId = server.awaitAgent(T, true);
                JsonObject installed = server.pluginPush(T, agentId, "install", hang.toString()).get(0);
                assertThat(status(installed)).as(installed.toString()).isEqualTo("failed");
                assertThat(error(installed)).contains("fixture.hang").contains("quarantined").contains("plugin.remove");
                // the watchdog: 30 s for the start, 10 s for the stop that also hangs; never the unbounded wait of before
                Duration took = Duration.between(Instant.parse(installed.get("startedAt").getAsString()),
                    Instant.parse(installed.get("finishedAt").getAsString()));
                assertThat(took).as("the install answered within the watchdog").isLessThan(Duration.ofSeconds(45));

                assertThat(server.send(T, agentId, "agent.ping").get(0).get("status").getAsString())
                    .as("the agent still runs commands").isEqualTo("succeeded");
                assertQuarantined(listed(server, agentId, "fixture.hang"));
                agent.awaitStderr("plugin fixture.hang is quarantined", T);
                awaitQuarantinedInHello(server, agentId);

                agent.process.destroy(); // SIGTERM, as systemd stops it: a plugin stuck in activate must not hold it
                assertThat(agent.process.waitFor(30, TimeUnit.SECONDS)).as("the agent stopped on SIGTERM; stderr:%n%s",
                    agent.stderr()).isTrue();
            }
            try (AgentProcess again = AgentProcess.start(run)) {
                again.awaitStderr("ready: agent", T);
                assertQuarantined(listed(server, agentId, "fixture.hang"));
                awaitQuarantinedInHello(server, agentId);

                JsonObject removed = server.pluginPush(T, agentId, "remove", "fixture.hang").get(0);
                assertThat(status(removed)).as(removed.toString()).isEqualTo("succeeded");
                assertThat(listed(server, agentId, "fixture.hang")).as("plugin.list after the removal").isNull();
                assertThat(server.send(T, agentId, "agent.ping").get(0).get("status").getAsString()).isEqualTo("succeeded");
            }
        }
    }

    private static void assertQuarantined(JsonObject entry) {
        assertThat(entry).as("fixture.hang in plugin.list").isNotNull();
        assertThat(entry.get("state").getAsString()).as(entry.toString()).isEqualTo("quarantined");
        assertThat(entry.get("error").getAsString()).as(entry.toString()).isNotBlank();
        assertThat(entry.getAsJsonArray("actions")).isEmpty();
    }

    private static JsonObject listed(ServerProcess server, String agentId, String bsn) throws Exception {
        JsonObject r = server.send(T, agentId, "plugin.list").get(0);
        assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
        for (JsonElement e : r.getAsJsonArray("data")) {
            if (e.getAsJsonObject().get("bsn").getAsString().equals(bsn)) return e.getAsJsonObject();
        }
        return null;
    }

    /** The server's view of the agent, from its hello (or capabilities), says the plugin is quarantined. */
    private static void awaitQuarantinedInHello(ServerProcess server, String agentId) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonObject seen = null;
        while (System.nanoTime() < end) {
            for (JsonElement a : server.agents()) {
                if (!a.getAsJsonObject().get("agentId").getAsString().equals(agentId)) continue;
                for (JsonElement p : a.getAsJsonObject().getAsJsonArray("plugins")) {
                    JsonObject o = p.getAsJsonObject();
                    if (o.get("bsn").getAsString().equals("fixture.hang")) seen = o;
                }
            }
            if (seen != null && seen.get("state").getAsString().equals("quarantined")) return;
            Thread.sleep(300);
        }
        throw new AssertionError("the server's view of the agent never showed fixture.hang quarantined; last seen: " + seen);
    }

    /**
     * Item 6: a plugin may not export agent.api, nor any package the core exports or imports; the refusal names the
     * package.
     */
    @Test
    void aPluginThatExportsAPackageOfTheCoreIsRefusedNamingIt() throws Exception {
        OfflineAgent agent = new OfflineAgent(dir, "agent");
        Path fake = FixturePlugins.exportingAgentApi().build(jars());
        JsonObject f1 = agent.one("f1", "plugin.install", FixturePlugins.jarParams(fake));
        assertThat(status(f1)).as(f1.toString()).isEqualTo("rejected");
        assertThat(error(f1)).contains("fixture.fakeapi").contains("exports package 'agent.api'");
        assertThat(agent.listed("fixture.fakeapi")).as("nothing installed").isNull();

        Path gson = FixturePlugins.library("fixture.gsonexporter", "1.0.0")
            .header("Export-Package", "com.google.gson;version=\"3.0.0\"").build(jars());
        JsonObject g1 = agent.one("g1", "plugin.install", FixturePlugins.jarParams(gson));
        assertThat(status(g1)).as(g1.toString()).isEqualTo("rejected");
        assertThat(error(g1)).contains("exports package 'com.google.gson'");
        // the framework's own API, by identity: the system bundle exports it
        Path osgi = FixturePlugins.library("fixture.osgiexporter", "1.0.0")
            .header("Export-Package", "org.osgi.framework;version=\"9.0\"").build(jars());
        JsonObject o1 = agent.one("o1", "plugin.install", FixturePlugins.jarParams(osgi));
        assertThat(status(o1)).as(o1.toString()).isEqualTo("rejected");
        assertThat(error(o1)).contains("exports package 'org.osgi.framework'");
        // a package the core imports (SCR takes org.osgi.service.cm dynamically, as Config Admin exports it): the core
        // would wire to the plugin, and removing the plugin would restart the core's components mid-command
        Path cm = FixturePlugins.library("fixture.cmexporter", "1.0.0")
            .source("org.osgi.service.cm.Configuration", "package org.osgi.service.cm;\npublic interface Configuration {}\n")
            .header("Export-Package", "org.osgi.service.cm;version=\"1.6.1\"").build(jars());
        JsonObject c1 = agent.one("c1", "plugin.install", FixturePlugins.jarParams(cm));
        assertThat(status(c1)).as(c1.toString()).isEqualTo("rejected");
        assertThat(error(c1)).contains("exports package 'org.osgi.service.cm', which the agent's core imports (bundle"
            + " org.apache.felix.scr)");

        // a plugin installed afterwards wires to the real API and serves its actions
        Path echo = Path.of(System.getProperty("plugin.echo.jar"));
        JsonObject e1 = agent.one("e1", "plugin.install", FixturePlugins.jarParams(echo));
        assertThat(status(e1)).as(e1.toString()).isEqualTo("succeeded");
        assertThat(strings(e1.getAsJsonObject("data").get("actions"))).contains("echo.say");
        JsonObject s1 = agent.one("s1", "echo.say", "{\"message\": \"real api\"}");
        assertThat(status(s1)).as(s1.toString()).isEqualTo("succeeded");
    }

    /** Item 7: an install whose component throws in activate fails naming both; an upgrade to it is rolled back. */
    @Test
    void aComponentThatThrowsInActivateFailsTheInstallAndRollsBackTheUpgrade() throws Exception {
        OfflineAgent agent = new OfflineAgent(dir, "agent");
        Path throwing = FixturePlugins.throwingActivate("fixture.good", "1.1.0").build(jars());
        Path good = FixturePlugins.good("1.0.0", "from 1.0.0").build(jars());

        JsonObject t1 = agent.one("t1", "plugin.install", FixturePlugins.jarParams(throwing));
        assertThat(status(t1)).as(t1.toString()).isEqualTo("failed");
        assertThat(error(t1)).contains("fixture.throwing.ThrowingHandler")
            .contains("fixture refuses to start: no license for this host");
        assertThat(agent.listed("fixture.good")).as("nothing left installed").isNull();
        assertThat(pluginJars(agent)).as("no jar left in the plugin store").noneMatch(n -> n.startsWith("fixture.good"));
        JsonObject h0 = agent.one("h0", "good.hello", "{}");
        assertThat(status(h0)).isEqualTo("rejected");

        JsonObject g1 = agent.one("g1", "plugin.install", FixturePlugins.jarParams(good));
        assertThat(status(g1)).as(g1.toString()).isEqualTo("succeeded");
        JsonObject u1 = agent.one("u1", "plugin.upgrade", FixturePlugins.jarParams(throwing));
        assertThat(status(u1)).as(u1.toString()).isEqualTo("failed");
        assertThat(error(u1)).contains("1.0.0 is back").contains("fixture.throwing.ThrowingHandler")
            .contains("fixture refuses to start: no license for this host");
        JsonObject h1 = agent.one("h1", "good.hello", "{}");
        assertThat(status(h1)).as(h1.toString()).isEqualTo("succeeded");
        assertThat(h1.getAsJsonObject("data").get("greeting").getAsString()).isEqualTo("from 1.0.0");
        JsonObject listed = agent.listed("fixture.good");
        assertThat(listed.get("version").getAsString()).isEqualTo("1.0.0");
        assertThat(listed.get("state").getAsString()).isEqualTo("active");
    }

    /**
     * Item 7, the other ways a component fails to come up: a constructor that throws is named by its own exception
     * (not the reflection wrapper SCR sees first), and a component SCR cannot activate without any exception (an
     * activate method the class lacks) fails the install too, instead of a success that serves no actions.
     */
    @Test
    void aComponentThatCannotBeConstructedOrActivatedFailsTheInstallNamingIt() throws Exception {
        OfflineAgent agent = new OfflineAgent(dir, "agent");
        JsonObject c1 = agent.one("c1", "plugin.install", FixturePlugins.jarParams(FixturePlugins.throwingConstructor().build(jars())));
        assertThat(status(c1)).as(c1.toString()).isEqualTo("failed");
        assertThat(error(c1)).contains("component fixture.ctor.CtorHandler failed to activate")
            .contains("java.lang.IllegalStateException: fixture cannot be constructed: no config");
        assertThat(agent.listed("fixture.ctor")).as("nothing left installed").isNull();

        JsonObject m1 = agent.one("m1", "plugin.install", FixturePlugins.jarParams(FixturePlugins.missingActivateMethod().build(jars())));
        assertThat(status(m1)).as(m1.toString()).isEqualTo("failed");
        assertThat(error(m1)).contains("component fixture.missing.MissingHandler could not be activated");
        assertThat(agent.last.stderr()).as("SCR's own line says why").contains("activate method [start] not found");
        assertThat(agent.listed("fixture.missing")).as("nothing left installed").isNull();
        assertThat(pluginJars(agent)).noneMatch(n -> n.startsWith("fixture."));
    }

    private static List<String> pluginJars(OfflineAgent agent) throws Exception {
        Path store = agent.data.resolve("plugins");
        if (!Files.isDirectory(store)) return List.of();
        try (Stream<Path> s = Files.list(store)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
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

    /**
     * Item 18: the core is protected by identity, not by a name prefix: a third-party bundle named org.apache.felix.*
     * that exports its own org.apache.felix.* API and an OSGi service API the core neither provides nor uses (as
     * Felix's HTTP service exports org.osgi.service.http) installs and is removed; replacing the distribution's Gson
     * or agent.store is refused saying that they are the core.
     */
    @Test
    void theCoreIsProtectedByIdentityNotByNamePrefix() throws Exception {
        OfflineAgent agent = new OfflineAgent(dir, "agent");
        Path felix = FixturePlugins.library("org.apache.felix.fixture", "1.0.0")
            .source("org.apache.felix.fixture.api.Thing", "package org.apache.felix.fixture.api;\npublic interface Thing {}\n")
            .source("org.osgi.service.http.HttpService", "package org.osgi.service.http;\npublic interface HttpService {}\n")
            .header("Export-Package", "org.apache.felix.fixture.api;version=\"1.0.0\",org.osgi.service.http;version=\"1.2.2\"")
            .build(jars());
        JsonObject f1 = agent.one("f1", "plugin.install", FixturePlugins.jarParams(felix));
        assertThat(status(f1)).as(f1.toString()).isEqualTo("succeeded");
        JsonObject listed = agent.listed("org.apache.felix.fixture");
        assertThat(listed.get("core").getAsBoolean()).isFalse();
        assertThat(listed.get("state").getAsString()).isEqualTo("active");
        JsonObject f2 = agent.one("f2", "plugin.remove", "{\"bsn\": \"org.apache.felix.fixture\"}");
        assertThat(status(f2)).as(f2.toString()).isEqualTo("succeeded");

        Path gson = FixturePlugins.library("com.google.gson", "99.0.0").build(jars());
        JsonObject g1 = agent.one("g1", "plugin.install", FixturePlugins.jarParams(gson));
        JsonObject g2 = agent.one("g2", "plugin.upgrade", FixturePlugins.jarParams(gson));
        Path store = FixturePlugins.library("agent.store", "99.0.0").build(jars());
        JsonObject s1 = agent.one("s1", "plugin.upgrade", FixturePlugins.jarParams(store));
        JsonObject s2 = agent.one("s2", "plugin.remove", "{\"bsn\": \"agent.store\"}");
        for (JsonObject r : List.of(g1, g2, s1, s2)) {
            assertThat(status(r)).as(r.toString()).isEqualTo("rejected");
            assertThat(error(r)).as(r.toString()).contains("the agent's core");
        }
        assertThat(error(g1)).contains("'com.google.gson' is a bundle of the agent's core");
        assertThat(error(s1)).contains("'agent.store' is a bundle of the agent's core");
        assertThat(agent.listed("com.google.gson").get("version").getAsString()).isNotEqualTo("99.0.0");
    }
}
