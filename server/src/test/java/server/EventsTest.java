package server;

import static org.assertj.core.api.Assertions.assertThat;
import static server.TestServer.eventually;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.TestServer.Response;
import server.TestServer.WsAgent;
import server.cli.OutpostCtl;

/** Issue 15: events carry ids, are stored once per (agent, id) and acked by id; the operator lists and follows them. */
class EventsTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;
    TestServer.Agent other;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("ev-agent");
        other = s.enroll("ev-agent-2");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    static String event(String id, String kind, String time, String data) {
        return "{\"type\":\"event\"," + (id == null ? "" : "\"id\":\"" + id + "\",") + "\"kind\":\"" + kind + "\",\"time\":\"" + time
            + "\",\"data\":" + data + "}";
    }

    @Test
    void overTheWebSocketAnEventIsStoredOnceAndAckedByIdInTheAckFrame() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId(), 1 << 20);
            a.send(event("ev-1", "health", "2026-11-24T10:00:00Z", "{\"load\":0.5}"));
            JsonObject ack = a.awaitFrame("ack");
            assertThat(ack.getAsJsonArray("events").get(0).getAsString()).isEqualTo("ev-1");
            assertThat(ack.getAsJsonArray("ids")).isEmpty();
            // re-sent after a reconnect: acked again, stored once
            a.send(event("ev-1", "health", "2026-11-24T10:00:00Z", "{\"load\":0.5}"));
            assertThat(a.awaitFrame("ack").getAsJsonArray("events").get(0).getAsString()).isEqualTo("ev-1");
            // an older agent's event has no id: stored each time, never acked by id
            a.send(event(null, "health", "2026-11-24T10:00:01Z", "{}"));
            String id = s.command(agent.agentId(), "agent.ping", "{}");
            a.expect("command");
            a.send(WsAgent.result(id, "succeeded"));
            JsonObject next = a.awaitFrame("ack");
            assertThat(next.getAsJsonArray("ids").get(0).getAsString()).isEqualTo(id);
            assertThat(next.has("events")).as("no event id to ack: " + next).isFalse();
        }
        eventually("two events stored", () -> s.server.store().countEvents(agent.agentId()) == 2);
    }

    @Test
    void aCheckInsEventsAreAckedInAckEvents() throws Exception {
        String body = "{\"events\":[" + event("ck-1", "alert", "2026-11-24T10:00:00Z", "{\"disk\":\"/\"}") + ","
            + event(null, "alert", "2026-11-24T10:00:00Z", "{}") + "]}";
        for (int i = 0; i < 2; i++) {
            Response rs = s.post("/agent/v1/checkin", agent.token(), body);
            assertThat(rs.status()).as(rs.body()).isEqualTo(200);
            assertThat(rs.object().getAsJsonArray("ackEvents").toString()).isEqualTo("[\"ck-1\"]");
        }
        assertThat(s.server.store().countEvents(agent.agentId())).as("ck-1 once, the id-less one twice").isEqualTo(3);
        Response bad = s.post("/agent/v1/checkin", agent.token(), "{\"events\":[{\"id\":7,\"kind\":\"x\"}]}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.object().get("error").getAsString()).contains("events[0].id must be a string");
    }

    @Test
    void theEventsApiFiltersAndListsNewestFirstOrAfterACursorOldestFirst() throws Exception {
        s.post("/agent/v1/checkin", agent.token(), "{\"events\":[" + event("a1", "health", "2026-11-24T10:00:00Z", "{\"n\":1}") + ","
            + event("a2", "alert", "2026-11-24T11:00:00.500Z", "{\"n\":2}") + "," + event("a3", "health", "2026-11-24T12:00:00Z", "{\"n\":3}") + "]}");
        s.post("/agent/v1/checkin", other.token(), "{\"events\":[" + event("b1", "health", "2026-11-24T13:00:00Z", "{\"n\":4}") + "]}");

        JsonArray all = s.operatorGet("/api/v1/events").json().getAsJsonArray();
        assertThat(ids(all)).containsExactly("b1", "a3", "a2", "a1");
        JsonObject first = all.get(3).getAsJsonObject();
        assertThat(first.get("agentId").getAsString()).isEqualTo("ev-agent");
        assertThat(first.get("kind").getAsString()).isEqualTo("health");
        assertThat(first.get("time").getAsString()).isEqualTo("2026-11-24T10:00:00Z");
        assertThat(first.getAsJsonObject("data").get("n").getAsInt()).isEqualTo(1);
        assertThat(first.get("receivedAt").getAsString()).isNotEmpty();
        assertThat(first.has("type")).isFalse();

        assertThat(ids(s.operatorGet("/api/v1/events?agent=ev-agent&kind=health").json().getAsJsonArray())).containsExactly("a3", "a1");
        assertThat(ids(s.operatorGet("/api/v1/events?since=2026-11-24T11:00:00Z").json().getAsJsonArray())).containsExactly("b1", "a3", "a2");
        assertThat(ids(s.operatorGet("/api/v1/events?limit=1").json().getAsJsonArray())).containsExactly("b1");
        long cursor = all.get(2).getAsJsonObject().get("seq").getAsLong(); // a2's
        assertThat(ids(s.operatorGet("/api/v1/events?after=" + cursor).json().getAsJsonArray())).containsExactly("a3", "b1");

        for (String[] bad : new String[][] {{"since=yesterday", "since must be an RFC 3339 time"}, {"limit=0", "limit must be an integer 1..10000"},
            {"after=-3", "after must be an event's seq"}, {"wait=5", "wait goes with after"}, {"agent=nobody", "agent 'nobody' is not an enrolled agent"},
            {"after=1&wait=99", "wait must be a number of seconds 0..30"}}) {
            Response rs = s.operatorGet("/api/v1/events?" + bad[0]);
            assertThat(rs.status()).as(bad[0]).isIn(400, 404);
            assertThat(rs.object().get("error").getAsString()).as(bad[0]).contains(bad[1]);
        }
    }

    @Test
    void aFollowerWaitsForTheNextEventWithoutPolling() throws Exception {
        s.post("/agent/v1/checkin", agent.token(), "{\"events\":[" + event("f1", "health", "2026-11-24T10:00:00Z", "{}") + "]}");
        long cursor = s.operatorGet("/api/v1/events").json().getAsJsonArray().get(0).getAsJsonObject().get("seq").getAsLong();
        long t0 = System.nanoTime();
        CompletableFuture<Response> followed = CompletableFuture.supplyAsync(() -> {
            try {
                return s.operatorGet("/api/v1/events?after=" + cursor + "&wait=20&kind=alert");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        eventually("the follower waits", () -> s.server.gateway().eventFeed().waiting() == 1);
        // an event of another kind wakes it, it reads nothing for it and waits again; then an alert answers it
        s.post("/agent/v1/checkin", agent.token(), "{\"events\":[" + event("f2", "health", "2026-11-24T10:00:01Z", "{}") + "]}");
        eventually("waiting again", () -> s.server.gateway().eventFeed().waiting() == 1);
        assertThat(followed).isNotDone();
        try (WsAgent a = s.connect(other.token())) {
            a.hello(other.agentId());
            a.send(event("f3", "alert", "2026-11-24T10:00:02Z", "{\"x\":1}"));
            Response rs = followed.get(10, TimeUnit.SECONDS);
            assertThat(System.nanoTime() - t0).as("long before the 20 s").isLessThan(TimeUnit.SECONDS.toNanos(10));
            assertThat(ids(rs.json().getAsJsonArray())).containsExactly("f3");
        }
        Response none = s.operatorGet("/api/v1/events?after=" + Long.MAX_VALUE / 2 + "&wait=0.3");
        assertThat(none.json().getAsJsonArray()).isEmpty();
        assertThat(s.server.gateway().eventFeed().waiting()).isZero();
    }

    @Test
    void outpostctlEventsPrintsOneLinePerEventAndFollowsUntilInterrupted() throws Exception {
        s.post("/agent/v1/checkin", agent.token(), "{\"events\":[" + event("c1", "health", "2026-11-24T10:00:00Z", "{\"n\":1}") + ","
            + event("c2", "alert", "2026-11-24T10:00:01Z", "{\"n\":2}") + "]}");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = OutpostCtl.run(new String[] {"--server-dir", dir.toString(), "events", "--agent", "ev-agent"},
            new PrintWriter(out, true), new PrintWriter(err, true));
        assertThat(code).as(err.toString()).isZero();
        List<String> lines = out.toString().lines().toList();
        assertThat(lines).hasSize(2);
        JsonObject line = JsonParser.parseString(lines.get(0)).getAsJsonObject();
        assertThat(line.get("id").getAsString()).as("oldest first").isEqualTo("c1");
        assertThat(line.keySet()).contains("agentId", "id", "kind", "time", "data", "receivedAt");

        StringWriter followed = new StringWriter();
        Thread follower = new Thread(() -> OutpostCtl.run(new String[] {"--server-dir", dir.toString(), "events", "--kind", "alert",
            "--follow"}, new PrintWriter(followed, true), new PrintWriter(new StringWriter(), true)));
        follower.start();
        eventually("the first alert printed", () -> followed.toString().contains("\"c2\""));
        eventually("following", () -> s.server.gateway().eventFeed().waiting() == 1);
        s.post("/agent/v1/checkin", agent.token(), "{\"events\":[" + event("c3", "alert", "2026-11-24T10:00:02Z", "{}") + ","
            + event("c4", "health", "2026-11-24T10:00:03Z", "{}") + "]}");
        eventually("the new alert printed", () -> followed.toString().contains("\"c3\""));
        follower.interrupt();
        follower.join(10_000);
        assertThat(follower.isAlive()).as("the follower stopped when interrupted").isFalse();
        assertThat(followed.toString().lines().map(l -> JsonParser.parseString(l).getAsJsonObject().get("id").getAsString()))
            .containsExactly("c2", "c3");
    }

    private static List<String> ids(JsonArray events) {
        return events.asList().stream().map(e -> e.getAsJsonObject().get("id").getAsString()).toList();
    }
}
