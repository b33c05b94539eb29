package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

/** The real agent against a server that goes silent or refuses it: it notices, says why, and comes back. */
class ConnectionHealthTest {
    static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private static void assertServes(ScriptedServer server, String id) throws Exception {
        server.send("{\"type\":\"command\",\"id\":\"" + id + "\",\"action\":\"agent.ping\",\"params\":{}}");
        assertThat(server.next("accepted", T).get("id").getAsString()).isEqualTo(id);
        JsonObject result = server.next("result", T);
        assertThat(result.get("id").getAsString()).isEqualTo(id);
        assertThat(result.get("status").getAsString()).isEqualTo("succeeded");
    }

    @Test
    void aConnectionThatGoesSilentIsFoundDeadByTheHeartbeatAndReopened() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(dir.resolve("server"));
             ConnectProxy network = new ConnectProxy()) {
            server.welcomeExtra = ",\"heartbeatSeconds\":1";
            Path config = AgentProcess.write(dir.resolve("agent.json"),
                server.agentConfig("\"max_backoff_seconds\": 1, \"https_proxy\": \"" + network.url() + "\""));
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString())) {
                server.next("hello", T);
                assertServes(server, "before");

                network.freeze(); // no FIN, no RST: the packets just stop, as when a NAT forgets the connection
                long t0 = System.nanoTime();
                agent.awaitStderr("the connection is dead", T);
                Duration noticed = Duration.ofNanos(System.nanoTime() - t0);
                assertThat(noticed).as("two heartbeat intervals of silence, checked every interval")
                    .isBetween(Duration.ofMillis(1500), Duration.ofSeconds(10));

                server.next("hello", T); // a new connection
                assertServes(server, "after");
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
                assertServes(server, "after-4401");
            }
        }
    }
}
