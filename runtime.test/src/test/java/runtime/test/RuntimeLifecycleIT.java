package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real runtime (exported jar, Felix, SCR, Gogo) with a plugin installed while it runs: its action routes at
 * once, stops routing when the bundle stops, and the bundle is still there after the framework restarts.
 */
class RuntimeLifecycleIT {
    static final Duration T = Duration.ofSeconds(30);
    static final String PROMPT = "outpost> ";

    @TempDir
    Path dir;

    @Test
    void aPluginInstalledAtRuntimeRoutesStopsRoutingAndSurvivesARestart() throws Exception {
        String jar = Path.of(System.getProperty("plugin.echo.jar")).toUri().toString();
        Path data = dir.resolve("data");
        long bundleId;
        try (AgentProcess console = AgentProcess.start("console", "--data-dir", data.toString())) {
            console.awaitStdout(PROMPT, T);
            console.send("agent:exec echo.say '{\"message\":\"hi\"}'");
            assertThat(console.awaitStdout(PROMPT, T)).contains("\"status\": \"rejected\"")
                .contains("unknown action 'echo.say'");

            console.send("install " + jar);
            String installed = console.awaitStdout(PROMPT, T);
            Matcher m = Pattern.compile("Bundle ID: (\\d+)").matcher(installed);
            assertThat(m.find()).as("install output: %s", installed).isTrue();
            bundleId = Long.parseLong(m.group(1));
            console.send("start " + bundleId);
            console.awaitStdout(PROMPT, T);

            console.send("agent:exec echo.say '{\"message\":\"hi\"}'");
            assertThat(console.awaitStdout(PROMPT, T)).contains("\"status\": \"succeeded\"")
                .contains("\"message\": \"hi\"").contains("plugin.echo " + PluginJars.bundleVersion(Path.of(System.getProperty("plugin.echo.jar"))));
            console.send("agent:actions");
            assertThat(console.awaitStdout(PROMPT, T)).contains("echo.say").contains("agent.ping");

            // felix:stop cannot coerce a Gogo token to Bundle[]; stop it through the bundle object
            console.send("($.context bundle " + bundleId + ") stop");
            console.awaitStdout(PROMPT, T);
            console.send("lb plugin.echo");
            assertThat(console.awaitStdout(PROMPT, T)).contains(bundleId + "|Resolved");
            console.send("agent:exec echo.say '{\"message\":\"hi\"}'");
            assertThat(console.awaitStdout(PROMPT, T)).contains("\"status\": \"rejected\"")
                .contains("known actions: agent.info, agent.ping, backup.create, backup.delete, backup.list,"
                    + " backup.restore, backup.verify, dataset.install, dataset.list, dataset.remove, disk.extend,"
                    + " disk.initialize, disk.list, file.delete, file.get, file.put, file.stat, health.inventory,"
                    + " health.report, package.install, package.inventory, package.list, package.remove,"
                    + " package.updates, package.upgrade, plugin.install, plugin.list, plugin.remove, plugin.upgrade,"
                    + " script.list, script.run\"");

            console.send("start " + bundleId);
            console.awaitStdout(PROMPT, T);
            console.send("agent:exec echo.say '{}'");
            assertThat(console.awaitStdout(PROMPT, T)).contains("\"status\": \"rejected\"")
                .contains("param 'message' is required");
            console.send("exit");
            assertThat(console.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(console.process.exitValue()).isZero();
        }

        try (AgentProcess again = AgentProcess.start("console", "--data-dir", data.toString())) {
            again.awaitStdout(PROMPT, T);
            again.send("lb plugin.echo");
            assertThat(again.awaitStdout(PROMPT, T)).contains(bundleId + "|Active");
            again.send("agent:exec echo.say '{\"message\":\"still here\"}'");
            assertThat(again.awaitStdout(PROMPT, T)).contains("\"status\": \"succeeded\"").contains("still here");
            again.send("agent:plugins");
            assertThat(again.awaitStdout(PROMPT, T)).contains("plugin.echo").contains("echo.say")
                .containsPattern("agent.core +\\S+ +active +core");
            again.send("agent:install /nonexistent/x.jar");
            assertThat(again.awaitStdout(PROMPT, T)).contains("cannot read /nonexistent/x.jar");
            again.send("agent:commands");
            assertThat(again.awaitStdout(PROMPT, T)).contains("echo.say").contains("shell");
            again.send("exit");
            assertThat(again.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void managedModeStopsCleanlyOnSigtermAndOneDataDirHasOneAgent() throws Exception {
        Path data = dir.resolve("data");
        Path config = AgentProcess.write(dir.resolve("config.json"), "{\"server_url\": \"https://127.0.0.1:9\"}");
        try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", data.toString())) {
            agent.awaitStderr("ready: agent", T);

            AgentProcess second = AgentProcess.run(T, "run", "--config", config.toString(), "--data-dir", data.toString());
            assertThat(second.exitCode()).isEqualTo(2);
            assertThat(second.stderr()).contains("another agent is running with data dir " + data);

            assertThat(data.resolve("commands.db-wal")).exists();

            agent.process.destroy(); // SIGTERM, as systemd stops it
            assertThat(agent.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(agent.process.exitValue()).isIn(0, 143);
            // SQLite removes the WAL file only when the last connection closes cleanly
            assertThat(data.resolve("commands.db-wal")).doesNotExist();
            // the framework was stopped too, not just the JVM halted: SCR wrote what it read of the components, so
            // the next start takes them from there instead of parsing every bundle's XML again
            try (Stream<Path> files = Files.walk(data.resolve("framework"))) {
                assertThat(files.map(p -> p.getFileName().toString())).as("SCR's metadata cache written at stop")
                    .contains("componentMetadataStore");
            }
        }
        String firstReady = readyLine(data, config);
        // the components described by the cache are the same ones: every action is there again
        assertThat(readyLine(data, config)).isEqualTo(firstReady).matches(".*, [1-9][0-9] actions,.*");
    }

    /** Starts the managed agent on the data dir, stops it with SIGTERM once ready: @return its ready line, timing cut */
    private static String readyLine(Path data, Path config) throws Exception {
        try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", data.toString())) {
            agent.awaitStderr("ready: agent", T);
            agent.process.destroy();
            assertThat(agent.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            Matcher m = Pattern.compile("ready: agent [^\\n]*? data dir").matcher(agent.stderr());
            assertThat(m.find()).isTrue();
            return m.group();
        }
    }

    @Test
    void aSigtermStopsThePluginsTooAndWaitsForTheirDeactivate() throws Exception {
        Path data = dir.resolve("data");
        Path marker = dir.resolve("deactivated.txt");
        Path jar = FixturePlugins.slowDeactivate(marker, 1500).build(dir.resolve("jars"));
        try (AgentProcess console = AgentProcess.start("console", "--data-dir", data.toString())) {
            console.awaitStdout(PROMPT, T);
            console.send("install " + jar.toUri());
            Matcher m = Pattern.compile("Bundle ID: (\\d+)").matcher(console.awaitStdout(PROMPT, T));
            assertThat(m.find()).isTrue();
            console.send("start " + m.group(1));
            console.awaitStdout(PROMPT, T);
            console.send("exit");
            assertThat(console.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        Files.deleteIfExists(marker); // the console's own stop deactivated it once already
        Path config = AgentProcess.write(dir.resolve("config.json"), "{\"server_url\": \"https://127.0.0.1:9\"}");
        try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", data.toString())) {
            agent.awaitStderr("ready: agent", T);
            agent.process.destroy(); // SIGTERM, as systemd stops it
            assertThat(agent.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(agent.process.exitValue()).isIn(0, 143);
        }
        // the JVM did not halt under the plugin: its deactivate ran to the end, 1.5 s after the store had closed
        assertThat(marker).hasContent("deactivated");
    }

    @Test
    void managedModeWithoutAServerRefusesToStart() throws Exception {
        AgentProcess a = AgentProcess.run(T, "run", "--data-dir", dir.resolve("data").toString());
        assertThat(a.exitCode()).isEqualTo(2);
        assertThat(a.stderr()).contains("config key 'server_url' is required in run mode");
    }
}
