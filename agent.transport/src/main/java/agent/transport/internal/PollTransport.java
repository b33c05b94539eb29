package agent.transport.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import agent.api.Command;
import agent.api.Result;
import agent.transport.AgentLink;
import agent.transport.Frames;
import agent.transport.Transport;
import agent.transport.TransportSettings;

/**
 * HTTPS check-in (PROTOCOL.md §4): every {@code check_in_interval} ±20 %, at once after a command finishes, and in
 * one-shot mode until nothing is queued, running or unacked. Same core behaviour as the WebSocket.
 */
final class PollTransport implements Transport {
    private static final Logger LOG = Logger.getLogger("agent.transport");
    private static final int MAX_RESULTS_PER_CHECKIN = 100;

    private final TransportSettings s;
    private final AgentLink link;
    private final HttpClient http;
    private final Backoff backoff;
    private final ScheduledExecutorService timer = Threads.scheduled("outpost-checkin");
    private final ConcurrentLinkedQueue<String> accepted = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<JsonObject> events = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    private volatile String state = "not checked in yet";
    private volatile int nextCheckinSeconds;
    private ScheduledFuture<?> next; // guarded by this

    PollTransport(TransportSettings s, AgentLink link, HttpClient http) {
        this.s = s;
        this.link = link;
        this.http = http;
        this.backoff = new Backoff(s.maxBackoffSeconds);
        this.nextCheckinSeconds = s.checkInInterval;
    }

    @Override
    public void start() {
        scheduleIn(0);
    }

    private synchronized void scheduleIn(long delayMs) {
        if (closed) return;
        if (next != null && next.getDelay(TimeUnit.MILLISECONDS) <= delayMs && !next.isDone()) return; // sooner one pending
        if (next != null) next.cancel(false);
        next = timer.schedule(this::cycle, delayMs, TimeUnit.MILLISECONDS);
    }

    private void cycle() {
        synchronized (this) {
            next = null; // this run is under way; only a later one counts as pending
        }
        long delay;
        try {
            checkIn();
            backoff.reset();
            double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
            delay = (long) (nextCheckinSeconds * 1000L * jitter);
        } catch (Credentials.Unauthorized e) {
            delay = backoff.capMs();
            LOG.severe("check-in refused: " + e.getMessage() + "; retrying in " + delay / 1000 + " s");
        } catch (IOException | RuntimeException e) {
            delay = backoff.nextDelayMs();
            LOG.warning("check-in at " + s.serverUrl + " failed: " + WebSocketTransport.describe(e) + "; retrying in "
                + delay + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        scheduleIn(delay);
    }

    /** One check-in: what we have out, what the server has in. Accepted ids and events are re-queued on failure. */
    synchronized int checkIn() throws IOException, Credentials.Unauthorized, InterruptedException {
        Credentials creds = Credentials.loadOrEnroll(http, s);
        if (s.serverUrl.getScheme().equals("http")) {
            LOG.warning("checking in at " + s.serverUrl + " WITHOUT TLS (insecure_http is set; development only)");
        }
        List<String> sentAccepted = drain(accepted);
        List<JsonObject> sentEvents = drain(events);
        List<Result> results = link.outbox();
        if (results.size() > MAX_RESULTS_PER_CHECKIN) results = results.subList(0, MAX_RESULTS_PER_CHECKIN);
        JsonObject body = new JsonObject();
        JsonObject hello = Frames.GSON.toJsonTree(link.hello()).getAsJsonObject();
        hello.addProperty("agentId", creds.agentId); // the id the server gave at enrolment
        body.add("hello", hello);
        body.add("accepted", Frames.GSON.toJsonTree(sentAccepted));
        JsonArray rs = new JsonArray();
        for (Result r : results) rs.add(Frames.result(r));
        body.add("results", rs);
        JsonArray es = new JsonArray();
        sentEvents.forEach(es::add);
        body.add("events", es);
        URI uri = s.serverUrl.resolve("/agent/v1/checkin");
        HttpResponse<String> resp;
        try {
            resp = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + creds.token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Frames.GSON.toJson(body))).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            accepted.addAll(sentAccepted);
            events.addAll(sentEvents);
            throw e;
        }
        if (resp.statusCode() == 401) {
            accepted.addAll(sentAccepted);
            events.addAll(sentEvents);
            throw new Credentials.Unauthorized("the server at " + uri + " refused the agent's credentials (HTTP 401)");
        }
        if (resp.statusCode() != 200) {
            accepted.addAll(sentAccepted);
            events.addAll(sentEvents);
            throw new IOException("HTTP " + resp.statusCode() + " from " + uri);
        }
        JsonObject answer;
        try {
            JsonElement e = Frames.parse(resp.body(), "check-in answer");
            if (!e.isJsonObject()) throw new Frames.FrameException("check-in answer is not a JSON object");
            answer = e.getAsJsonObject();
        } catch (Frames.FrameException e) {
            // what we sent may not have been stored: results stay in the outbox, ids and events go again
            accepted.addAll(sentAccepted);
            events.addAll(sentEvents);
            throw new IOException(e.getMessage());
        }
        state = "checked in at " + s.serverUrl + " at " + Instant.now();
        List<String> acked = strings(answer, "ack");
        if (!acked.isEmpty()) link.acked(acked);
        int received = 0;
        List<Command> valid = new ArrayList<>();
        if (answer.has("commands") && answer.get("commands").isJsonArray()) {
            for (JsonElement c : answer.getAsJsonArray("commands")) {
                received++;
                if (!c.isJsonObject()) {
                    link.invalidCommand(null, "a command in the check-in answer is not a JSON object");
                    continue;
                }
                Command cmd;
                try {
                    cmd = Frames.command(c, "command");
                } catch (Frames.FrameException e) {
                    if (!valid.isEmpty()) { // the commands before it first, in the order the server sent them
                        link.commands(List.copyOf(valid));
                        valid.clear();
                    }
                    JsonElement id = c.getAsJsonObject().get("id");
                    link.invalidCommand(id != null && id.isJsonPrimitive() ? id.getAsString() : null, e.getMessage());
                    continue;
                }
                valid.add(cmd);
            }
        }
        if (!valid.isEmpty()) link.commands(valid); // one durable write for the whole answer
        // after the commands: a command the server sends again with its cancel (it may never have arrived) is known
        for (String id : strings(answer, "cancel")) link.cancel(id);
        if (answer.has("nextCheckinSeconds") && answer.get("nextCheckinSeconds").isJsonPrimitive()) {
            nextCheckinSeconds = Math.max(1, Math.min(86400, answer.get("nextCheckinSeconds").getAsInt()));
        }
        return received;
    }

    @Override
    public boolean runOnce(long timeoutSeconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < end) {
            try {
                int got = checkIn();
                backoff.reset();
                if (got == 0 && !link.busy() && link.outbox().isEmpty() && accepted.isEmpty()) return true;
                // wait for running commands to finish (or a short pause), then deliver
                while (link.busy() && System.nanoTime() < end) Thread.sleep(100);
            } catch (Credentials.Unauthorized e) {
                LOG.severe("check-in refused: " + e.getMessage());
                return false;
            } catch (IOException | RuntimeException e) {
                long delay = Math.min(backoff.nextDelayMs(), TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()));
                LOG.warning("check-in at " + s.serverUrl + " failed: " + WebSocketTransport.describe(e) + "; retrying in "
                    + Math.max(0, delay) + " ms");
                if (delay > 0) Thread.sleep(delay);
            }
        }
        return false;
    }

    @Override
    public void accepted(String id) {
        accepted.add(id);
        scheduleIn(1000); // let the server know soon, batched with whatever else comes
    }

    @Override
    public void result(Result result) {
        scheduleIn(0); // at once: results are not held back (PROTOCOL.md §4)
    }

    @Override
    public void progress(String id, Integer percent, String message) {
        // live only over the WebSocket; a poll would only carry stale progress
    }

    @Override
    public void event(String kind, Object data) {
        JsonObject o = new JsonObject();
        o.addProperty("kind", kind);
        o.addProperty("time", Instant.now().toString());
        o.add("data", Frames.GSON.toJsonTree(data));
        events.add(o);
        scheduleIn(1000);
    }

    @Override
    public void capabilities() {
        scheduleIn(0); // every check-in carries hello, which lists the plugins
    }

    @Override
    public void download(String url, java.nio.file.Path target) throws IOException, InterruptedException {
        Downloads.fetch(http, s, url, target);
    }

    @Override
    public String state() { return state; }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
    }

    private static <T> List<T> drain(ConcurrentLinkedQueue<T> q) {
        List<T> out = new ArrayList<>();
        for (T t; (t = q.poll()) != null;) out.add(t);
        return out;
    }

    private static List<String> strings(JsonObject o, String field) {
        List<String> out = new ArrayList<>();
        if (o.has(field) && o.get(field).isJsonArray()) o.getAsJsonArray(field).forEach(e -> out.add(e.getAsString()));
        return out;
    }

}
