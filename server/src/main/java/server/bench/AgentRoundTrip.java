package server.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.cli.ServerClient;

/**
 * Round trip of {@code agent.ping} through the server to a real agent: operator API → server → agent (durable
 * received, running, succeeded) → server stores the result → back to the operator. The round trip is one request,
 * {@code POST /api/v1/commands?wait=S}, which the server answers once the result is stored; p50/p99 of those, one at
 * a time. Then the throughput of durable commands over the agent's one WebSocket: batches of commands, several
 * in flight, each request waiting for its batch's results.
 * <p>Usage: {@code java -cp outpost-server.jar server.bench.AgentRoundTrip SERVER_DIR [ROUND_TRIPS] [BURST] [BATCH] [IN_FLIGHT]}
 */
public final class AgentRoundTrip {
    private static final int WAIT_SECONDS = 30;

    private AgentRoundTrip() {}

    public static void main(String[] args) throws Exception {
        ServerClient api = ServerClient.fromServerDir(Path.of(args[0]));
        int trips = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int burst = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 250;
        int inFlight = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        String agent = null;
        for (JsonElement a : api.get("/api/v1/agents").getAsJsonArray()) {
            if (a.getAsJsonObject().get("connected").getAsBoolean()) agent = a.getAsJsonObject().get("agentId").getAsString();
        }
        if (agent == null) throw new IllegalStateException("no agent is connected to the server in " + args[0]);

        for (int i = 0; i < 100; i++) roundTrip(api, agent); // warm-up: JIT on both sides
        long[] nanos = new long[trips];
        for (int i = 0; i < trips; i++) nanos[i] = roundTrip(api, agent);
        Arrays.sort(nanos);

        burst(api, agent, Math.min(burst, 1000), batch, inFlight); // warm-up: the batch path's JIT, as above
        long t0 = System.nanoTime();
        int failed = burst(api, agent, burst, batch, inFlight);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("round trip agent.ping through the server (%d sequential, one POST ?wait each): p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
            trips, nanos[trips / 2] / 1e6, nanos[(int) (trips * 0.99)] / 1e6, nanos[trips - 1] / 1e6);
        System.out.printf("throughput over one WebSocket: %d durable commands in %.2f s = %.0f commands/s (batches of %d, %d in flight)%s%n",
            burst, seconds, burst / seconds, batch, inFlight, failed == 0 ? "" : "; " + failed + " did not succeed");
    }

    /** {@code n} commands in batches, {@code inFlight} requests at a time; returns how many did not succeed. */
    private static int burst(ServerClient api, String agent, int n, int batch, int inFlight) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        ExecutorService senders = Executors.newFixedThreadPool(inFlight);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < inFlight; t++) {
                running.add(senders.submit(() -> {
                    for (int from; (from = next.getAndAdd(batch)) < n; ) failed.addAndGet(sendBatch(api, agent, Math.min(batch, n - from)));
                    return null;
                }));
            }
            for (Future<?> f : running) f.get();
        } finally {
            senders.shutdown();
        }
        return failed.get();
    }

    private static long roundTrip(ServerClient api, String agent) throws Exception {
        long t0 = System.nanoTime();
        JsonObject answer = api.post("/api/v1/commands?wait=" + WAIT_SECONDS, ping(agent)).getAsJsonObject();
        long t = System.nanoTime() - t0;
        JsonArray results = answer.getAsJsonArray("results");
        if (results.size() != 1 || !"succeeded".equals(results.get(0).getAsJsonObject().get("status").getAsString())) {
            throw new IllegalStateException("agent.ping did not succeed within " + WAIT_SECONDS + " s: " + answer);
        }
        return t;
    }

    private static JsonObject ping(String agent) {
        JsonObject c = new JsonObject();
        c.addProperty("agentId", agent);
        c.addProperty("action", "agent.ping");
        return c;
    }

    /** Sends {@code n} commands in one request that waits for their results; returns how many did not succeed. */
    private static int sendBatch(ServerClient api, String agent, int n) throws Exception {
        JsonArray commands = new JsonArray(n);
        for (int i = 0; i < n; i++) commands.add(ping(agent));
        JsonObject body = new JsonObject();
        body.add("commands", commands);
        JsonObject answer = api.post("/api/v1/commands?wait=" + WAIT_SECONDS, body).getAsJsonObject();
        Set<String> pending = new HashSet<>();
        for (JsonElement c : answer.getAsJsonArray("commands")) pending.add(c.getAsJsonObject().get("id").getAsString());
        int failed = 0;
        JsonArray results = answer.getAsJsonArray("results");
        while (true) {
            for (JsonElement r : results) {
                pending.remove(r.getAsJsonObject().get("id").getAsString());
                if (!"succeeded".equals(r.getAsJsonObject().get("status").getAsString())) failed++;
            }
            if (pending.isEmpty()) return failed;
            // not all within one wait: ask again for the rest (a slow agent, not the normal case)
            JsonObject q = new JsonObject();
            JsonArray ids = new JsonArray();
            pending.forEach(ids::add);
            q.add("ids", ids);
            results = api.post("/api/v1/results/query?wait=" + WAIT_SECONDS, q).getAsJsonObject().getAsJsonArray("results");
            if (results.isEmpty()) throw new IllegalStateException(pending.size() + " commands got no result within " + WAIT_SECONDS + " s");
        }
    }
}
