package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

import server.TestServer.Response;
import server.TestServer.WsAgent;

class CheckinAndReportsTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("poll-agent");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    @Test
    void aCheckInGetsQueuedCommandsAndItsResultsAreAcked() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{\"echo\":\"x\"}");
        Response first = s.post("/agent/v1/checkin", agent.token(),
            "{\"hello\":{\"protocol\":1,\"agentId\":\"poll-agent\",\"agentVersion\":\"0.1.0\",\"hostname\":\"p\",\"mode\":\"once\",\"plugins\":[]},"
                + "\"accepted\":[],\"results\":[],\"events\":[]}");
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        JsonObject body = first.object();
        assertThat(body.getAsJsonArray("ack")).isEmpty();
        assertThat(body.getAsJsonArray("cancel")).isEmpty();
        assertThat(body.get("nextCheckinSeconds").getAsInt()).isEqualTo(30);
        JsonObject cmd = body.getAsJsonArray("commands").get(0).getAsJsonObject();
        assertThat(cmd.get("id").getAsString()).isEqualTo(id);
        assertThat(cmd.get("action").getAsString()).isEqualTo("agent.ping");
        assertThat(cmd.getAsJsonObject("params").get("echo").getAsString()).isEqualTo("x");
        assertThat(s.commandView(id).get("state").getAsString()).isEqualTo("dispatched");

        Response second = s.post("/agent/v1/checkin", agent.token(),
            "{\"accepted\":[\"" + id + "\"],\"results\":[" + WsAgent.result(id, "succeeded") + "],"
                + "\"events\":[{\"type\":\"event\",\"kind\":\"health\",\"time\":\"2026-11-24T10:00:00Z\",\"data\":{}}]}");
        assertThat(second.status()).as(second.body()).isEqualTo(200);
        assertThat(second.object().getAsJsonArray("ack").get(0).getAsString()).isEqualTo(id);
        assertThat(second.object().getAsJsonArray("commands")).isEmpty();

        JsonObject view = s.commandView(id);
        assertThat(view.get("state").getAsString()).isEqualTo("done");
        assertThat(view.getAsJsonObject("result").get("status").getAsString()).isEqualTo("succeeded");
        assertThat(s.server.store().countEvents(agent.agentId())).isEqualTo(1);

        JsonObject listed = s.operatorGet("/api/v1/agents").json().getAsJsonArray().get(0).getAsJsonObject();
        assertThat(listed.get("mode").getAsString()).isEqualTo("once");
        assertThat(listed.get("transport").getAsString()).isEqualTo("poll");
        assertThat(listed.get("lastSeen").isJsonNull()).isFalse();
    }

    @Test
    void aResultCheckedInTwiceIsStoredOnceAndAckedTwice() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{}");
        String rq = "{\"results\":[" + WsAgent.result(id, "failed") + "]}";
        assertThat(s.post("/agent/v1/checkin", agent.token(), rq).object().getAsJsonArray("ack").get(0).getAsString()).isEqualTo(id);
        assertThat(s.post("/agent/v1/checkin", agent.token(), rq).object().getAsJsonArray("ack").get(0).getAsString()).isEqualTo(id);
        assertThat(s.operatorGet("/api/v1/results?agent=" + agent.agentId()).json().getAsJsonArray()).hasSize(1);
    }

    @Test
    void aCancelledDispatchedCommandIsListedUnderCancel() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{\"sleepMs\":60000}");
        s.post("/agent/v1/checkin", agent.token(), "{}");
        assertThat(s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}").status()).isEqualTo(200);
        Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"accepted\":[\"" + id + "\"]}");
        assertThat(rs.object().getAsJsonArray("cancel").get(0).getAsString()).isEqualTo(id);
        assertThat(rs.object().getAsJsonArray("commands")).isEmpty();
    }

    @Test
    void aDispatchedCommandCancelledBeforeItWasAcceptedIsSentAgainFollowedByItsCancel() throws Exception {
        // the answer that carried it may have been lost: without the command the agent would ignore the cancel
        // and the command would never get a result
        String id = s.command(agent.agentId(), "agent.ping", "{\"sleepMs\":60000}");
        assertThat(s.post("/agent/v1/checkin", agent.token(), "{}").object().getAsJsonArray("commands")).hasSize(1);
        assertThat(s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}").status()).isEqualTo(200);
        Response rs = s.post("/agent/v1/checkin", agent.token(), "{}");
        assertThat(rs.object().getAsJsonArray("commands").get(0).getAsJsonObject().get("id").getAsString()).isEqualTo(id);
        assertThat(rs.object().getAsJsonArray("cancel").get(0).getAsString()).isEqualTo(id);
    }

    @Test
    void aQueuedCommandCancelledBeforeAnyCheckInIsNeverSent() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{}");
        Response c = s.operatorPost("/api/v1/commands/" + id + "/cancel", "{}");
        assertThat(c.object().get("state").getAsString()).isEqualTo("cancelled");
        assertThat(s.post("/agent/v1/checkin", agent.token(), "{}").object().getAsJsonArray("commands")).isEmpty();
    }

    @Test
    void aCheckInWithoutTheAgentTokenIs401() throws Exception {
        assertThat(s.post("/agent/v1/checkin", null, "{}").status()).isEqualTo(401);
        assertThat(s.post("/agent/v1/checkin", "wrong", "{}").status()).isEqualTo(401);
    }

    @Test
    void aMalformedResultIsABadRequestNamingTheField() throws Exception {
        Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"results\":[{\"status\":\"succeeded\"}]}");
        assertThat(rs.status()).isEqualTo(400);
        assertThat(rs.object().get("error").getAsString()).isEqualTo("results[0].id is required");
    }

    @Test
    void anOfflineReportIsStoredAndAcked() throws Exception {
        Response rs = s.post("/agent/v1/reports", agent.token(), "{\"agentId\":\"poll-agent\",\"results\":["
            + WsAgent.result("offline-1", "succeeded") + "," + WsAgent.result("offline-2", "failed") + "],\"events\":[]}");
        assertThat(rs.status()).as(rs.body()).isEqualTo(200);
        assertThat(rs.object().getAsJsonArray("ack")).hasSize(2);
        var results = s.operatorGet("/api/v1/results?agent=poll-agent").json().getAsJsonArray();
        assertThat(results).hasSize(2);
        assertThat(results.get(0).getAsJsonObject().get("id").getAsString()).isEqualTo("offline-2"); // newest first
        assertThat(s.post("/agent/v1/reports", "wrong", "{}").status()).isEqualTo(401);
    }

    @Test
    void anAgentCannotStoreAResultForAnotherAgentsCommand() throws Exception {
        TestServer.Agent other = s.enroll("other");
        String id = s.command(other.agentId(), "agent.ping", "{}");
        Response rs = s.post("/agent/v1/checkin", agent.token(), "{\"results\":[" + WsAgent.result(id, "succeeded") + "]}");
        assertThat(rs.object().getAsJsonArray("ack")).isEmpty();
        assertThat(s.commandView(id).get("result").isJsonNull()).isTrue();
    }
}
