package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import server.TestServer.Response;
import server.TestServer.WsAgent;

/**
 * Issue 23, item 1: a result attaches only to a command issued to the agent that sends it. An offline report, or a
 * result for an id the server never issued, lives under its agent and never answers for a command, made before or after.
 */
class ResultOwnershipTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent a;
    TestServer.Agent b;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        a = s.enroll("agent-a");
        b = s.enroll("agent-b");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    @Test
    void aReportedResultForAnIdNotYetIssuedDoesNotPreemptTheCommandMadeLaterUnderThatId() throws Exception {
        // agent B forges a result for an id the operator has not used yet: stored under B, acked (B's report is B's)
        Response forged = s.post("/agent/v1/reports", b.token(), "{\"results\":[" + WsAgent.result("preempt-1", "succeeded") + "]}");
        assertThat(forged.status()).as(forged.body()).isEqualTo(200);
        assertThat(forged.object().getAsJsonArray("ack").get(0).getAsString()).isEqualTo("preempt-1");

        try (WsAgent agent = s.connect(a.token())) {
            agent.hello(a.agentId());
            // the operator sends A a command under that id and waits a moment: B's result must not answer it
            Response created = s.operatorPost("/api/v1/commands?wait=0.5",
                "{\"agentId\":\"agent-a\",\"action\":\"agent.ping\",\"id\":\"preempt-1\"}");
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            assertThat(created.object().getAsJsonArray("results")).as("no result yet: A has not run it").isEmpty();
            assertThat(agent.expect("command").get("id").getAsString()).isEqualTo("preempt-1");
            assertThat(s.commandView("preempt-1").get("result").isJsonNull()).isTrue();

            // A's real result is stored and acked, and is the command's
            agent.send(WsAgent.result("preempt-1", "failed"));
            assertThat(agent.awaitFrame("ack").getAsJsonArray("ids").get(0).getAsString()).isEqualTo("preempt-1");
        }
        JsonObject view = s.commandView("preempt-1");
        assertThat(view.get("state").getAsString()).isEqualTo("done");
        assertThat(view.getAsJsonObject("result").get("status").getAsString()).isEqualTo("failed");
        JsonArray queried = s.operatorPost("/api/v1/results/query", "{\"ids\":[\"preempt-1\"]}").object().getAsJsonArray("results");
        assertThat(queried).hasSize(1);
        assertThat(queried.get(0).getAsJsonObject().get("agentId").getAsString()).isEqualTo("agent-a");
        // B's forged result is still there, as B's offline result
        JsonArray bs = s.operatorGet("/api/v1/results?agent=agent-b").json().getAsJsonArray();
        assertThat(bs).hasSize(1);
        assertThat(bs.get(0).getAsJsonObject().get("offline").getAsBoolean()).isTrue();
    }

    @Test
    void aResultOverTheWebSocketForAnIdNeverIssuedIsTheAgentsOwnAndAnswersNoLaterCommand() throws Exception {
        try (WsAgent agent = s.connect(b.token())) {
            agent.hello(b.agentId());
            agent.send(WsAgent.result("later-1", "succeeded"));
            assertThat(agent.awaitFrame("ack").getAsJsonArray("ids").get(0).getAsString()).isEqualTo("later-1");
        }
        String created = s.operatorPost("/api/v1/commands?wait=0.5", "{\"agentId\":\"agent-a\",\"action\":\"agent.ping\",\"id\":\"later-1\"}").body();
        assertThat(created).doesNotContain("succeeded");
        assertThat(s.commandView("later-1").get("result").isJsonNull()).isTrue();
        Response checkin = s.post("/agent/v1/checkin", a.token(), "{\"results\":[" + WsAgent.result("later-1", "failed") + "]}");
        assertThat(checkin.object().getAsJsonArray("ack").get(0).getAsString()).isEqualTo("later-1");
        assertThat(s.commandView("later-1").getAsJsonObject("result").get("status").getAsString()).isEqualTo("failed");
    }

    @Test
    void aReportNeverTakesAnExistingCommandsIdNorItsResult() throws Exception {
        String id = s.command(a.agentId(), "agent.ping", "{}");
        // B reports a result under A's command id, and so does A itself: neither is the command's result
        assertThat(s.post("/agent/v1/reports", b.token(), "{\"results\":[" + WsAgent.result(id, "succeeded") + "]}").status()).isEqualTo(200);
        assertThat(s.post("/agent/v1/reports", a.token(), "{\"results\":[" + WsAgent.result(id, "succeeded") + "]}").status()).isEqualTo(200);
        assertThat(s.commandView(id).get("result").isJsonNull()).isTrue();
        assertThat(s.commandView(id).get("state").getAsString()).isEqualTo("queued");
        // the command's own result over a check-in is stored as the command's
        Response checkin = s.post("/agent/v1/checkin", a.token(), "{\"results\":[" + WsAgent.result(id, "failed") + "]}");
        assertThat(checkin.object().getAsJsonArray("ack").get(0).getAsString()).isEqualTo(id);
        assertThat(s.commandView(id).getAsJsonObject("result").get("status").getAsString()).isEqualTo("failed");
        // and another agent's check-in result for it is neither stored nor acked
        Response foreign = s.post("/agent/v1/checkin", b.token(), "{\"results\":[" + WsAgent.result(id, "succeeded") + "]}");
        assertThat(foreign.object().getAsJsonArray("ack")).isEmpty();
        assertThat(s.commandView(id).getAsJsonObject("result").get("status").getAsString()).isEqualTo("failed");
    }

    @Test
    void theSameReportUploadedTwiceStoresNothingTwice() throws Exception {
        String report = "{\"agentId\":\"agent-a\",\"results\":[" + WsAgent.result("task-1", "succeeded") + ","
            + WsAgent.result("task-2", "failed") + "],\"events\":[{\"id\":\"7b0e2f7e-0000-4000-8000-000000000001\","
            + "\"kind\":\"health\",\"time\":\"2026-11-24T10:00:00Z\",\"data\":{\"load\":1}}]}";
        for (int i = 0; i < 2; i++) {
            Response rs = s.post("/agent/v1/reports", a.token(), report);
            assertThat(rs.status()).as(rs.body()).isEqualTo(200);
            assertThat(rs.object().getAsJsonArray("ack")).hasSize(2);
            assertThat(rs.object().getAsJsonArray("ackEvents").get(0).getAsString()).isEqualTo("7b0e2f7e-0000-4000-8000-000000000001");
        }
        assertThat(s.operatorGet("/api/v1/results?agent=agent-a").json().getAsJsonArray()).hasSize(2);
        assertThat(s.server.store().countEvents("agent-a")).isEqualTo(1);
        // the same task ids from another agent are that agent's: nothing collides
        assertThat(s.post("/agent/v1/reports", b.token(), report).object().getAsJsonArray("ack")).hasSize(2);
        assertThat(s.operatorGet("/api/v1/results?agent=agent-b").json().getAsJsonArray()).hasSize(2);
    }
}
