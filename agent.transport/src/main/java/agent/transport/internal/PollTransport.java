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

import agent.api.Event;
import agent.api.Result;
import agent.transport.AgentLink;
import agent.transport.Transport;
import agent.transport.TransportSettings;

/**
 * HTTPS check-in (docs/protocol.md §4): every {@code check_in_interval} ±20 % (shortened, never lengthened, by the
 * server's {@code nextCheckinSeconds}), every {@link #BUSY_SECONDS} s while commands are queued or running so a cancel
 * reaches them, at once after a command finishes, and in one-shot mode until nothing is queued, running or unacked.
 * Same core behaviour as the WebSocket.
 */
final class PollTransport implements Transport {
    private static final Logger LOG = Logger.getLogger("agent.transport");
    private static final int MAX_RESULTS_PER_CHECKIN = 100;
    private static final int MAX_EVENTS_PER_CHECKIN = 500;
    /** While commands are queued or running: a cancel sent by the server arrives within this. */
    static final int BUSY_SECONDS = 3;

    private final TransportSettings s;
    private final AgentLink link;
    private final HttpClient http;
    private final Backoff backoff;
    private final Inbound inbound;
    private final ScheduledExecutorService timer = Threads.scheduled("outpost-checkin");
    private final ConcurrentLinkedQueue<String> accepted = new ConcurrentLinkedQueue<>();
    /**
     * Results to send at the next check-in although they may have left the outbox: the stored result of a finished
     * duplicate is the answer the server asked for (docs/protocol.md §6), acked or not.
     */
    private final Map<String, Result> answers = new java.util.concurrent.ConcurrentHashMap<>();
    /** Commands and cancels of an answer that could not be recorded yet (a full disk): delivered first next time. */
    private List<Object> undelivered = List.of(); // guarded by this
    private volatile boolean closed;
    private volatile String state = "not checked in yet";
    private volatile int nextCheckinSeconds;
    private ScheduledFuture<?> next; // guarded by this

    PollTransport(TransportSettings s, AgentLink link, HttpClient http) {
        this.s = s;
        this.link = link;
        this.http = http;
        this.backoff = new Backoff(s.maxBackoffSeconds);
        this.inbound = new Inbound(link);
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
            delay = intervalMs();
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

    /** docs/protocol.md §4: the agent's interval is the longest wait; the server may shorten it; busy means seconds. */
    long intervalMs() {
        int seconds = Math.min(s.checkInInterval, nextCheckinSeconds);
        if (link.busy()) seconds = Math.min(seconds, BUSY_SECONDS);
        double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
        return (long) (seconds * 1000L * jitter);
    }

    /**
     * One check-in: what we have out, what the server has in. Accepted ids are re-queued on failure; results and
     * events stay in the store until acked.
     *
     * @return how many commands the answer held
     */
    synchronized int checkIn() throws IOException, Credentials.Unauthorized, InterruptedException {
        if (!undelivered.isEmpty()) {
            undelivered = inbound.deliver(undelivered);
            if (!undelivered.isEmpty()) throw new IOException("commands from the last check-in still cannot be recorded");
        }
        Credentials creds = Credentials.loadOrEnroll(http, s);
        if (s.serverUrl.getScheme().equals("http")) {
            LOG.warning("checking in at " + s.serverUrl + " WITHOUT TLS (insecure_http is set; development only)");
        }
        List<String> sentAccepted = drain(accepted);
        Map<String, Result> results = new LinkedHashMap<>();
        answers.forEach(results::put);
        for (Result r : link.outbox(MAX_RESULTS_PER_CHECKIN)) results.putIfAbsent(r.id(), r);
        List<Event> events = link.pendingEvents(MAX_EVENTS_PER_CHECKIN);
        JsonObject body = new JsonObject();
        JsonObject hello = Codec.GSON.toJsonTree(link.hello()).getAsJsonObject();
        hello.addProperty("agentId", creds.agentId); // the id the server gave at enrolment
        hello.addProperty("maxFrameBytes", s.maxFrameBytes);
        body.add("hello", hello);
        body.add("accepted", Codec.GSON.toJsonTree(sentAccepted));
        // a check-in is at most max_frame_bytes, as a frame is: what does not fit goes in the next one
        long budget = s.maxFrameBytes - size(body) - 1024;
        JsonArray rs = new JsonArray();
        int n = 0;
        for (Result r : results.values()) {
            if (n++ == MAX_RESULTS_PER_CHECKIN) break;
            JsonObject o = Codec.resultFrame(r, s.maxFrameBytes / 2);
            o.remove("type");
            long bytes = size(o);
            if (bytes > budget && rs.size() > 0) break;
            rs.add(o);
            budget -= bytes;
        }
        body.add("results", rs);
        JsonArray es = new JsonArray();
        for (Event e : events) {
            JsonObject o = Codec.event(e);
            long bytes = size(o);
            if (bytes > budget) break;
            es.add(o);
            budget -= bytes;
        }
        body.add("events", es);
        URI uri = s.serverUrl.resolve("/agent/v1/checkin");
        HttpResponse<String> resp;
        try {
            resp = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + creds.token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Codec.GSON.toJson(body))).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            accepted.addAll(sentAccepted);
            throw e;
        }
        if (resp.statusCode() == 401) {
            accepted.addAll(sentAccepted);
            throw new Credentials.Unauthorized("the server at " + uri + " refused the agent's credentials (HTTP 401)");
        }
        if (resp.statusCode() != 200) {
            accepted.addAll(sentAccepted);
            throw new IOException("HTTP " + resp.statusCode() + " from " + uri);
        }
        JsonObject answer;
        try {
            JsonElement e = Codec.parse(resp.body(), "check-in answer");
            if (!e.isJsonObject()) throw new Codec.FrameException("check-in answer is not a JSON object");
            answer = e.getAsJsonObject();
        } catch (Codec.FrameException e) {
            // what we sent may not have been stored: results and events stay in the store, ids go again
            accepted.addAll(sentAccepted);
            throw new IOException(e.getMessage());
        }
        state = "checked in at " + s.serverUrl + " at " + Instant.now();
        // the answers that went out are the server's now: an unacked one is still in the outbox and goes again
        rs.forEach(r -> answers.remove(r.getAsJsonObject().get("id").getAsString()));
        List<String> acked = strings(answer, "ack");
        List<String> ackedEvents = strings(answer, "ackEvents");
        if (!acked.isEmpty() || !ackedEvents.isEmpty()) link.acked(acked, ackedEvents);
        if (answer.has("nextCheckinSeconds") && answer.get("nextCheckinSeconds").isJsonPrimitive()) {
            nextCheckinSeconds = Math.max(1, Math.min(86400, answer.get("nextCheckinSeconds").getAsInt()));
        }
        List<Object> items = new ArrayList<>();
        if (answer.has("commands") && answer.get("commands").isJsonArray()) answer.getAsJsonArray("commands").forEach(items::add);
        int received = items.size();
        // after the commands: a command the server sends again with its cancel (it may never have arrived) is known
        for (String id : strings(answer, "cancel")) items.add(new Inbound.Cancel(id));
        undelivered = inbound.deliver(items);
        return received;
    }

    @Override
    public boolean runOnce(Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            try {
                int got = checkIn();
                backoff.reset();
                if (got == 0 && !link.busy() && link.outbox(1).isEmpty() && link.pendingEvents(1).isEmpty()
                    && accepted.isEmpty() && answers.isEmpty()) {
                    return true;
                }
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
        answers.put(result.id(), result);
        scheduleIn(0); // at once: results are not held back (docs/protocol.md §4)
    }

    @Override
    public void progress(String id, Integer percent, String message) {
        // live only over the WebSocket; a poll would only carry stale progress
    }

    @Override
    public void eventsRecorded() {
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

    private static long size(JsonElement e) {
        return Codec.GSON.toJson(e).getBytes(StandardCharsets.UTF_8).length;
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
