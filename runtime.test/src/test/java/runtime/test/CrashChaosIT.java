package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/**
 * Issue 23's crash-consistency promise, measured: bursts of commands of a plugin that records every execution
 * durably (FixturePlugins.recorder), while the agents, the server or all of them are SIGKILLed at random moments.
 * Afterwards no id ran twice, every id has exactly one result on the server, and every success left its one trace.
 * Two agents, one per transport, share the server and every cycle: {@link #CYCLES} kill cycles for each transport (20
 * in all), run side by side so that CI pays for 10 (the seed is printed, -Dchaos.seed=N replays a run).
 */
class CrashChaosIT {
    static final int CYCLES = 10;
    /** Who is killed in each cycle, shuffled with the seed: each kind at least twice. "agents" kills both agents. */
    static final List<String> VICTIMS = List.of("agents", "agents", "agents", "agents", "agents", "server", "server",
        "server", "all", "all");
    static final int BURST = 12;
    static final Duration T = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    /** One agent of the test: its transport, how it is started, what it recorded, what was sent to it. */
    private static final class Side {
        final String transport;
        final String[] run;
        final Path recorded;
        final Set<String> ids = new LinkedHashSet<>();
        AgentProcess agent;
        String agentId;

        Side(String transport, String[] run, Path recorded) {
            this.transport = transport;
            this.run = run;
            this.recorded = recorded;
        }
    }

    @Test
    void nothingRunsTwiceAndEveryCommandHasOneResultWhileAgentsAndServerAreKilledAtRandom() throws Exception {
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.println("chaos: seed " + seed);
        long begin = System.nanoTime();
        Path serverDir = dir.resolve("server");
        ServerProcess server = ServerProcess.start(serverDir, 0);
        List<Side> sides = new ArrayList<>();
        Map<String, Integer> kills = new TreeMap<>();
        try {
            int port = server.port();
            Operator op = new Operator(serverDir);
            for (String transport : List.of("websocket", "poll")) {
                Path config = AgentProcess.write(dir.resolve(transport + ".json"), server.agentConfig(transport,
                    "\"agent_id\": \"chaos-" + transport + "\"")); // one host, two agents: each needs its own id
                Side side = new Side(transport, new String[] {"run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent-" + transport).toString()}, dir.resolve("executions-" + transport + ".txt"));
                side.agent = AgentProcess.start(side.run);
                sides.add(side);
            }
            for (Side side : sides) side.agentId = awaitAgent(op, side.agent);
            installRecorder(op, sides.stream().map(side -> side.agentId).toList());
            List<String> victims = new ArrayList<>(VICTIMS);
            java.util.Collections.shuffle(victims, random);

            for (int cycle = 0; cycle < CYCLES; cycle++) {
                for (Side side : sides) side.agent.awaitStderr("ready: agent", T);
                JsonArray burst = new JsonArray();
                for (Side side : sides) {
                    for (int i = 0; i < BURST; i++) {
                        JsonObject c = new JsonObject();
                        c.addProperty("agentId", side.agentId);
                        c.addProperty("action", "record.append");
                        JsonObject params = new JsonObject();
                        params.addProperty("file", side.recorded.toString());
                        params.addProperty("sleepMs", random.nextInt(300));
                        c.add("params", params);
                        burst.add(c);
                    }
                }
                JsonObject batch = new JsonObject();
                batch.add("commands", burst);
                JsonArray sent = op.api.post("/api/v1/commands", batch).getAsJsonObject().getAsJsonArray("commands");
                for (var c : sent) {
                    String agentId = c.getAsJsonObject().get("agentId").getAsString();
                    sides.stream().filter(side -> side.agentId.equals(agentId)).findFirst().orElseThrow()
                        .ids.add(c.getAsJsonObject().get("id").getAsString());
                }

                Thread.sleep(50 + random.nextInt(1500)); // a random moment into the burst
                String victim = victims.get(cycle);
                kills.merge(victim, 1, Integer::sum);
                if (!victim.equals("agents")) kill(server.process);
                if (!victim.equals("server")) for (Side side : sides) kill(side.agent);
                // both agents start at once, and beside the server: their starts overlap as after a host's reboot
                if (!victim.equals("server")) for (Side side : sides) side.agent = AgentProcess.start(side.run);
                if (!victim.equals("agents")) server = ServerProcess.start(serverDir, port);
            }

            List<String> ids = new ArrayList<>();
            sides.forEach(side -> ids.addAll(side.ids));
            List<JsonObject> results = awaitAllResults(op, ids);
            Map<String, Long> perId = results.stream().collect(Collectors.groupingBy(o -> o.get("id").getAsString(),
                Collectors.counting()));
            assertThat(perId.keySet()).as("every id has a result").containsExactlyInAnyOrderElementsOf(ids);
            assertThat(perId).as("exactly one result per id").allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1L));
            assertThat(results).as("a command either ran or was interrupted by a kill")
                .allSatisfy(o -> assertThat(o.get("status").getAsString()).as(o.toString()).isIn("succeeded", "interrupted"));
            Map<String, String> status = new HashMap<>();
            results.forEach(o -> status.put(o.get("id").getAsString(), o.get("status").getAsString()));

            StringBuilder summary = new StringBuilder();
            for (Side side : sides) {
                List<String> ran = Files.exists(side.recorded) ? Files.readAllLines(side.recorded) : List.of();
                Map<String, Long> runs = ran.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
                assertThat(runs).as("no id ran twice over %s", side.transport)
                    .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1L));
                assertThat(side.ids).as("only commands sent to the %s agent ran there", side.transport).containsAll(runs.keySet());
                for (String id : side.ids) {
                    if (status.get(id).equals("succeeded")) {
                        assertThat(runs).as("the success of %s left its trace", id).containsKey(id);
                    }
                }
                Map<String, Long> byStatus = side.ids.stream().map(status::get).collect(Collectors.groupingBy(
                    Function.identity(), TreeMap::new, Collectors.counting()));
                summary.append(", ").append(side.transport).append(": ").append(side.ids.size()).append(" commands ")
                    .append(byStatus).append(", ").append(runs.size()).append(" executions recorded");
            }
            System.out.println("chaos: " + CYCLES + " cycles over each transport, kills " + kills + summary + ", in "
                + Duration.ofNanos(System.nanoTime() - begin).toSeconds() + " s");
        } finally {
            for (Side side : sides) if (side.agent != null) side.agent.close();
            server.close();
        }
    }

    /**
     * The case behind the chaos test's rejections before the fix: a command of a plugin installed at runtime, recorded
     * (accepted) but not yet started when the agent is killed, runs after the restart, once its plugin is up again,
     * instead of being rejected as an unknown action.
     */
    @Test
    void aCommandReceivedButNotStartedWhenTheAgentIsKilledRunsAfterTheRestart() throws Exception {
        Path recorded = dir.resolve("executions.txt");
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Operator op = new Operator(server.dir);
            // one worker: the second command waits, received, behind the first
            Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket",
                "\"max_concurrent_commands\": 1"));
            String[] run = {"run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString()};
            String slow, queued;
            try (AgentProcess agent = AgentProcess.start(run)) {
                String agentId = server.awaitAgent(T, true);
                installRecorder(op, List.of(agentId));
                slow = op.send(agentId, "agent.ping", "{\"sleepMs\": 120000}", null);
                queued = op.send(agentId, "record.append", "{\"file\": \"" + recorded + "\"}", null);
                assertThat(op.awaitState(slow, "accepted", T)).isTrue();
                assertThat(op.awaitState(queued, "accepted", T)).as("the agent recorded the queued command").isTrue();
                kill(agent);
            }
            try (AgentProcess again = AgentProcess.start(run)) {
                JsonObject r = op.awaitResult(queued, T);
                assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
                assertThat(Files.readAllLines(recorded)).containsExactly(queued);
                assertThat(op.awaitResult(slow, T).get("status").getAsString()).isEqualTo("interrupted");
            }
        }
    }

    /** The agent's id (from its ready line), once the server has seen it (through the API: no outpostctl JVM per look). */
    private static String awaitAgent(Operator op, AgentProcess agent) throws Exception {
        agent.awaitStderr("ready: agent ", T);
        String log = agent.stderr();
        int at = log.indexOf("ready: agent ") + "ready: agent ".length();
        String agentId = log.substring(at, log.indexOf(',', at));
        long end = System.nanoTime() + T.toNanos();
        do {
            for (var a : op.api.get("/api/v1/agents").getAsJsonArray()) {
                JsonObject o = a.getAsJsonObject();
                if (o.get("agentId").getAsString().equals(agentId) && !o.get("lastSeen").isJsonNull()) return agentId;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < end);
        throw new AssertionError("agent " + agentId + " not seen by the server within " + T);
    }

    /** Uploads the recording plugin and installs it through the server on each agent, as outpostctl plugin push does. */
    private void installRecorder(Operator op, List<String> agentIds) throws Exception {
        Path jar = FixturePlugins.recorder().build(dir.resolve("jars"));
        JsonObject uploaded = op.api.postBytes("/api/v1/bundles", "application/java-archive", Files.readAllBytes(jar))
            .getAsJsonObject();
        List<String> installs = new ArrayList<>();
        for (String agentId : agentIds) {
            installs.add(op.send(agentId, "plugin.install", "{\"url\": \"" + uploaded.get("url").getAsString()
                + "\", \"sha256\": \"" + uploaded.get("sha256").getAsString() + "\"}", null));
        }
        for (String id : installs) {
            JsonObject r = op.awaitResult(id, T);
            assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
        }
    }

    private static void kill(AgentProcess p) throws Exception {
        p.process.destroyForcibly(); // SIGKILL
        assertThat(p.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    private static List<JsonObject> awaitAllResults(Operator op, List<String> ids) throws Exception {
        long end = System.nanoTime() + T.toNanos();
        List<JsonObject> results;
        do {
            results = op.results(ids);
            if (results.stream().map(o -> o.get("id").getAsString()).distinct().count() == ids.size()) return results;
            Thread.sleep(500);
        } while (System.nanoTime() < end);
        Set<String> missing = new LinkedHashSet<>(ids);
        results.forEach(o -> missing.remove(o.get("id").getAsString()));
        throw new AssertionError(missing.size() + " of " + ids.size() + " commands have no result within " + T + ": "
            + missing.stream().limit(10).toList());
    }
}
