package server;

import static org.assertj.core.api.Assertions.assertThat;
import static server.TestServer.eventually;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import server.TestServer.Response;
import server.TestServer.WsAgent;

/** {@code ?wait=S}: the server holds the request until the results are stored, or answers what it has at the timeout. */
class ResultWaitTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("wait-agent");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    /** A POST answered on another thread, so the test can play the agent meanwhile. */
    private CompletableFuture<Response> postAsync(String path, String json) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return s.operatorPost(path, json);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void aCommandPostedWithWaitIsAnsweredAsSoonAsItsResultIsStored() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            long t0 = System.nanoTime();
            CompletableFuture<Response> answer = postAsync("/api/v1/commands?wait=20",
                "{\"agentId\":\"wait-agent\",\"action\":\"agent.ping\",\"params\":{\"echo\":42}}");
            String id = a.expect("command").get("id").getAsString();
            assertThat(answer).isNotDone();
            a.send("{\"type\":\"accepted\",\"id\":\"" + id + "\"}");
            a.send(WsAgent.result(id, "succeeded"));

            Response rs = answer.get(10, TimeUnit.SECONDS);
            assertThat(System.nanoTime() - t0).as("answered long before the 20 s wait").isLessThan(TimeUnit.SECONDS.toNanos(10));
            assertThat(rs.status()).as(rs.body()).isEqualTo(201);
            assertThat(rs.object().getAsJsonArray("commands").get(0).getAsJsonObject().get("id").getAsString()).isEqualTo(id);
            JsonArray results = rs.object().getAsJsonArray("results");
            assertThat(results).hasSize(1);
            JsonObject r = results.get(0).getAsJsonObject();
            assertThat(r.get("id").getAsString()).isEqualTo(id);
            assertThat(r.get("agentId").getAsString()).isEqualTo("wait-agent");
            assertThat(r.get("status").getAsString()).isEqualTo("succeeded");
            assertThat(r.getAsJsonObject("data").get("echo").getAsInt()).isEqualTo(42);
            assertThat(r.has("type")).isFalse();
            assertThat(r.has("receivedAt")).isTrue();
        }
        assertThat(s.server.gateway().waiters().waitedIds()).isZero();
    }

    @Test
    void aWaitThatTimesOutAnswersWithTheResultsItHas() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            long t0 = System.nanoTime();
            CompletableFuture<Response> answer = postAsync("/api/v1/commands?wait=1.5", """
                {"commands": [{"agentId": "wait-agent", "action": "agent.ping"}, {"agentId": "wait-agent", "action": "agent.ping"}]}""");
            String answered = a.expect("command").get("id").getAsString();
            a.expect("command");
            a.send(WsAgent.result(answered, "failed"));

            Response rs = answer.get(10, TimeUnit.SECONDS);
            assertThat(System.nanoTime() - t0).as("held for the wait").isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1400));
            assertThat(rs.status()).as(rs.body()).isEqualTo(201);
            assertThat(rs.object().getAsJsonArray("commands")).hasSize(2);
            JsonArray results = rs.object().getAsJsonArray("results");
            assertThat(results).hasSize(1);
            assertThat(results.get(0).getAsJsonObject().get("id").getAsString()).isEqualTo(answered);
            assertThat(results.get(0).getAsJsonObject().get("status").getAsString()).isEqualTo("failed");
        }
        assertThat(s.server.gateway().waiters().waitedIds()).as("a finished wait leaves nothing registered").isZero();
    }

    @Test
    void aResultsQueryWaitsForAResultDeliveredByCheckin() throws Exception {
        String id = s.command(agent.agentId(), "agent.ping", "{}");
        CompletableFuture<Response> answer = postAsync("/api/v1/results/query?wait=20", "{\"ids\":[\"" + id + "\"]}");
        eventually("the wait is registered", () -> s.server.gateway().waiters().waitedIds() == 1);
        assertThat(answer).isNotDone();
        Response checkin = s.post("/agent/v1/checkin", agent.token(), "{\"results\":[" + WsAgent.result(id, "succeeded") + "]}");
        assertThat(checkin.status()).as(checkin.body()).isEqualTo(200);

        Response rs = answer.get(10, TimeUnit.SECONDS);
        assertThat(rs.status()).as(rs.body()).isEqualTo(200);
        assertThat(rs.object().getAsJsonArray("results")).hasSize(1);
        assertThat(rs.object().getAsJsonArray("results").get(0).getAsJsonObject().get("id").getAsString()).isEqualTo(id);
    }

    @Test
    void untilAnyAnswersWithTheFirstResultAndAStoredResultIsAnsweredAtOnce() throws Exception {
        String done = s.command(agent.agentId(), "agent.ping", "{}");
        String open = s.command(agent.agentId(), "agent.ping", "{}");
        s.post("/agent/v1/checkin", agent.token(), "{\"results\":[" + WsAgent.result(done, "succeeded") + "]}");

        long t0 = System.nanoTime();
        Response any = s.operatorPost("/api/v1/results/query?wait=20&until=any", "{\"ids\":[\"" + done + "\",\"" + open + "\"]}");
        assertThat(any.status()).as(any.body()).isEqualTo(200);
        assertThat(any.object().getAsJsonArray("results")).hasSize(1);
        Response stored = s.operatorPost("/api/v1/results/query?wait=20", "{\"ids\":[\"" + done + "\"]}");
        assertThat(stored.object().getAsJsonArray("results")).hasSize(1);
        assertThat(System.nanoTime() - t0).as("neither waited").isLessThan(TimeUnit.SECONDS.toNanos(5));

        Response none = s.operatorPost("/api/v1/results/query?wait=0", "{\"ids\":[\"" + open + "\"]}");
        assertThat(none.status()).isEqualTo(200);
        assertThat(none.object().getAsJsonArray("results")).isEmpty();
        assertThat(s.server.gateway().waiters().waitedIds()).isZero();
    }

    @Test
    void badWaitParametersAre400NamingThem() throws Exception {
        String body = "{\"agentId\":\"wait-agent\",\"action\":\"agent.ping\"}";
        for (String q : new String[] {"wait=-1", "wait=abc", "wait=31", "wait=NaN"}) {
            Response rs = s.operatorPost("/api/v1/commands?" + q, body);
            assertThat(rs.status()).as(q).isEqualTo(400);
            assertThat(rs.object().get("error").getAsString()).contains("wait must be a number of seconds 0..30");
        }
        Response until = s.operatorPost("/api/v1/results/query?wait=1&until=some", "{\"ids\":[]}");
        assertThat(until.status()).isEqualTo(400);
        assertThat(until.object().get("error").getAsString()).contains("until must be 'all' or 'any', got 'some'");
        Response alone = s.operatorPost("/api/v1/results/query?until=any", "{\"ids\":[]}");
        assertThat(alone.status()).isEqualTo(400);
        assertThat(alone.object().get("error").getAsString()).contains("until goes with wait");
        Response emptyWait = s.operatorPost("/api/v1/results/query?wait=5", "{\"ids\":[]}");
        assertThat(emptyWait.status()).isEqualTo(200);
        assertThat(emptyWait.object().getAsJsonArray("results")).isEmpty();
    }
}
