package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

/** The real agent fed bad frames by a scripted server: it survives, stays correct and loses nothing. */
class ProtocolAbuseIT {
    static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    ScriptedServer server;
    AgentProcess agent;

    @BeforeEach
    void connect() throws Exception {
        server = ScriptedServer.start(dir.resolve("server"));
        Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig());
        agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString());
        JsonObject hello;
        try {
            hello = server.next("hello", T);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; agent stderr:\n" + agent.stderr(), e);
        }
        assertThat(hello.get("agentId").getAsString()).isEqualTo("scripted-agent");
        assertThat(hello.get("protocol").getAsInt()).isEqualTo(1);
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
        server.close();
    }

    private void assertStillServes(String id) throws Exception {
        server.send("{\"type\":\"command\",\"id\":\"" + id + "\",\"action\":\"agent.ping\",\"params\":{\"echo\":\"" + id + "\"}}");
        assertThat(server.next("accepted", T).get("id").getAsString()).isEqualTo(id);
        JsonObject result = server.next("result", T);
        assertThat(result.get("id").getAsString()).isEqualTo(id);
        assertThat(result.get("status").getAsString()).isEqualTo("succeeded");
        assertThat(result.getAsJsonObject("data").get("echo").getAsString()).isEqualTo(id);
    }

    @Test
    void malformedJsonClosesWith4400AndTheAgentReconnects() throws Exception {
        server.send("{\"type\": \"command\", \"id\": ");
        assertThat(server.closes.poll(30, TimeUnit.SECONDS)).isEqualTo(4400);
        agent.awaitStderr("not valid JSON", T);
        server.next("hello", T);
        assertStillServes("after-malformed");
        assertThat(agent.process.isAlive()).isTrue();
    }

    @Test
    void anUnknownTypeIsLoggedAndIgnored() throws Exception {
        server.send("{\"type\": \"surprise\", \"x\": 1}");
        agent.awaitStderr("ignoring a frame of unknown type 'surprise'", T);
        assertStillServes("after-unknown");
        assertThat(server.closes).isEmpty();
    }

    @Test
    void aFrameOverTheLimitClosesTheConnectionAndTheAgentReconnects() throws Exception {
        server.send("{\"type\": \"command\", \"id\": \"big\", \"action\": \"agent.ping\", \"params\": {\"echo\": \""
            + ScriptedServer.bytes(70_000) + "\"}}");
        assertThat(server.closes.poll(30, TimeUnit.SECONDS)).as("close code; agent stderr:%n%s", agent.stderr())
            .isEqualTo(4400); // the JDK's WebSocket client cannot send 1009
        agent.awaitStderr("over max_frame_bytes", T);
        server.next("hello", T);
        assertStillServes("after-big");
    }

    @Test
    void aCommandWithoutIdIsReportedAndOneWithoutActionIsRejected() throws Exception {
        server.send("{\"type\": \"command\", \"action\": \"agent.ping\"}");
        JsonObject event = server.next("event", T);
        assertThat(event.get("kind").getAsString()).isEqualTo("protocol");
        assertThat(event.getAsJsonObject("data").get("error").getAsString()).isEqualTo("command.id is required");

        server.send("{\"type\": \"command\", \"id\": \"no-action\"}");
        JsonObject rejected = server.next("result", T);
        assertThat(rejected.get("id").getAsString()).isEqualTo("no-action");
        assertThat(rejected.get("status").getAsString()).isEqualTo("rejected");
        assertThat(rejected.get("errorCode").getAsString()).isEqualTo("invalid_command");
        assertThat(rejected.get("error").getAsString()).isEqualTo("command.action is required");
        assertStillServes("after-invalid");
    }

    @Test
    void aDuplicateCommandIdIsAnsweredFromTheStoreAndNeverRunsTwice() throws Exception {
        String cmd = "{\"type\":\"command\",\"id\":\"dup-1\",\"action\":\"agent.ping\",\"params\":{\"sleepMs\":300}}";
        server.send(cmd);
        JsonObject first = server.next("result", T);
        server.send(cmd);
        JsonObject second = server.next("result", T);
        assertThat(second.get("id").getAsString()).isEqualTo("dup-1");
        assertThat(second.get("startedAt")).isEqualTo(first.get("startedAt"));
        assertThat(second.get("finishedAt")).isEqualTo(first.get("finishedAt"));

        // a duplicate while it still runs is answered 'accepted', and the one result follows once
        String slow = "{\"type\":\"command\",\"id\":\"dup-2\",\"action\":\"agent.ping\",\"params\":{\"sleepMs\":1500}}";
        server.send(slow);
        assertThat(server.next("accepted", T).get("id").getAsString()).isEqualTo("dup-2");
        server.send(slow);
        assertThat(server.next("accepted", T).get("id").getAsString()).isEqualTo("dup-2");
        assertThat(server.next("result", T).get("id").getAsString()).isEqualTo("dup-2");
        // had the duplicate run a second time, that run started before this command, which lasts as long: its result
        // would come before this one's
        server.send("{\"type\":\"command\",\"id\":\"after-dup\",\"action\":\"agent.ping\",\"params\":{\"sleepMs\":1500}}");
        assertThat(server.upTo("result", "after-dup", T)).noneMatch(f -> isResult(f, "dup-2"));
    }

    @Test
    void unackedResultsAreResentAfterReconnectUntilAcked() throws Exception {
        assertStillServes("needs-ack");
        assertStillServes("never-acked");
        reconnect();
        // after welcome the agent re-sends every unacked result, oldest first (protocol.md §3)
        assertThat(server.upTo("result", "never-acked", T)).anyMatch(f -> isResult(f, "needs-ack"));
        server.send("{\"type\":\"ack\",\"ids\":[\"needs-ack\"]}");
        // The agent may record the ack after it has answered later frames (it "may stop" re-sending), so reconnect
        // until the acked result no longer comes before the never-acked one, which is younger, within T.
        long end = System.nanoTime() + T.toNanos();
        while (true) {
            reconnect();
            if (server.upTo("result", "never-acked", T).stream().noneMatch(f -> isResult(f, "needs-ack"))) break;
            assertThat(System.nanoTime()).as("the acked result is still re-sent %s after its ack", T).isLessThan(end);
        }
    }

    /** Makes the agent drop the connection (a malformed frame: 4400) and waits until it is back. */
    private void reconnect() throws Exception {
        server.send("this is not json");
        assertThat(server.closes.poll(30, TimeUnit.SECONDS)).isEqualTo(4400);
        server.next("hello", T);
    }

    private static boolean isResult(JsonObject frame, String id) {
        return frame.get("type").getAsString().equals("result") && frame.get("id").getAsString().equals(id);
    }
}
