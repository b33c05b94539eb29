package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import server.TestServer.Response;
import server.TestServer.WsAgent;
import server.store.StoreLimits;

/** Issue 23, item 3: what one agent can make the server store is bounded (output, offline results, events). */
class AgentBoundsTest {
    @TempDir Path dir;
    TestServer s;

    @AfterEach
    void stop() {
        if (s != null) s.close();
    }

    private static String resultWithOutput(String id, String output) {
        JsonObject r = new JsonObject();
        r.addProperty("type", "result");
        r.addProperty("id", id);
        r.addProperty("status", "succeeded");
        r.addProperty("output", output);
        r.addProperty("outputTruncated", false);
        return r.toString();
    }

    @Test
    void aResultsOutputIsCappedAsTheAgentCapsIt() throws Exception {
        s = TestServer.start(dir);
        TestServer.Agent agent = s.enroll("cap-agent");
        String id = s.command(agent.agentId(), "agent.ping", "{}");
        // 1 MiB of output in a check-in (the agent would have kept 256 KiB): first and last 128 KiB are kept
        String output = "HEAD" + "é".repeat(300_000) + "x".repeat(200_000) + "TAIL";
        Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"results\":[" + resultWithOutput(id, output) + "]}");
        assertThat(rs.object().getAsJsonArray("ack")).hasSize(1);
        JsonObject stored = s.commandView(id).getAsJsonObject("result");
        String kept = stored.get("output").getAsString();
        assertThat(stored.get("outputTruncated").getAsBoolean()).isTrue();
        assertThat(kept.getBytes(StandardCharsets.UTF_8).length).isBetween(262_144 - 8, 262_144 + 128);
        assertThat(kept).startsWith("HEADé").endsWith("xTAIL").contains(" bytes of output omitted ...]").doesNotContain("\uFFFD");

        // over the WebSocket too; an output within the cap is left as it is
        String id2 = s.command(agent.agentId(), "agent.ping", "{}");
        String id3 = s.command(agent.agentId(), "agent.ping", "{}");
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            a.send(resultWithOutput(id2, "y".repeat(900_000)));
            a.send(resultWithOutput(id3, "z".repeat(200_000)));
            a.awaitFrame("ack");
        }
        TestServer.eventually("both stored", () -> s.server.store().result(id3) != null && s.server.store().result(id2) != null);
        JsonObject big = s.commandView(id2).getAsJsonObject("result");
        assertThat(big.get("outputTruncated").getAsBoolean()).isTrue();
        assertThat(big.get("output").getAsString().length()).isLessThan(262_144 + 128);
        JsonObject small = s.commandView(id3).getAsJsonObject("result");
        assertThat(small.get("outputTruncated").getAsBoolean()).isFalse();
        assertThat(small.get("output").getAsString()).hasSize(200_000);
    }

    @Test
    void offlineResultsBeyondTheAgentsBoundAreRefusedWith507AndNothingOfTheReportIsStored() throws Exception {
        s = TestServer.start(dir, OutpostServer.Limits.DEFAULTS.withStore(new StoreLimits(3, 500_000, 100, 1 << 20)));
        TestServer.Agent agent = s.enroll("quota-agent");
        TestServer.Agent other = s.enroll("quota-agent-2");
        Response two = s.post("/agent/v1/reports", agent.token(), report("t1", "t2"));
        assertThat(two.status()).as(two.body()).isEqualTo(200);
        Response over = s.post("/agent/v1/reports", agent.token(), report("t3", "t4"));
        assertThat(over.status()).as(over.body()).isEqualTo(507);
        assertThat(over.object().get("error").getAsString()).contains("at most 3 offline results").contains("results[1] (id 't4')")
            .contains("--max-offline-results");
        assertThat(s.operatorGet("/api/v1/results?agent=quota-agent").json().getAsJsonArray()).as("t3 was not kept either").hasSize(2);
        // a re-sent copy of what is stored is acked (it costs nothing); what fits still goes in
        assertThat(s.post("/agent/v1/reports", agent.token(), report("t1", "t2", "t3")).status()).isEqualTo(200);
        assertThat(s.operatorGet("/api/v1/results?agent=quota-agent").json().getAsJsonArray()).hasSize(3);
        // over the WebSocket, an offline result over the bound is not acked; the connection stays, and so do other agents
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            a.send(WsAgent.result("t9", "succeeded"));
            String id = s.command(agent.agentId(), "agent.ping", "{}");
            assertThat(a.expect("command").get("id").getAsString()).isEqualTo(id);
            a.send(WsAgent.result(id, "succeeded"));
            JsonArray acked = a.awaitFrame("ack").getAsJsonArray("ids");
            assertThat(acked.toString()).contains(id).doesNotContain("t9");
        }
        assertThat(s.post("/agent/v1/reports", other.token(), report("t1")).status()).isEqualTo(200);
        // bytes count too: two results of 200 KB fit in 500 KB, a third does not (while 3 results would)
        TestServer.Agent third = s.enroll("quota-agent-3");
        Response fits = s.post("/agent/v1/reports", third.token(), "{\"results\":[" + resultWithOutput("b1", "q".repeat(200_000)) + ","
            + resultWithOutput("b2", "q".repeat(200_000)) + "]}");
        assertThat(fits.status()).as(fits.body()).isEqualTo(200);
        Response tooMuch = s.post("/agent/v1/reports", third.token(), "{\"results\":[" + resultWithOutput("b3", "q".repeat(200_000)) + "]}");
        assertThat(tooMuch.status()).as(tooMuch.body()).isEqualTo(507);
        assertThat(tooMuch.object().get("error").getAsString()).contains("--max-offline-result-bytes");
    }

    @Test
    void anAgentsEventsAreAWindowTheOldestDroppedBeyondTheBound() throws Exception {
        s = TestServer.start(dir, OutpostServer.Limits.DEFAULTS.withStore(new StoreLimits(10, 1 << 20, 10, 1 << 20)));
        TestServer.Agent agent = s.enroll("event-agent");
        StringBuilder events = new StringBuilder();
        for (int i = 1; i <= 25; i++) {
            if (i > 1) events.append(',');
            events.append("{\"id\":\"e-").append(i).append("\",\"kind\":\"health\",\"time\":\"2026-11-24T10:00:00Z\",\"data\":{\"n\":")
                .append(i).append("}}");
        }
        Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"events\":[" + events + "]}");
        assertThat(rs.object().getAsJsonArray("ackEvents")).hasSize(25);
        long kept = s.server.store().countEvents(agent.agentId());
        assertThat(kept).isBetween(9L, 10L);
        JsonArray newest = s.operatorGet("/api/v1/events?agent=event-agent&limit=100").json().getAsJsonArray();
        assertThat(newest).hasSize((int) kept);
        assertThat(newest.get(0).getAsJsonObject().get("id").getAsString()).isEqualTo("e-25");
        assertThat(newest.get(newest.size() - 1).getAsJsonObject().getAsJsonObject("data").get("n").getAsInt())
            .as("the oldest went first").isEqualTo(26 - (int) kept);
    }

    private static String report(String... ids) {
        StringBuilder sb = new StringBuilder("{\"results\":[");
        for (int i = 0; i < ids.length; i++) sb.append(i == 0 ? "" : ",").append(WsAgent.result(ids[i], "succeeded"));
        return sb.append("]}").toString();
    }
}
