package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

/**
 * plugin.script's exit code 194 ("reboot the host, then report me") in the exported agent, through the reference
 * server: {@code plugins.settings.script.reboot_command} is a script that records the request and stops the agent with
 * SIGTERM, as a host's shutdown would, and the test starts the agent again on the same data dir, as the host's boot
 * would. The command is then reported {@code succeeded} once, with the note, and never run again; the same script
 * asking again and again is refused its fourth reboot in a row ({@code max_reboots}, default 3).
 */
class ScriptRebootIT {
    static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** One line per run of a script, one per reboot request: what the test counts. */
    private Path runs;
    private Path reboots;
    private Path pidFile;
    private String[] run;

    /** The server, an agent whose reboot command stops it, and that agent started; @return the agent */
    private AgentProcess startAgent(ServerProcess server) throws Exception {
        runs = dir.resolve("runs");
        reboots = dir.resolve("reboots");
        pidFile = dir.resolve("agent.pid");
        // the host's reboot, as the agent sees it: SIGTERM from the service manager while the command waits for it
        Path reboot = Files.writeString(dir.resolve("reboot"), "#!/bin/bash\n"
            + "echo requested >> '" + reboots + "'\n"
            + "kill -TERM \"$(cat '" + pidFile + "')\"\n");
        Files.setPosixFilePermissions(reboot, PosixFilePermissions.fromString("rwx------"));
        Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket",
            "\"plugins\": {\"settings\": {\"script\": {\"reboot_command\": [\"" + reboot + "\"], \"reboot_wait_seconds\": 120}}}"));
        run = new String[] {"run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString()};
        return start();
    }

    private AgentProcess start() throws Exception {
        AgentProcess agent = AgentProcess.start(run);
        Files.writeString(pidFile, Long.toString(agent.pid())); // the launcher execs the JVM: same pid
        return agent;
    }

    /** The reboot command stopped the agent: waits for it to end, then starts it again, as the host's boot would. */
    private AgentProcess rebootedAgain(AgentProcess agent) throws Exception {
        assertThat(agent.process.waitFor(T.toSeconds(), TimeUnit.SECONDS))
            .as("the reboot command stopped the agent; stderr:%n%s", agent.stderr()).isTrue();
        agent.close();
        return start();
    }

    /** The command's result, failing at once if the agent stops first (its reboot command ran after all). */
    private JsonObject awaitResultWhileUp(Operator op, String id, AgentProcess agent) throws Exception {
        long end = System.nanoTime() + T.toNanos();
        do {
            JsonObject c = op.command(id);
            if (c.has("result") && c.get("result").isJsonObject()) return c.getAsJsonObject("result");
            assertThat(agent.process.isAlive()).as("the agent stopped before %s had a result: the reboot command ran"
                + " (reboot requests: %s)", id, lines(reboots).size()).isTrue();
            Thread.sleep(100);
        } while (System.nanoTime() < end);
        throw new AssertionError("no result for " + id + " within " + T + ": " + op.command(id));
    }

    /** A script that records each run of it, then asks for a reboot. */
    private String rebootingScript() {
        return "{\"script\": \"echo ran >> '" + runs + "'; exit 194\"}";
    }

    private static List<String> lines(Path file) throws Exception {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    private static String status(JsonObject result) {
        return result.get("status").getAsString();
    }

    @Test
    void exitCode194RebootsOnceAndIsReportedSucceededOnceAfterTheRestartWithoutRunningAgain() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Operator op = new Operator(server.dir);
            AgentProcess agent = startAgent(server);
            try {
                String agentId = server.awaitAgent(T, true);
                String id = op.send(agentId, "script.run", rebootingScript(), null);
                agent = rebootedAgain(agent);

                JsonObject r = op.awaitResult(id, T);
                assertThat(status(r)).as(r.toString()).isEqualTo("succeeded");
                assertThat(r.has("errorCode") && !r.get("errorCode").isJsonNull()).as("no error code: %s", r).isFalse();
                JsonObject data = r.getAsJsonObject("data");
                assertThat(data.get("exitCode").getAsInt()).isEqualTo(194);
                assertThat(data.get("rebooted").getAsBoolean()).isTrue();
                assertThat(data.get("rebootsInARow").getAsInt()).isEqualTo(1);
                assertThat(data.get("note").getAsString()).contains("the host was rebooted")
                    .contains("reported after the agent started again").contains("it was not run again");

                // the restarted agent answers a new command only after it re-sent what it had recorded: by then a
                // second run or a second result of the rebooting command would be in
                JsonObject ping = op.awaitResult(op.send(agentId, "agent.ping", "{}", null), T);
                assertThat(status(ping)).as(ping.toString()).isEqualTo("succeeded");
                assertThat(op.results(List.of(id))).as("the server holds one result for the command").hasSize(1);
                assertThat(op.awaitResult(id, T)).as("the first result stays the only one").isEqualTo(r);
                assertThat(lines(runs)).as("the script ran once").hasSize(1);
                assertThat(lines(reboots)).as("one reboot was asked for").hasSize(1);
                assertThat(agent.process.isAlive()).as("no second reboot: %s", agent.stderr()).isTrue();
            } finally {
                agent.close();
            }
        }
    }

    @Test
    void theSameScriptAskingForARebootEveryTimeGetsThreeInARowAndThenFails() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Operator op = new Operator(server.dir);
            AgentProcess agent = startAgent(server);
            try {
                String agentId = server.awaitAgent(T, true);
                List<String> ids = new ArrayList<>();
                // a command is never run again, so a loop is the same script sent again after each reboot
                for (int n = 1; n <= 3; n++) {
                    String id = op.send(agentId, "script.run", rebootingScript(), null);
                    ids.add(id);
                    agent = rebootedAgain(agent);
                    JsonObject r = op.awaitResult(id, T);
                    assertThat(status(r)).as(r.toString()).isEqualTo("succeeded");
                    assertThat(r.getAsJsonObject("data").get("rebootsInARow").getAsInt()).isEqualTo(n);
                }
                String fourth = op.send(agentId, "script.run", rebootingScript(), null);
                ids.add(fourth);
                JsonObject r = awaitResultWhileUp(op, fourth, agent);
                assertThat(status(r)).as(r.toString()).isEqualTo("failed");
                assertThat(r.get("errorCode").getAsString()).as(r.toString()).isEqualTo("failed");
                assertThat(r.get("error").getAsString()).contains("already asked for 3 reboots in a row")
                    .contains("plugins.settings.script.max_reboots is 3").contains("the host was not rebooted");

                assertThat(lines(reboots)).as("reboots asked for").hasSize(3);
                assertThat(lines(runs)).as("each command ran once").hasSize(4);
                assertThat(agent.process.isAlive()).as("the fourth did not stop the agent: %s", agent.stderr()).isTrue();
                assertThat(op.results(ids)).as("one result per command on the server").hasSize(4)
                    .extracting(o -> o.get("id").getAsString()).containsExactlyInAnyOrderElementsOf(ids);
            } finally {
                agent.close();
            }
        }
    }
}
