package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.google.gson.JsonObject;

/** The exported agent against the reference server on loopback, with the TLS material the server made. */
class ServerEndToEndTest {
    static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private AgentProcess agent(ServerProcess server, String transport, String name) throws Exception {
        Path config = AgentProcess.write(dir.resolve(name + ".json"), server.agentConfig(transport, ""));
        return AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve(name).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "poll"})
    void commandsAndResultsFlowOverTheTransport(String transport) throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             AgentProcess agent = agent(server, transport, "agent")) {
            String agentId = server.awaitAgent(T, transport.equals("websocket"));
            assertThat(Files.getPosixFilePermissions(dir.resolve("agent/credentials.json")))
                .extracting(Object::toString).containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");

            List<JsonObject> ping = server.send(T, agentId, "agent.ping", "{\"echo\": {\"n\": 1}}");
            assertThat(ping).singleElement().satisfies(r -> {
                assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
                assertThat(r.getAsJsonObject("data").getAsJsonObject("echo").get("n").getAsInt()).isEqualTo(1);
            });
            List<JsonObject> info = server.send(T, agentId, "agent.info");
            assertThat(info.get(0).getAsJsonObject("data").get("mode").getAsString()).isEqualTo("run");
            List<JsonObject> unknown = server.send(T, agentId, "nope.nothing");
            assertThat(unknown.get(0).get("status").getAsString()).isEqualTo("rejected");
            assertThat(unknown.get(0).get("error").getAsString()).contains("known actions: agent.info, agent.ping");
        }
    }

    @Test
    void anAgentKilledWhileACommandRunsReportsItInterruptedAfterRestartAndNeverRunsItAgain() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            String id = UUID.randomUUID().toString();
            String agentId;
            try (AgentProcess agent = agent(server, "websocket", "agent")) {
                agentId = server.awaitAgent(T, true);
                server.ctl(T, "send", agentId, "agent.ping", "{\"sleepMs\": 60000}", "--id", id, "--wait", "1");
                // it runs once the agent has accepted it
                long end = System.nanoTime() + T.toNanos();
                while (!"accepted".equals(server.command(id).get("state").getAsString()) && System.nanoTime() < end) {
                    Thread.sleep(100);
                }
                assertThat(server.command(id).get("state").getAsString()).isEqualTo("accepted");
                agent.process.destroyForcibly(); // SIGKILL
                assertThat(agent.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            }
            try (AgentProcess again = agent(server, "websocket", "agent")) {
                JsonObject result = awaitResult(server, id);
                assertThat(result.get("status").getAsString()).isEqualTo("interrupted");
                assertThat(result.get("error").getAsString()).contains("restarted");
                Thread.sleep(3000); // had it run again, a second result would replace nothing; the first stays
                assertThat(awaitResult(server, id).get("finishedAt")).isEqualTo(result.get("finishedAt"));
                List<JsonObject> ping = server.send(T, agentId, "agent.ping");
                assertThat(ping.get(0).get("status").getAsString()).isEqualTo("succeeded");
            }
        }
    }

    @Test
    void resultsFinishedWhileTheServerIsDownArriveExactlyOnceAfterItReturns() throws Exception {
        Path serverDir = dir.resolve("server");
        ServerProcess server = ServerProcess.start(serverDir, 0);
        int port = server.port();
        String id = UUID.randomUUID().toString();
        try (AgentProcess agent = agent(server, "websocket", "agent")) {
            String agentId = server.awaitAgent(T, true);
            server.ctl(T, "send", agentId, "agent.ping", "{\"sleepMs\": 3000, \"echo\": \"late\"}", "--id", id, "--wait", "1");
            long end = System.nanoTime() + T.toNanos();
            while (!"accepted".equals(server.command(id).get("state").getAsString()) && System.nanoTime() < end) {
                Thread.sleep(100);
            }
            server.stop();
            agent.awaitStderr("connection lost", T);
            Thread.sleep(4000); // the command finishes while nobody listens
            try (ServerProcess back = ServerProcess.start(serverDir, port)) {
                JsonObject result = awaitResult(back, id);
                assertThat(result.get("status").getAsString()).isEqualTo("succeeded");
                assertThat(result.getAsJsonObject("data").get("echo").getAsString()).isEqualTo("late");
                AgentProcess results = back.ctl(T, "results", "--agent", agentId);
                assertThat(results.stdout().split(id, -1)).as("the result is stored once: %s", results.stdout()).hasSize(2);
            }
        } finally {
            server.close();
        }
    }

    @Test
    void aBadEnrolmentTokenIsRefusedWithAClearErrorAndABoundedRetry() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            String cfg = server.agentConfig("websocket", "").replaceAll("\"enrollment_token\": \"[^\"]*\"",
                "\"enrollment_token\": \"not-the-token\"");
            Path config = AgentProcess.write(dir.resolve("bad.json"), cfg);
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent").toString())) {
                agent.awaitStderr("enrolment refused", T);
                agent.awaitStderr("check 'enrollment_token'; retrying in 2 s", T);
                assertThat(dir.resolve("agent/credentials.json")).doesNotExist();
                assertThat(server.agents()).isEmpty();
            }
        }
    }

    @Test
    void theWrongCaIsRefusedWithAClearErrorAndABoundedRetry() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             ServerProcess other = ServerProcess.start(dir.resolve("other"), 0)) {
            String cfg = server.agentConfig("websocket", "").replace(dir.resolve("server/ca.pem").toString(),
                dir.resolve("other/ca.pem").toString());
            Path config = AgentProcess.write(dir.resolve("wrong-ca.json"), cfg);
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent").toString())) {
                agent.awaitStderr("TLS handshake failed", T);
                agent.awaitStderr("retrying in", T);
                assertThat(server.agents()).isEmpty();
                assertThat(agent.process.isAlive()).isTrue();
            }
        }
    }

    private static JsonObject awaitResult(ServerProcess server, String id) throws Exception {
        long end = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < end) {
            JsonObject c = server.command(id);
            if (c.has("result") && c.get("result").isJsonObject()) return c.getAsJsonObject("result");
            Thread.sleep(200);
        }
        throw new AssertionError("no result for " + id + " within " + T + ": " + server.command(id));
    }
}
