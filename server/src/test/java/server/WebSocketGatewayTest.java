package server;

import static org.assertj.core.api.Assertions.assertThat;
import static server.TestServer.eventually;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

import server.TestServer.WsAgent;

class WebSocketGatewayTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("ws-agent");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    @Test
    void helloWelcomeQueuedCommandAcceptedResultAck() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{\"echo\":42}");
        assertThat(s.commandView(id).get("state").getAsString()).isEqualTo("queued");
        try (WsAgent a = s.connect(agent.token())) {
            JsonObject welcome = a.hello(agent.agentId());
            assertThat(welcome.get("heartbeatSeconds").getAsInt()).isEqualTo(30);
            assertThat(java.time.Instant.parse(welcome.get("serverTime").getAsString())).isNotNull();

            JsonObject cmd = a.expect("command");
            assertThat(cmd.get("id").getAsString()).isEqualTo(id);
            assertThat(cmd.get("action").getAsString()).isEqualTo("agent.ping");
            assertThat(cmd.getAsJsonObject("params").get("echo").getAsInt()).isEqualTo(42);
            assertThat(java.time.Instant.parse(cmd.get("issuedAt").getAsString())).isNotNull();
            eventually("dispatched", () -> state(id).equals("dispatched"));

            a.send("{\"type\":\"accepted\",\"id\":\"" + id + "\"}");
            eventually("accepted", () -> state(id).equals("accepted"));

            a.send(WsAgent.result(id, "succeeded"));
            JsonObject ack = a.expect("ack");
            assertThat(ack.getAsJsonArray("ids").get(0).getAsString()).isEqualTo(id);

            JsonObject view = s.commandView(id);
            assertThat(view.get("state").getAsString()).isEqualTo("done");
            JsonObject result = view.getAsJsonObject("result");
            assertThat(result.get("status").getAsString()).isEqualTo("succeeded");
            assertThat(result.get("output").getAsString()).isEqualTo("hi\n");
            assertThat(result.getAsJsonObject("data").get("echo").getAsInt()).isEqualTo(42);
            assertThat(result.has("type")).isFalse();

            JsonObject listed = s.operatorGet("/api/v1/agents").json().getAsJsonArray().get(0).getAsJsonObject();
            assertThat(listed.get("connected").getAsBoolean()).isTrue();
            assertThat(listed.get("agentVersion").getAsString()).isEqualTo("0.1.0");
            assertThat(listed.get("mode").getAsString()).isEqualTo("managed");
            assertThat(listed.getAsJsonObject("os").get("name").getAsString()).isEqualTo("Debian");
            assertThat(listed.getAsJsonArray("plugins").get(0).getAsJsonObject().get("bsn").getAsString()).isEqualTo("plugin.echo");
        }
        eventually("disconnected", () -> !s.server.gateway().isConnected(agent.agentId()));
    }

    @Test
    void aCommandQueuedWhileConnectedIsPushedAtOnce() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            String id = s.command(agent.agentId(), "agent.info", "{}");
            assertThat(a.expect("command").get("id").getAsString()).isEqualTo(id);
        }
    }

    @Test
    void aResultSentTwiceIsStoredOnceAndAckedTwice() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{}");
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            a.expect("command");
            a.send(WsAgent.result(id, "succeeded"));
            assertThat(a.expect("ack").getAsJsonArray("ids").get(0).getAsString()).isEqualTo(id);
            a.send(WsAgent.result(id, "succeeded"));
            assertThat(a.expect("ack").getAsJsonArray("ids").get(0).getAsString()).isEqualTo(id);
        }
        var results = s.operatorGet("/api/v1/results?agent=" + agent.agentId() + "&limit=10").json().getAsJsonArray();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).getAsJsonObject().get("agentId").getAsString()).isEqualTo(agent.agentId());
    }

    @Test
    void reconnectingRedispatchesACommandThatWasNotAccepted() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{}");
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            assertThat(a.expect("command").get("id").getAsString()).isEqualTo(id);
        }
        eventually("disconnected", () -> !s.server.gateway().isConnected(agent.agentId()));
        assertThat(state(id)).isEqualTo("dispatched");
        try (WsAgent again = s.connect(agent.token())) {
            again.hello(agent.agentId());
            assertThat(again.expect("command").get("id").getAsString()).isEqualTo(id);
            again.send("{\"type\":\"accepted\",\"id\":\"" + id + "\"}");
            eventually("accepted", () -> state(id).equals("accepted"));
        }
        // accepted commands are the agent's to finish: not sent again
        try (WsAgent third = s.connect(agent.token())) {
            third.hello(agent.agentId());
            String marker = s.command(agent.agentId(), "agent.info", "{}");
            assertThat(third.expect("command").get("id").getAsString()).isEqualTo(marker);
        }
    }

    @Test
    void aSecondConnectionOfTheSameAgentClosesTheFirstWith4409() throws Exception {
        try (WsAgent first = s.connect(agent.token()); WsAgent second = s.connect(agent.token())) {
            assertThat(first.expect("error").get("code").getAsString()).isEqualTo("replaced");
            assertThat(first.awaitClose()).isEqualTo(4409);
            second.hello(agent.agentId());
            String id = s.command(agent.agentId(), "agent.ping", "{}");
            assertThat(second.expect("command").get("id").getAsString()).isEqualTo(id);
            assertThat(s.server.gateway().isConnected(agent.agentId())).isTrue();
        }
    }

    @Test
    void aMalformedFrameClosesWith4400() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            a.send("{not json");
            assertThat(a.expect("error").get("code").getAsString()).isEqualTo("protocol_error");
            assertThat(a.awaitClose()).isEqualTo(4400);
        }
    }

    @Test
    void aFrameBeforeHelloClosesWith4400() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.send("{\"type\":\"accepted\",\"id\":\"x\"}");
            assertThat(a.expect("error").get("message").getAsString()).contains("hello");
            assertThat(a.awaitClose()).isEqualTo(4400);
        }
    }

    @Test
    void aFrameOverOneMebibyteClosesWith1009() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            String big = "{\"type\":\"event\",\"kind\":\"x\",\"data\":\"" + "a".repeat(1 << 20) + "\"}";
            a.ws.sendText(big, true);
            assertThat(a.awaitClose()).isEqualTo(1009);
        }
    }

    @Test
    void aFrameJustUnderOneMebibyteIsAccepted() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            String prefix = "{\"type\":\"event\",\"kind\":\"big\",\"data\":\"";
            String big = prefix + "a".repeat((1 << 20) - prefix.length() - 2) + "\"}";
            assertThat(big.length()).isEqualTo(1 << 20);
            a.send(big);
            eventually("the event stored", () -> s.server.store().countEvents(agent.agentId()) == 1);
            assertThat(a.closeCode).isNotDone();
        }
    }

    @Test
    void aBadAgentTokenClosesWith4401() throws Exception {
        try (WsAgent a = s.connect("not-a-token")) {
            assertThat(a.expect("error").get("code").getAsString()).isEqualTo("unauthorized");
            assertThat(a.awaitClose()).isEqualTo(4401);
        }
        try (WsAgent a = s.connect(null)) {
            assertThat(a.awaitClose()).isEqualTo(4401);
        }
    }

    @Test
    void unknownFrameTypesAreIgnoredAndEventsProgressCapabilitiesAreKept() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{\"sleepMs\":1000}");
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            a.expect("command");
            a.send("{\"type\":\"something-new\",\"x\":1}");
            a.send("{\"type\":\"progress\",\"id\":\"" + id + "\",\"percent\":50,\"message\":\"half\"}");
            a.send("{\"type\":\"event\",\"kind\":\"health\",\"time\":\"2026-11-24T10:00:00Z\",\"data\":{\"load\":0.5}}");
            a.send("{\"type\":\"capabilities\",\"plugins\":[{\"bsn\":\"plugin.disk\",\"version\":\"1.0.0\",\"state\":\"active\",\"actions\":[\"disk.list\"]}]}");
            eventually("progress visible", () -> {
                try {
                    JsonObject v = s.commandView(id);
                    return v.has("progress") && v.getAsJsonObject("progress").get("percent").getAsInt() == 50;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            eventually("event stored", () -> s.server.store().countEvents(agent.agentId()) == 1);
            eventually("plugins updated", () -> s.server.store().agent(agent.agentId()).plugins().contains("plugin.disk"));
            assertThat(a.closeCode).isNotDone();
        }
    }

    @Test
    void cancelOfADispatchedCommandIsSentToTheAgent() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            String id = s.command(agent.agentId(), "agent.ping", "{\"sleepMs\":60000}");
            a.expect("command");
            a.send("{\"type\":\"accepted\",\"id\":\"" + id + "\"}");
            eventually("accepted", () -> state(id).equals("accepted"));
            TestServer.Response rs = s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}");
            assertThat(rs.status()).as(rs.body()).isEqualTo(200);
            assertThat(rs.object().get("cancelRequested").getAsBoolean()).isTrue();
            JsonObject cancel = a.expect("cancel");
            assertThat(cancel.get("id").getAsString()).isEqualTo(id);
            a.send(WsAgent.result(id, "cancelled"));
            a.expect("ack");
            assertThat(s.commandView(id).getAsJsonObject("result").get("status").getAsString()).isEqualTo("cancelled");
            assertThat(s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}").status()).isEqualTo(409);
        }
    }

    @Test
    void aCommandLostWithItsConnectionAndThenCancelledIsSentAgainBeforeItsCancel() throws Exception {
        String id;
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            id = s.command(agent.agentId(), "agent.ping", "{\"sleepMs\":60000}");
            a.expect("command"); // and the connection drops before the agent records it
        }
        eventually("disconnected", () -> !s.server.store().agent(agent.agentId()).connected());
        assertThat(s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}").status()).isEqualTo(200);
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            assertThat(a.expect("command").get("id").getAsString()).isEqualTo(id);
            assertThat(a.expect("cancel").get("id").getAsString()).isEqualTo(id);
            a.send(WsAgent.result(id, "cancelled"));
            a.expect("ack");
            assertThat(s.commandView(id).getAsJsonObject("result").get("status").getAsString()).isEqualTo("cancelled");
        }
    }

    @Test
    void pingsAreAnsweredWithPongs() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            a.ping();
            assertThat(a.pongs.poll(5, java.util.concurrent.TimeUnit.SECONDS)).isNotNull();
        }
    }

    private String state(String id) {
        return s.server.store().command(id).state();
    }
}
