package server.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLContext;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import server.cli.ServerClient;
import server.pki.Pem;

/**
 * A load tool: N simulated agents on the WebSocket transport against a running server. Each enrols, says hello,
 * pings every heartbeat and answers every command at once with a succeeded result. With {@code --fanout} it
 * queues one {@code agent.ping} for all agents through the operator API and measures until every result is acked
 * (the server acks a result only once it is committed to its store). Prints one JSON summary line.
 *
 * <pre>java -Xmx2g -cp server/target/outpost-server.jar server.bench.SimulatedAgents --server-dir D --agents 5000 --fanout</pre>
 */
@Command(name = "simulated-agents", mixinStandardHelpOptions = true,
    description = "Open N simulated WebSocket agents against an Outpost server; optionally fan one command out to all.")
public final class SimulatedAgents implements Callable<Integer> {
    @Option(names = "--server-dir", required = true, paramLabel = "D", description = "the server's data dir (server.url, ca.pem, enrollment.token, operator.token)")
    Path serverDir;
    @Option(names = "--agents", defaultValue = "1000", paramLabel = "N", description = "how many agents (default: ${DEFAULT-VALUE})")
    int agents;
    @Option(names = "--connect-concurrency", defaultValue = "200", paramLabel = "C", description = "TLS handshakes in flight at once (default: ${DEFAULT-VALUE})")
    int connectConcurrency;
    @Option(names = "--heartbeat", defaultValue = "30", paramLabel = "S", description = "seconds between each agent's pings (default: ${DEFAULT-VALUE})")
    int heartbeat;
    @Option(names = "--fanout", description = "queue one agent.ping for all agents and time it until every result is acked")
    boolean fanout;
    @Option(names = "--fanout-timeout", defaultValue = "120", paramLabel = "S", description = "give up on the fan-out after S seconds (default: ${DEFAULT-VALUE})")
    int fanoutTimeout;
    @Option(names = "--hold", defaultValue = "0", paramLabel = "S", description = "keep the agents connected S more seconds before closing (default: ${DEFAULT-VALUE})")
    int hold;
    @Option(names = "--credentials", paramLabel = "F", description = "reuse agent credentials from F (agentId<TAB>token lines), enrolling and appending the missing ones")
    Path credentials;
    @Option(names = "--prefix", defaultValue = "sim-", paramLabel = "P", description = "machineId prefix (default: ${DEFAULT-VALUE})")
    String prefix;
    @Option(names = "--clients", defaultValue = "4", paramLabel = "K", description = "HTTP clients (each has one selector thread) to spread the sockets over (default: ${DEFAULT-VALUE})")
    int clients;

    private final AtomicInteger welcomed = new AtomicInteger();
    private final AtomicInteger commandsReceived = new AtomicInteger();
    private final AtomicInteger resultsAcked = new AtomicInteger();
    private final AtomicInteger closedUnexpectedly = new AtomicInteger();
    private final AtomicLong lastCommandNanos = new AtomicLong();
    private final AtomicLong lastAckNanos = new AtomicLong();
    private final ConcurrentHashMap<Integer, AtomicInteger> closeCodes = new ConcurrentHashMap<>();
    private volatile CountDownLatch allAcked = new CountDownLatch(0);
    private volatile boolean closing;

    public static void main(String[] args) {
        System.exit(new CommandLine(new SimulatedAgents()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        URI base = ServerClient.readUrl(serverDir.resolve("server.url"));
        String enrollmentToken = ServerClient.readToken(serverDir.resolve("enrollment.token"));
        SSLContext tls = Pem.clientContext(serverDir.resolve("ca.pem"), null, null);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
            Thread t = new Thread(r, "sim");
            t.setDaemon(true);
            return t;
        });
        List<HttpClient> https = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            https.add(HttpClient.newBuilder().sslContext(tls).executor(pool).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(30)).build());
        }
        JsonObject summary = new JsonObject();
        summary.addProperty("agents", agents);

        long t0 = System.nanoTime();
        List<Sim> sims = enrol(https.get(0), base, enrollmentToken);
        summary.addProperty("enrolSeconds", seconds(System.nanoTime() - t0));

        long t1 = System.nanoTime();
        connectAll(https, base, sims);
        summary.addProperty("connectSeconds", seconds(System.nanoTime() - t1));
        summary.addProperty("connected", welcomed.get());
        System.err.printf("simulated-agents: %d of %d agents connected in %.1f s%n", welcomed.get(), agents, seconds(System.nanoTime() - t1));

        ScheduledExecutorService pinger = Executors.newSingleThreadScheduledExecutor();
        long periodMicros = Math.max(1, heartbeat * 1_000_000L / Math.max(1, sims.size()));
        AtomicInteger next = new AtomicInteger();
        // spread the pings over the heartbeat interval, as independent agents would
        pinger.scheduleAtFixedRate(() -> {
            Sim s = sims.get(Math.floorMod(next.getAndIncrement(), sims.size()));
            if (s.open) s.ping();
        }, periodMicros, periodMicros, TimeUnit.MICROSECONDS);

        if (fanout) {
            ServerClient operator = ServerClient.fromServerDir(serverDir);
            allAcked = new CountDownLatch(welcomed.get());
            JsonObject rq = new JsonObject();
            rq.addProperty("all", true);
            rq.addProperty("action", "agent.ping");
            JsonObject params = new JsonObject();
            params.addProperty("echo", "fan-out");
            rq.add("params", params);
            long f0 = System.nanoTime();
            JsonElement created = operator.post("/api/v1/commands", rq);
            long posted = System.nanoTime();
            int commands = created.getAsJsonObject().getAsJsonArray("commands").size();
            boolean done = allAcked.await(fanoutTimeout, TimeUnit.SECONDS);
            JsonObject f = new JsonObject();
            f.addProperty("commands", commands);
            f.addProperty("postSeconds", seconds(posted - f0));
            f.addProperty("commandsReceived", commandsReceived.get());
            f.addProperty("allCommandsReceivedSeconds", seconds(lastCommandNanos.get() - f0));
            f.addProperty("resultsAcked", resultsAcked.get());
            f.addProperty("allResultsAckedSeconds", done ? seconds(lastAckNanos.get() - f0) : -1);
            f.addProperty("complete", done);
            summary.add("fanout", f);
            System.err.printf("simulated-agents: fan-out of %d commands: %s%n", commands,
                done ? String.format("all results acked in %.2f s", seconds(lastAckNanos.get() - f0))
                    : resultsAcked.get() + " acked within " + fanoutTimeout + " s");
        }
        if (hold > 0) {
            System.err.printf("simulated-agents: holding %d connections for %d s%n", welcomed.get(), hold);
            Thread.sleep(hold * 1000L);
        }
        summary.addProperty("stillConnected", sims.stream().filter(s -> s.open).count());
        summary.addProperty("closedByServer", closedUnexpectedly.get());
        JsonObject codes = new JsonObject();
        closeCodes.forEach((k, v) -> codes.addProperty(String.valueOf(k), v.get()));
        summary.add("closeCodes", codes);
        summary.addProperty("clientHeapMiB", (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20);
        closing = true;
        pinger.shutdownNow();
        for (Sim s : sims) s.close();
        System.out.println(summary);
        boolean ok = welcomed.get() == agents && (!fanout || summary.getAsJsonObject("fanout").get("complete").getAsBoolean());
        return ok ? 0 : 1;
    }

    private static double seconds(long nanos) {
        return Math.round(nanos / 1e7) / 100.0;
    }

    // ---------------------------------------------------------------- enrolment

    private List<Sim> enrol(HttpClient http, URI base, String enrollmentToken) throws Exception {
        List<Sim> sims = new ArrayList<>(agents);
        java.util.Map<String, String> known = new java.util.LinkedHashMap<>();
        if (credentials != null && Files.exists(credentials)) {
            for (String line : Files.readAllLines(credentials)) {
                String[] kv = line.split("\t");
                if (kv.length == 2) known.put(kv[0], kv[1]);
            }
        }
        List<String[]> fresh = java.util.Collections.synchronizedList(new ArrayList<>());
        Semaphore inFlight = new Semaphore(64);
        List<CompletableFuture<Void>> all = new ArrayList<>();
        List<String> knownIds = new ArrayList<>(known.keySet());
        for (int i = 0; i < agents; i++) {
            Sim s = new Sim(i);
            sims.add(s);
            if (i < knownIds.size()) {
                s.agentId = knownIds.get(i);
                s.token = known.get(s.agentId);
                continue;
            }
            JsonObject rq = new JsonObject();
            rq.addProperty("enrollmentToken", enrollmentToken);
            rq.addProperty("hostname", prefix + i);
            rq.addProperty("machineId", prefix + i);
            inFlight.acquire();
            all.add(http.sendAsync(HttpRequest.newBuilder(base.resolve("/agent/v1/enroll")).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(rq.toString())).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).thenAccept(rs -> {
                    if (rs.statusCode() == 429) {
                        throw new IllegalStateException("enrol answered 429: the server rate-limits enrolments per source address;"
                            + " start it with --enroll-per-minute 0 for this tool");
                    }
                    if (rs.statusCode() != 200) throw new IllegalStateException("enrol answered " + rs.statusCode() + ": " + rs.body());
                    JsonObject o = JsonParser.parseString(rs.body()).getAsJsonObject();
                    s.agentId = o.get("agentId").getAsString();
                    s.token = o.get("agentToken").getAsString();
                    fresh.add(new String[] {s.agentId, s.token});
                }).whenComplete((v, e) -> inFlight.release()));
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(10, TimeUnit.MINUTES);
        if (credentials != null && !fresh.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (String[] kv : fresh) sb.append(kv[0]).append('\t').append(kv[1]).append('\n');
            Files.writeString(credentials, sb.toString(), StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
        return sims;
    }

    // ---------------------------------------------------------------- connecting

    private void connectAll(List<HttpClient> https, URI base, List<Sim> sims) throws InterruptedException {
        URI ws = URI.create(base.toString().replaceFirst("^https", "wss") + "/agent/v1/connect");
        Semaphore inFlight = new Semaphore(connectConcurrency);
        CountDownLatch done = new CountDownLatch(sims.size());
        for (Sim s : sims) {
            inFlight.acquire();
            https.get(s.index % https.size()).newWebSocketBuilder().subprotocols("outpost.v1")
                .header("Authorization", "Bearer " + s.token).connectTimeout(Duration.ofSeconds(60))
                .buildAsync(ws, s)
                .whenComplete((w, e) -> {
                    if (e != null) {
                        System.err.println("simulated-agents: agent " + s.agentId + " could not connect: " + e);
                        inFlight.release();
                        done.countDown();
                    } else {
                        s.welcome.whenComplete((v, e2) -> {
                            inFlight.release();
                            done.countDown();
                        });
                    }
                });
        }
        done.await(10, TimeUnit.MINUTES);
    }

    /** One simulated agent. The JDK's WebSocket allows one outstanding send: sends are chained. */
    private final class Sim implements WebSocket.Listener {
        final int index;
        String agentId;
        String token;
        volatile WebSocket ws;
        volatile boolean open;
        final CompletableFuture<Void> welcome = new CompletableFuture<>();
        private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);
        private StringBuilder partial;

        Sim(int index) {
            this.index = index;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            ws = webSocket;
            open = true;
            webSocket.request(1);
            JsonObject hello = new JsonObject();
            hello.addProperty("type", "hello");
            hello.addProperty("protocol", 1);
            hello.addProperty("agentId", agentId);
            hello.addProperty("agentVersion", "simulated");
            hello.addProperty("hostname", prefix + index);
            JsonObject os = new JsonObject();
            os.addProperty("name", "Simulated");
            os.addProperty("version", "1");
            os.addProperty("kernel", "sim");
            os.addProperty("arch", "amd64");
            hello.add("os", os);
            hello.addProperty("mode", "managed");
            hello.add("plugins", new JsonArray());
            send(hello.toString());
        }

        synchronized void send(String text) {
            tail = tail.thenCompose(v -> ws.sendText(text, true)).exceptionally(e -> null);
        }

        synchronized void ping() {
            tail = tail.thenCompose(v -> ws.sendPing(ByteBuffer.allocate(0))).exceptionally(e -> null);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            String text;
            if (partial == null && last) {
                text = data.toString();
            } else {
                if (partial == null) partial = new StringBuilder();
                partial.append(data);
                if (!last) {
                    webSocket.request(1);
                    return null;
                }
                text = partial.toString();
                partial = null;
            }
            webSocket.request(1);
            handle(JsonParser.parseString(text).getAsJsonObject());
            return null;
        }

        private void handle(JsonObject f) {
            switch (f.get("type").getAsString()) {
                case "welcome" -> {
                    if (!welcome.isDone()) {
                        welcomed.incrementAndGet(); // before complete(): its dependents count the agents connected
                        welcome.complete(null);
                    }
                }
                case "command" -> {
                    commandsReceived.incrementAndGet();
                    lastCommandNanos.accumulateAndGet(System.nanoTime(), Math::max);
                    String id = f.get("id").getAsString();
                    String started = Instant.now().toString();
                    send("{\"type\":\"accepted\",\"id\":\"" + id + "\"}");
                    JsonObject r = new JsonObject();
                    r.addProperty("type", "result");
                    r.addProperty("id", id);
                    r.addProperty("status", "succeeded");
                    r.addProperty("output", "");
                    r.addProperty("outputTruncated", false);
                    JsonObject data = new JsonObject();
                    JsonElement params = f.get("params");
                    data.add("echo", params != null && params.isJsonObject() && params.getAsJsonObject().has("echo")
                        ? params.getAsJsonObject().get("echo") : null);
                    r.add("data", data);
                    r.addProperty("startedAt", started);
                    r.addProperty("finishedAt", Instant.now().toString());
                    send(r.toString());
                }
                case "ack" -> {
                    for (JsonElement id : f.getAsJsonArray("ids")) {
                        resultsAcked.incrementAndGet();
                        lastAckNanos.accumulateAndGet(System.nanoTime(), Math::max);
                        allAcked.countDown();
                    }
                }
                case "error" -> System.err.println("simulated-agents: agent " + agentId + " got error " + f);
                default -> { }
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            open = false;
            closeCodes.computeIfAbsent(statusCode, k -> new AtomicInteger()).incrementAndGet();
            if (!closing) closedUnexpectedly.incrementAndGet();
            welcome.completeExceptionally(new IOException("closed " + statusCode + " " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            open = false;
            if (!closing) {
                closedUnexpectedly.incrementAndGet();
                System.err.println("simulated-agents: agent " + agentId + ": " + error);
            }
            welcome.completeExceptionally(error);
        }

        void close() {
            WebSocket w = ws;
            if (w != null && open) w.sendClose(WebSocket.NORMAL_CLOSURE, "bench over");
        }
    }
}
