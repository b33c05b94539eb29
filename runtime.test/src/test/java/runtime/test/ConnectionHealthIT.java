package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

/** The real agent against a server that goes silent or refuses it: it notices, says why, and comes back. */
class ConnectionHealthIT {
    static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /**
     * Sends a command and expects its result. Like a real server, it sends the same id again if none came (the
     * connection may have been replaced meanwhile on a loaded machine); a duplicate id never runs twice, and a
     * finished one is answered with its stored result. Results of other ids (re-sent, never acked here) are skipped.
     */
    private static void assertServes(ScriptedServer server, AgentProcess agent, String id) throws Exception {
        for (int attempt = 1; ; attempt++) {
            server.send("{\"type\":\"command\",\"id\":\"" + id + "\",\"action\":\"agent.ping\",\"params\":{}}");
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            JsonObject result = null;
            try {
                while (result == null) {
                    JsonObject r = server.next("result", Duration.ofNanos(Math.max(1, end - System.nanoTime())));
                    if (r.get("id").getAsString().equals(id)) result = r;
                }
            } catch (AssertionError e) {
                if (attempt == 3) throw new AssertionError(e.getMessage() + " (3 tries); agent stderr:\n" + agent.stderr(), e);
                continue;
            }
            assertThat(result.get("status").getAsString()).as(result.toString()).isEqualTo("succeeded");
            return;
        }
    }

    @Test
    void aConnectionThatGoesSilentIsFoundDeadByTheHeartbeatAndReopened() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(dir.resolve("server"));
             ConnectProxy network = new ConnectProxy()) {
            server.welcomeExtra = ",\"heartbeatSeconds\":2";
            Path config = AgentProcess.write(dir.resolve("agent.json"),
                server.agentConfig("\"max_backoff_seconds\": 1, \"https_proxy\": \"" + network.url() + "\""));
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString())) {
                server.next("hello", T);
                assertServes(server, agent, "before");

                network.freeze(); // no FIN, no RST: the packets just stop, as when a NAT forgets the connection
                long t0 = System.nanoTime();
                agent.awaitStderr("the connection is dead", T);
                Duration noticed = Duration.ofNanos(System.nanoTime() - t0);
                assertThat(noticed).as("two heartbeat intervals of silence, checked every interval")
                    .isBetween(Duration.ofMillis(3500), Duration.ofSeconds(15));

                server.next("hello", T); // a new connection
                assertServes(server, agent, "after");
            }
        }
    }

    @Test
    void aServerThatClosesWith4401IsRetriedOnlyAfterTheLongestBackoffAndTheLogSaysWhy() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(dir.resolve("server"))) {
            Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("\"max_backoff_seconds\": 6"));
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString())) {
                server.next("hello", T);
                long t0 = System.nanoTime();
                server.closeWith(4401, "unknown agent token");
                agent.awaitStderr("closed by the server with 4401 (unknown agent token); retrying in 6 s", T);
                server.next("hello", T); // it does come back: an agent never gives up
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("no hammering: the whole cap first")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(5900));
                assertServes(server, agent, "after-4401");
            }
        }
    }
}
