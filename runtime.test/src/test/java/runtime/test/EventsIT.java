package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Events from a plugin installed at runtime (agent.api 1.2 {@code Events}, docs/protocol.md §9) reach the real server
 * over both transports; those emitted while the server is down arrive after it is back, once each; over the agent's
 * bound the oldest are dropped and the drop is reported.
 */
class EventsIT {
    static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private AgentProcess agent(ServerProcess server, String transport, String extra) throws Exception {
        Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig(transport, extra));
        return AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString());
    }

    private static void installEcho(ServerProcess server, String agentId) throws Exception {
        AgentProcess p = server.ctl(T.plusSeconds(30), "plugin", "push", agentId, "install",
            System.getProperty("plugin.echo.jar"), "--wait", "" + T.toSeconds());
        assertThat(p.stdout()).as(p.stderr()).contains("\"status\":\"succeeded\"");
    }

    /** The server's events of a kind for the agent, oldest first. */
    private static List<JsonObject> events(ServerProcess server, String agentId, String kind) throws Exception {
        AgentProcess p = server.ctl(Duration.ofSeconds(30), "events", "--agent", agentId, "--kind", kind, "--limit", "10000");
        assertThat(p.exitCode()).as(p.stderr()).isZero();
        List<JsonObject> out = new ArrayList<>();
        for (String line : p.stdout().split("\n")) if (line.startsWith("{")) out.add(JsonParser.parseString(line).getAsJsonObject());
        return out;
    }

    private static List<JsonObject> awaitEvents(ServerProcess server, String agentId, String kind, int n) throws Exception {
        long end = System.nanoTime() + T.toNanos();
        List<JsonObject> got = events(server, agentId, kind);
        while (got.size() < n && System.nanoTime() < end) {
            Thread.sleep(300);
            got = events(server, agentId, kind);
        }
        assertThat(got).as("events of kind " + kind).hasSizeGreaterThanOrEqualTo(n);
        return got;
    }

    private static Set<String> ids(List<JsonObject> events) {
        Set<String> ids = new HashSet<>();
        for (JsonObject e : events) assertThat(ids.add(e.get("id").getAsString())).as("stored once: " + e).isTrue();
        return ids;
    }

    private static ServerProcess restart(ServerProcess server, Path serverDir) throws Exception {
        int port = server.port();
        server.stop();
        return ServerProcess.start(serverDir, port);
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "poll"})
    void eventsReachTheServerAndThoseMadeWhileItIsDownArriveOnceAfterIt(String transport) throws Exception {
        Path serverDir = dir.resolve("server");
        ServerProcess server = ServerProcess.start(serverDir, 0);
        try (AgentProcess agent = agent(server, transport, "")) {
            String agentId = server.awaitAgent(T, transport.equals("websocket"));
            installEcho(server, agentId);
            List<JsonObject> r = server.send(T, agentId, "echo.emit", "{\"kind\": \"echo.up\", \"count\": 5}");
            assertThat(r.get(0).get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
            List<JsonObject> up = awaitEvents(server, agentId, "echo.up", 5);
            assertThat(ids(up)).hasSize(5);
            assertThat(up.get(0).getAsJsonObject("data").get("n").getAsInt()).isZero();

            // emitted 3 s from now, while the server is down
            AgentProcess sent = server.ctl(T, "send", agentId, "echo.emit", "{\"kind\": \"echo.down\", \"count\": 3, \"delayMs\": 3000}");
            assertThat(sent.exitCode()).as(sent.stderr()).isZero();
            long accepted = System.nanoTime() + T.toNanos();
            while (!agent.stderr().contains("echo.emit") && server.command(JsonParser.parseString(sent.stdout().lines().findFirst()
                .orElseThrow()).getAsJsonObject().get("id").getAsString()).get("state").getAsString().equals("dispatched")
                && System.nanoTime() < accepted) {
                Thread.sleep(100);
            }
            int port = server.port();
            server.stop();
            int mark = agent.stderrMark();
            agent.awaitStderr("connection refused", T, mark); // the events are made while nothing listens
            Thread.sleep(4000); // past the handler's delay: what it emits now waits in the agent's store
            server = ServerProcess.start(serverDir, port);
            List<JsonObject> down = awaitEvents(server, agentId, "echo.down", 3);
            assertThat(ids(down)).hasSize(3);

            // another reconnect sends nothing again: acked events are gone from the agent
            server = restart(server, serverDir);
            server.awaitAgent(T, transport.equals("websocket"));
            assertThat(server.send(T, agentId, "agent.ping").get(0).get("status").getAsString()).isEqualTo("succeeded");
            assertThat(events(server, agentId, "echo.down")).hasSize(3);
            assertThat(events(server, agentId, "echo.up")).hasSize(5);
        } finally {
            server.close();
        }
    }

    @Test
    void overTheBoundTheOldestAreDroppedAndTheDropIsReported() throws Exception {
        Path serverDir = dir.resolve("server");
        ServerProcess server = ServerProcess.start(serverDir, 0);
        try (AgentProcess agent = agent(server, "websocket", "\"max_queued_events\": 100")) {
            String agentId = server.awaitAgent(T, true);
            installEcho(server, agentId);
            AgentProcess sent = server.ctl(T, "send", agentId, "echo.emit", "{\"kind\": \"echo.flood\", \"count\": 150, \"delayMs\": 2000}");
            assertThat(sent.exitCode()).as(sent.stderr()).isZero();
            Thread.sleep(300); // it is on its way to the agent
            int port = server.port();
            server.stop();
            agent.awaitStderr("dropped", T); // the agent says it dropped the oldest
            server = ServerProcess.start(serverDir, port);
            awaitEvents(server, agentId, "agent.events_dropped", 1);
            // drops may be reported in several events: wait until what was dropped and what arrived account for all 150
            long end = System.nanoTime() + T.toNanos();
            long droppedCount;
            List<JsonObject> kept;
            while (true) {
                droppedCount = 0;
                for (JsonObject d : events(server, agentId, "agent.events_dropped")) {
                    droppedCount += d.getAsJsonObject("data").get("count").getAsLong();
                }
                kept = events(server, agentId, "echo.flood");
                if (droppedCount + kept.size() >= 150 || System.nanoTime() > end) break;
                Thread.sleep(300);
            }
            assertThat(ids(kept)).hasSize((int) (150 - droppedCount));
            assertThat(droppedCount).isPositive();
            assertThat(kept.size()).isLessThanOrEqualTo(100);
            // the newest were kept, the oldest dropped
            List<Integer> ns = new ArrayList<>();
            for (JsonObject e : kept) ns.add(e.getAsJsonObject("data").get("n").getAsInt());
            assertThat(ns).contains(149).doesNotContain(0);
            assertThat(ns.stream().mapToInt(Integer::intValue).min().orElseThrow()).isEqualTo((int) droppedCount);
        } finally {
            server.close();
        }
    }
}
