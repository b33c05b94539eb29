package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** Issue 23, the polling items (15, 17): who decides the check-in interval, and duplicates answered as over WebSocket. */
class PollingHardeningIT {
    static final Duration T = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    /**
     * Item 15: with check_in_interval 5 and a server answering nextCheckinSeconds 30, a command arrives within about
     * 5 s, and a cancel sent while a 30 s command runs reaches it while it runs.
     */
    @Test
    void aPollingAgentKeepsItsOwnIntervalAndHearsACancelWhileACommandRuns() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0, 30)) {
            Operator op = new Operator(server.dir);
            Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("poll", "")); // check_in_interval 5
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent").toString())) {
                String agentId = server.awaitAgent(T, false);
                // just after a check-in: the next one is the agent's 5 s (±20 %) away, not the server's 30 s
                awaitNextCheckIn(op, agentId);
                long t0 = System.nanoTime();
                String id = op.send(agentId, "agent.ping", "{}", null);
                JsonObject r = op.awaitResult(id, T);
                Duration took = Duration.ofNanos(System.nanoTime() - t0);
                System.out.println("item 15: a command sent just after a check-in had its result after " + took.toMillis() + " ms");
                assertThat(r.get("status").getAsString()).isEqualTo("succeeded");
                assertThat(took).as("check_in_interval 5 s, not the server's 30 s").isLessThan(Duration.ofSeconds(9));

                String slow = op.send(agentId, "agent.ping", "{\"sleepMs\": 30000}", null);
                assertThat(op.awaitState(slow, "accepted", T)).as("the agent took the 30 s command").isTrue();
                long c0 = System.nanoTime();
                op.cancel(slow);
                JsonObject cancelled = op.awaitResult(slow, T);
                Duration reached = Duration.ofNanos(System.nanoTime() - c0);
                System.out.println("item 15: the cancel ended the running command after " + reached.toMillis() + " ms");
                assertThat(cancelled.get("status").getAsString()).as(cancelled.toString()).isEqualTo("cancelled");
                Duration ran = Duration.between(Instant.parse(cancelled.get("startedAt").getAsString()),
                    Instant.parse(cancelled.get("finishedAt").getAsString()));
                assertThat(ran).as("it was cancelled while it ran, not after its 30 s").isLessThan(Duration.ofSeconds(20));
                assertThat(reached).as("busy: check-ins every few seconds").isLessThan(Duration.ofSeconds(10));
            }
        }
    }

    private static void awaitNextCheckIn(Operator op, String agentId) throws Exception {
        String before = op.agent(agentId).get("lastSeen").getAsString();
        long end = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < end) {
            if (!before.equals(op.agent(agentId).get("lastSeen").getAsString())) return;
            Thread.sleep(50);
        }
        throw new AssertionError("no check-in of " + agentId + " within " + T);
    }

    /**
     * Item 17: over polling, a duplicate of a command that finished and whose result the server acked is answered, in
     * the next check-in, with the stored result (docs/protocol.md §6), and not run again.
     */
    @Test
    void overPollingADuplicateOfAFinishedAndAckedCommandIsAnsweredWithItsStoredResult() throws Exception {
        try (ScriptedServer server = ScriptedServer.start(dir.resolve("scripted"))) {
            String command = "{\"id\": \"dup-1\", \"action\": \"agent.ping\", \"params\": {\"echo\": \"once\"}, \"issuedAt\": \""
                + Instant.now() + "\"}";
            AtomicInteger phase = new AtomicInteger();
            AtomicReference<JsonObject> stored = new AtomicReference<>();
            java.util.concurrent.BlockingQueue<JsonObject> afterDuplicate = new java.util.concurrent.LinkedBlockingQueue<>();
            server.checkin = body -> {
                JsonObject result = null;
                for (JsonElement r : body.getAsJsonArray("results")) {
                    if (r.getAsJsonObject().get("id").getAsString().equals("dup-1")) result = r.getAsJsonObject();
                }
                switch (phase.get()) {
                    case 0:
                        phase.set(1);
                        return "{\"commands\": [" + command + "], \"nextCheckinSeconds\": 1}";
                    case 1:
                        if (result == null) return "{\"nextCheckinSeconds\": 1}";
                        stored.set(result);
                        phase.set(2);
                        return "{\"ack\": [\"dup-1\"], \"nextCheckinSeconds\": 1}";
                    case 2:
                        phase.set(3); // after the ack: the same command again, as a server that lost track would send it
                        return "{\"commands\": [" + command + "], \"nextCheckinSeconds\": 1}";
                    default:
                        afterDuplicate.add(body);
                        return "{\"nextCheckinSeconds\": 1}";
                }
            };
            Path config = AgentProcess.write(dir.resolve("agent.json"),
                server.agentConfig("\"transport\": \"poll\", \"check_in_interval\": 5, \"max_backoff_seconds\": 1"));
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent").toString())) {
                long end = System.nanoTime() + T.toNanos();
                while (phase.get() < 3 && System.nanoTime() < end) {
                    assertThat(agent.process.isAlive()).as(agent.stderr()).isTrue();
                    Thread.sleep(50);
                }
                assertThat(phase.get()).as("the script reached the duplicate; stderr:%n%s", agent.stderr()).isEqualTo(3);
                // the next check-in (at once after the duplicate, else within 1 s) carries the answer
                JsonObject next = afterDuplicate.poll(15, TimeUnit.SECONDS);
                assertThat(next).as("a check-in after the duplicate").isNotNull();
                JsonObject answered = null;
                for (JsonElement r : next.getAsJsonArray("results")) {
                    if (r.getAsJsonObject().get("id").getAsString().equals("dup-1")) answered = r.getAsJsonObject();
                }
                assertThat(answered).as("the stored result of dup-1 in the check-in after its duplicate: %s", next).isNotNull();
                assertThat(answered).as("the stored result, not a new run").isEqualTo(stored.get());
                assertThat(answered.get("status").getAsString()).isEqualTo("succeeded");
            }
        }
    }
}
