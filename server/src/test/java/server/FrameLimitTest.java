package server;

import static org.assertj.core.api.Assertions.assertThat;
import static server.TestServer.eventually;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.TestServer.Response;
import server.TestServer.WsAgent;
import server.cli.OutpostCtl;

/**
 * Issue 23, item 2: a command bigger than the agent's frame limit is refused when made, never sent, and never blocks
 * the commands behind it; a cancel of a command the agent never accepted ends it.
 */
class FrameLimitTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;
    TestServer.Agent other;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("frame-agent");
        other = s.enroll("frame-agent-2");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    private static String command(String agentId, int padChars) {
        return "{\"agentId\":\"" + agentId + "\",\"action\":\"agent.ping\",\"params\":{\"pad\":\"" + "x".repeat(padChars) + "\"}}";
    }

    @Test
    void aCommandOverTheAgentsFrameLimitIs413NamingTheLimitAndNothingIsStored() throws Exception {
        // an agent that never said its limit gets the default, 1 MiB
        Response big = s.operatorPost("/api/v1/commands", command("frame-agent", 2 << 20));
        assertThat(big.status()).as(big.body()).isEqualTo(413);
        assertThat(big.object().get("error").getAsString()).contains("frame limit of 1048576 bytes").contains("frame-agent");
        // one that said 64 KiB in its hello gets that
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId(), 65536);
            Response over = s.operatorPost("/api/v1/commands", command("frame-agent", 70_000));
            assertThat(over.status()).as(over.body()).isEqualTo(413);
            assertThat(over.object().get("error").getAsString()).contains("frame limit of 65536 bytes");
            assertThat(s.operatorPost("/api/v1/commands", command("frame-agent", 60_000)).status()).isEqualTo(201);
            a.expect("command");
        }
        // batches and all: true check every target, and refuse the whole request
        Response batch = s.operatorPost("/api/v1/commands", "{\"commands\":[" + command("frame-agent-2", 10) + ","
            + command("frame-agent", 70_000) + "]}");
        assertThat(batch.status()).as(batch.body()).isEqualTo(413);
        assertThat(batch.object().get("error").getAsString()).startsWith("commands[1].").contains("agent 'frame-agent''s frame limit of 65536");
        Response all = s.operatorPost("/api/v1/commands", "{\"all\":true,\"action\":\"agent.ping\",\"params\":{\"pad\":\""
            + "x".repeat(70_000) + "\"}}");
        assertThat(all.status()).as(all.body()).isEqualTo(413);
        assertThat(s.operatorGet("/api/v1/results?limit=10").json().getAsJsonArray()).isEmpty();
        assertThat(count("frame-agent-2")).as("nothing of the refused batch is stored").isZero();
    }

    @Test
    void aStoredCommandThatNoLongerFitsIsNotSentEndsUndeliverableAndTheNextOneGetsThrough() throws Exception {
        String big;
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId(), 4 << 20); // the agent took 4 MiB frames then
            a.close();
        }
        eventually("disconnected", () -> !s.server.gateway().isConnected(agent.agentId()));
        Response created = s.operatorPost("/api/v1/commands", command("frame-agent", 2 << 20));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        big = created.object().getAsJsonArray("commands").get(0).getAsJsonObject().get("id").getAsString();
        String small = s.command(agent.agentId(), "agent.info", "{}");

        // it comes back with the default 1 MiB limit: the big one must not be sent (it would close the connection with
        // 4400, again at every reconnect), and the small one behind it must be
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId(), 1 << 20);
            JsonObject first = a.expect("command");
            assertThat(first.get("id").getAsString()).isEqualTo(small);
        }
        JsonObject view = s.commandView(big);
        assertThat(view.get("state").getAsString()).isEqualTo("undeliverable");
        JsonObject result = view.getAsJsonObject("result");
        assertThat(result.get("status").getAsString()).isEqualTo("rejected");
        assertThat(result.get("errorCode").getAsString()).isEqualTo("invalid_command");
        assertThat(result.get("error").getAsString()).contains("frame limit of 1048576 bytes");
        assertThat(s.operatorPost("/api/v1/commands/" + big + "/cancel", "{}").status()).isEqualTo(409);
    }

    @Test
    void aCommandOverTheLimitIsNotSentOverPollingEither() throws Exception {
        s.post("/agent/v1/checkin", agent.token(), "{\"hello\":{\"protocol\":1,\"maxFrameBytes\":4194304}}");
        String big = s.operatorPost("/api/v1/commands", command("frame-agent", 2 << 20)).object()
            .getAsJsonArray("commands").get(0).getAsJsonObject().get("id").getAsString();
        String small = s.command(agent.agentId(), "agent.info", "{}");
        Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"hello\":{\"protocol\":1,\"maxFrameBytes\":1048576}}");
        assertThat(rs.object().getAsJsonArray("commands")).hasSize(1);
        assertThat(rs.object().getAsJsonArray("commands").get(0).getAsJsonObject().get("id").getAsString()).isEqualTo(small);
        assertThat(s.commandView(big).get("state").getAsString()).isEqualTo("undeliverable");
    }

    @Test
    void cancellingADispatchedCommandTheAgentNeverAcceptedEndsIt() throws Exception {
        String id;
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            id = s.command(agent.agentId(), "agent.ping", "{\"sleepMs\":60000}");
            a.expect("command"); // and the agent never answers
            eventually("dispatched", () -> s.server.store().command(id).state().equals("dispatched"));
            Response cancelled = s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}");
            assertThat(cancelled.status()).as(cancelled.body()).isEqualTo(200);
            assertThat(cancelled.object().get("state").getAsString()).isEqualTo("cancelled");
            assertThat(cancelled.object().getAsJsonObject("result").get("status").getAsString()).isEqualTo("cancelled");
            assertThat(cancelled.object().getAsJsonObject("result").get("errorCode").getAsString()).isEqualTo("cancelled");
            assertThat(a.expect("cancel").get("id").getAsString()).isEqualTo(id);
        }
        // a wait for it ends at once, and outpostctl shows the state and the result
        Response waited = s.operatorPost("/api/v1/results/query?wait=20", "{\"ids\":[\"" + id + "\"]}");
        assertThat(waited.object().getAsJsonArray("results")).hasSize(1);
        StringWriter out = new StringWriter();
        int code = OutpostCtl.run(new String[] {"--server-dir", dir.toString(), "command", id}, new PrintWriter(out, true),
            new PrintWriter(new StringWriter(), true));
        assertThat(code).isZero();
        JsonObject shown = JsonParser.parseString(out.toString()).getAsJsonObject();
        assertThat(shown.get("state").getAsString()).isEqualTo("cancelled");
        assertThat(shown.getAsJsonObject("result").get("error").getAsString()).contains("before agent 'frame-agent' accepted it");
        assertThat(s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}").status()).isEqualTo(409);

        // if the agent had it after all, its own result replaces the server's
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            assertThat(a.expect("command").get("id").getAsString()).isEqualTo(id);
            assertThat(a.expect("cancel").get("id").getAsString()).isEqualTo(id);
            a.send(WsAgent.result(id, "succeeded"));
            a.awaitFrame("ack");
        }
        JsonObject after = s.commandView(id);
        assertThat(after.get("state").getAsString()).isEqualTo("done");
        assertThat(after.getAsJsonObject("result").get("status").getAsString()).isEqualTo("succeeded");
        // and it is sent no more
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            String marker = s.command(agent.agentId(), "agent.info", "{}");
            assertThat(a.expect("command").get("id").getAsString()).isEqualTo(marker);
        }
    }

    @Test
    void aCancelledCommandTheAgentThenAcceptsGetsOnlyItsCancelAgain() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{\"sleepMs\":60000}");
        s.post("/agent/v1/checkin", agent.token(), "{}");
        assertThat(s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}").object().get("state").getAsString()).isEqualTo("cancelled");
        Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"accepted\":[\"" + id + "\"]}");
        assertThat(rs.object().getAsJsonArray("commands")).isEmpty();
        assertThat(rs.object().getAsJsonArray("cancel").get(0).getAsString()).isEqualTo(id);
        Response result = s.post("/agent/v1/checkin", agent.token(), "{\"results\":[" + WsAgent.result(id, "cancelled") + "]}");
        assertThat(result.object().getAsJsonArray("ack").get(0).getAsString()).isEqualTo(id);
        assertThat(result.object().getAsJsonArray("cancel")).isEmpty();
        assertThat(s.commandView(id).get("state").getAsString()).isEqualTo("done");
    }

    @Test
    void theAcksOfABigBatchComeInFramesWithinTheAgentsLimit() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId(), 16384);
            // hold the store's writer so that 300 results commit in one batch: one ack frame would be ~24 KB
            java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
            s.server.store().write(c -> {
                holding.countDown();
                try {
                    hold.await(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            });
            try {
                assertThat(holding.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the writer is held").isTrue();
                for (int i = 0; i < 300; i++) a.send(WsAgent.result("offline-" + java.util.UUID.randomUUID() + "-" + "x".repeat(32), "succeeded"));
                eventually("300 results queued", () -> s.server.store().queuedWrites() >= 300);
            } finally {
                hold.countDown();
            }
            java.util.Set<String> acked = new java.util.HashSet<>();
            while (acked.size() < 300) {
                JsonObject ack = a.awaitFrame("ack");
                assertThat(ack.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).as("an ack frame").isLessThanOrEqualTo(16384);
                ack.getAsJsonArray("ids").forEach(id -> acked.add(id.getAsString()));
            }
            assertThat(a.closeCode).isNotDone();
        }
    }

    @Test
    void aHelloWithAMalformedMaxFrameBytesIsAProtocolErrorNamingTheField() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.send("{\"type\":\"hello\",\"protocol\":1,\"maxFrameBytes\":\"big\"}");
            assertThat(a.expect("error").get("message").getAsString()).contains("hello.maxFrameBytes must be a positive integer");
            assertThat(a.awaitClose()).isEqualTo(4400);
        }
    }

    private long count(String agentId) {
        return s.server.store().read(c -> {
            try (var ps = c.prepareStatement("SELECT count(*) FROM commands WHERE agent_id = ?")) {
                ps.setString(1, agentId);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }
}
