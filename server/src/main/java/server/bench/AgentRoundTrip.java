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

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.cli.ServerClient;

/**
 * Round trip of {@code agent.ping} through the server to a real agent: operator API → server → agent (durable
 * received, running, succeeded) → server stores the result → visible to the operator. Prints p50/p99 of the
 * round trip, sequentially, and the throughput of durable commands over the agent's one WebSocket.
 * <p>Usage: {@code java -cp outpost-server.jar server.bench.AgentRoundTrip SERVER_DIR [ROUND_TRIPS] [BURST]}
 */
public final class AgentRoundTrip {
    private AgentRoundTrip() {}

    public static void main(String[] args) throws Exception {
        ServerClient api = ServerClient.fromServerDir(Path.of(args[0]));
        int trips = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int burst = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
        String agent = null;
        for (JsonElement a : api.get("/api/v1/agents").getAsJsonArray()) {
            if (a.getAsJsonObject().get("connected").getAsBoolean()) agent = a.getAsJsonObject().get("agentId").getAsString();
        }
        if (agent == null) throw new IllegalStateException("no agent is connected to the server in " + args[0]);

        for (int i = 0; i < 100; i++) roundTrip(api, agent); // warm-up: JIT on both sides
        long[] nanos = new long[trips];
        for (int i = 0; i < trips; i++) nanos[i] = roundTrip(api, agent);
        Arrays.sort(nanos);

        long t0 = System.nanoTime();
        ExecutorService senders = Executors.newFixedThreadPool(8);
        List<Future<String>> sent = new ArrayList<>();
        for (int i = 0; i < burst; i++) {
            String a = agent;
            sent.add(senders.submit(() -> send(api, a)));
        }
        Set<String> pending = new HashSet<>();
        for (Future<String> f : sent) pending.add(f.get());
        senders.shutdown();
        while (!pending.isEmpty()) {
            for (String id : results(api, new ArrayList<>(pending))) pending.remove(id);
            if (!pending.isEmpty()) Thread.sleep(20);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("round trip agent.ping through the server (%d sequential): p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
            trips, nanos[trips / 2] / 1e6, nanos[(int) (trips * 0.99)] / 1e6, nanos[trips - 1] / 1e6);
        System.out.printf("throughput over one WebSocket: %d durable commands in %.2f s = %.0f commands/s%n",
            burst, seconds, burst / seconds);
    }

    private static long roundTrip(ServerClient api, String agent) throws Exception {
        long t0 = System.nanoTime();
        String id = send(api, agent);
        // poll gently: a busy loop of HTTPS queries would steal the CPU the server and the agent need
        while (results(api, List.of(id)).isEmpty()) Thread.sleep(0, 500_000);
        return System.nanoTime() - t0;
    }

    private static String send(ServerClient api, String agent) throws Exception {
        JsonObject c = new JsonObject();
        c.addProperty("agentId", agent);
        c.addProperty("action", "agent.ping");
        return api.post("/api/v1/commands", c).getAsJsonObject().getAsJsonArray("commands").get(0).getAsJsonObject()
            .get("id").getAsString();
    }

    private static List<String> results(ServerClient api, List<String> ids) throws Exception {
        List<String> done = new ArrayList<>();
        for (int from = 0; from < ids.size(); from += 5000) {
            JsonObject q = new JsonObject();
            JsonArray chunk = new JsonArray();
            ids.subList(from, Math.min(ids.size(), from + 5000)).forEach(chunk::add);
            q.add("ids", chunk);
            for (JsonElement r : api.post("/api/v1/results/query", q).getAsJsonObject().getAsJsonArray("results")) {
                done.add(r.getAsJsonObject().get("id").getAsString());
            }
        }
        return done;
    }
}
