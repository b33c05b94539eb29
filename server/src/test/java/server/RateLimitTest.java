package server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import server.TestServer.Response;
import server.http.Guard;

/**
 * Issue 23, item 3: enrolment and refused authentication are rate-limited per source address (429 with Retry-After),
 * and a flood of refusals costs a few log lines, not one per attempt.
 */
class RateLimitTest {
    @TempDir Path dir;
    TestServer s;
    final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    final Logger guardLog = Logger.getLogger(Guard.class.getName());
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    void start() throws Exception {
        guardLog.addHandler(capture);
        s = TestServer.start(dir, OutpostServer.Limits.DEFAULTS.withEnrol(new Guard.Rate(1, 3)).withAuthFailures(new Guard.Rate(1, 3)));
    }

    @AfterEach
    void stop() {
        s.close();
        guardLog.removeHandler(capture);
    }

    @Test
    void enrolmentsBeyondTheBurstAre429WithRetryAfter() throws Exception {
        for (int i = 0; i < 3; i++) s.enroll("burst-" + i);
        Response fourth = s.post("/agent/v1/enroll", null, "{\"enrollmentToken\":\"" + s.enrollmentToken + "\",\"machineId\":\"burst-3\"}");
        assertThat(fourth.status()).as(fourth.body()).isEqualTo(429);
        assertThat(fourth.object().get("error").getAsString()).contains("too many enrolments from this address");
        HttpResponse<String> raw = s.http.send(HttpRequest.newBuilder(s.base.resolve("/agent/v1/enroll"))
            .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(raw.statusCode()).isEqualTo(429);
        // one token a minute: the next comes within 60 s
        assertThat(Long.parseLong(raw.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 60L);
        assertThat(s.operatorGet("/api/v1/agents").json().getAsJsonArray()).hasSize(3);
    }

    @Test
    void refusedAuthenticationsBeyondTheBurstAre429OnEveryEndpointAndLoggedInSummary() throws Exception {
        for (int i = 0; i < 3; i++) assertThat(s.get("/api/v1/agents", "wrong-" + i).status()).isEqualTo(401);
        int logLinesAfterThree = logged.size();
        // now the address is refused before its credentials are looked at: right ones too, on every endpoint
        for (int i = 0; i < 50; i++) {
            Response rs = s.post("/agent/v1/checkin", "wrong", "{}");
            assertThat(rs.status()).isEqualTo(429);
        }
        HttpResponse<String> op = s.http.send(HttpRequest.newBuilder(s.base.resolve("/api/v1/agents"))
            .header("Authorization", "Bearer " + s.operatorToken).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(op.statusCode()).isEqualTo(429);
        assertThat(op.headers().firstValue("Retry-After")).isPresent();
        assertThat(op.body()).contains("too many refused authentications from this address");
        URI ws = URI.create(s.base.toString().replaceFirst("^https", "wss") + "/agent/v1/connect");
        assertThatThrownBy(() -> s.http.newWebSocketBuilder().subprotocols("outpost.v1").header("Authorization", "Bearer x")
            .connectTimeout(Duration.ofSeconds(5)).buildAsync(ws, new java.net.http.WebSocket.Listener() {}).get(10, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .satisfies(e -> assertThat(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode()).isEqualTo(429));

        // the first refusal and the first 429 were logged at once; the other 50-odd wait for the summary
        assertThat(logLinesAfterThree).as("three refusals: one line").isEqualTo(1);
        assertThat(logged).hasSizeLessThanOrEqualTo(2);
        s.server.guard().flush();
        assertThat(logged.stream().map(LogRecord::getMessage))
            .anySatisfy(m -> assertThat(m).startsWith("refused authentication: 2 more since the last summary: 127.0.0.1 ×2 ("))
            // 50 check-ins, the operator's request and the WebSocket: 52, the first of them logged at once
            .anySatisfy(m -> assertThat(m).startsWith("rate-limited (429): 51 more since the last summary: 127.0.0.1 ×51 ("));
        int before = logged.size();
        s.server.guard().flush();
        assertThat(logged).as("nothing new: no summary").hasSize(before);
    }
}
