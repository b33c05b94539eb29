package agent.transport.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import agent.api.Command;
import agent.api.Result;
import agent.transport.AgentLink;
import agent.transport.Transport;
import agent.transport.TransportSettings;

/**
 * The persistent WebSocket channel (docs/protocol.md §3): hello → welcome → outbox and pending events re-sent → any
 * order; pings every heartbeat, a connection silent for two heartbeats is dead; reconnects forever with full-jitter
 * backoff.
 */
final class WebSocketTransport implements Transport, WebSocket.Listener {
    private static final Logger LOG = Logger.getLogger("agent.transport");
    static final String SUBPROTOCOL = "outpost.v1";

    private final TransportSettings s;
    private final AgentLink link;
    private final HttpClient http;
    private final Backoff backoff;
    private final ScheduledExecutorService timer = Threads.scheduled("outpost-transport");
    /** Drains {@link #inbound}: commands and cancels, in arrival order. */
    private final ExecutorService inbox = Threads.single("outpost-inbox");
    /**
     * Command frames (JsonObject) and cancels (String ids) not yet handed to the agent. The commands that arrive
     * while one burst is being recorded are recorded together in the next write: one sync to disk per burst.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<Object> inbound = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicBoolean inboundQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final Inbound delivery;
    /** Commands that could not be recorded (a full disk), retried in order before anything newer; inbox thread only. */
    private List<Object> undelivered = List.of();
    /** Retries of {@link #undelivered}: the connection stays up meanwhile, so there is no reconnect loop. */
    private final Backoff recordBackoff = new Backoff(60);
    /** Events sent on the current connection and not acked yet: not sent twice on one connection. */
    private final java.util.Set<String> eventsInFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean eventsQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private static final int MAX_EVENTS_PER_ROUND = 500;
    /**
     * Acks (which empty the outbox) and the outbox re-sent after welcome. An ack is a store write: on the inbox it
     * would hold up the next command's admission for a whole commit, and its order against commands does not
     * matter (it names results already sent).
     */
    private final ExecutorService outbox = Threads.single("outpost-outbox");
    /** Acked ids not yet handed to the agent: the acks that arrive during one store write share the next one. */
    private final java.util.concurrent.ConcurrentLinkedQueue<String> acked = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.ConcurrentLinkedQueue<String> ackedEvents = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicBoolean ackQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final StringBuilder partial = new StringBuilder();
    /** Sockets this agent is closing: the rest of what they deliver is dropped, not parsed. */
    private final java.util.Set<WebSocket> closing = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Object sendLock = new Object();
    private CompletableFuture<?> sendChain = CompletableFuture.completedFuture(null); // guarded by sendLock
    private volatile WebSocket ws;
    private volatile boolean welcomed;
    private volatile boolean closed;
    private volatile long lastHeardNanos;
    private volatile String state = "not connected yet";
    private volatile Credentials credentials;
    private volatile int heartbeatSeconds;
    private ScheduledFuture<?> reconnect; // guarded by this
    private ScheduledFuture<?> heartbeat; // guarded by this

    WebSocketTransport(TransportSettings s, AgentLink link, HttpClient http) {
        this.s = s;
        this.link = link;
        this.http = http;
        this.backoff = new Backoff(s.maxBackoffSeconds);
        this.heartbeatSeconds = s.heartbeatSeconds;
        this.delivery = new Inbound(link);
    }

    @Override
    public void start() {
        timer.execute(this::connect);
    }

    private void connect() {
        if (closed) return;
        URI uri = wsUri();
        try {
            Credentials creds = Credentials.loadOrEnroll(http, s);
            credentials = creds;
            if (uri.getScheme().equals("ws")) {
                LOG.warning("connecting to " + uri + " WITHOUT TLS (insecure_http is set; development only)");
            }
            state = "connecting to " + uri;
            WebSocket w = http.newWebSocketBuilder().subprotocols(SUBPROTOCOL).connectTimeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + creds.token).buildAsync(uri, this).get(60, TimeUnit.SECONDS);
            LOG.info("connected to " + uri + " as agent " + creds.agentId);
        } catch (Credentials.Unauthorized e) {
            LOG.severe("cannot connect to " + uri + ": " + e.getMessage() + "; retrying in "
                + backoff.capMs() / 1000 + " s");
            retryIn(backoff.capMs());
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof WebSocketHandshakeException
                && ((WebSocketHandshakeException) c).getResponse().statusCode() == 401) {
                LOG.severe("the server at " + uri + " refused the agent's credentials (HTTP 401); retrying in "
                    + backoff.capMs() / 1000 + " s");
                retryIn(backoff.capMs());
            } else {
                failed(uri, c);
            }
        } catch (IOException | TimeoutException | RuntimeException e) {
            failed(uri, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void failed(URI uri, Throwable e) {
        long delay = backoff.nextDelayMs();
        LOG.warning("cannot connect to " + uri + ": " + describe(e) + "; retrying in " + delay + " ms");
        retryIn(delay);
    }

    private synchronized void retryIn(long delayMs) {
        if (closed) return;
        state = "disconnected; next attempt at " + Instant.now().plusMillis(delayMs);
        if (reconnect != null) reconnect.cancel(false);
        reconnect = timer.schedule(this::connect, delayMs, TimeUnit.MILLISECONDS);
    }

    /** The connection is gone (closed, failed or dead): forget it and reconnect after a backoff. */
    private void lost(WebSocket w, String why, boolean unauthorized) {
        synchronized (this) {
            if (w != ws) return; // an older connection's late news
            ws = null;
            welcomed = false;
            if (heartbeat != null) heartbeat.cancel(false);
        }
        if (closed) return;
        long delay = unauthorized ? backoff.capMs() : backoff.nextDelayMs();
        if (unauthorized) LOG.severe("connection closed: " + why + "; retrying in " + delay / 1000 + " s");
        else LOG.warning("connection lost: " + why + "; reconnecting in " + delay + " ms");
        retryIn(delay);
    }

    // ---- WebSocket.Listener (called on the HTTP client's threads, one at a time per socket) --------------

    @Override
    public void onOpen(WebSocket w) {
        synchronized (this) {
            ws = w;
            partial.setLength(0);
        }
        lastHeardNanos = System.nanoTime();
        state = "connected to " + wsUri() + ", waiting for welcome";
        Map<String, Object> hello = new java.util.LinkedHashMap<>();
        hello.put("type", "hello");
        hello.putAll(link.hello());
        hello.put("agentId", credentials.agentId); // the id the server gave at enrolment
        hello.put("maxFrameBytes", s.maxFrameBytes); // a server never sends a bigger frame (docs/protocol.md §3)
        send(w, Codec.GSON.toJson(hello));
        w.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
        lastHeardNanos = System.nanoTime();
        if (closing.contains(w)) {
            w.request(1);
            return null;
        }
        partial.append(data);
        if (partial.length() > s.maxFrameBytes) {
            // PROTOCOL.md §3 names 1009 for this, but java.net.http may only send 1000 and 3000-4999: 4400 is the
            // protocol-error code it can send, with the reason saying which error
            LOG.warning("the server sent a frame over max_frame_bytes (" + s.maxFrameBytes + "); closing with 4400");
            partial.setLength(0);
            closeForProtocolError(w, 4400, "frame too big");
            return null;
        }
        if (last) {
            String text = partial.toString();
            partial.setLength(0);
            handle(w, text);
        }
        w.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket w, ByteBuffer data, boolean last) {
        lastHeardNanos = System.nanoTime();
        LOG.warning("the server sent a binary frame; PROTOCOL.md allows text frames only: ignored");
        w.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket w, ByteBuffer message) {
        lastHeardNanos = System.nanoTime();
        w.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket w, ByteBuffer message) {
        lastHeardNanos = System.nanoTime();
        w.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket w, int code, String reason) {
        if (closing.remove(w)) return null; // the server's answer to our own close
        String why = "closed by the server with " + code + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")");
        if (code == 4409) why += ": another connection with this agent's identity replaced it";
        lost(w, why, code == 4401);
        return null;
    }

    @Override
    public void onError(WebSocket w, Throwable error) {
        lost(w, describe(error), false);
    }

    private void handle(WebSocket w, String text) {
        JsonObject frame;
        try {
            JsonElement e = Codec.parse(text, "frame from the server");
            if (!e.isJsonObject() || !e.getAsJsonObject().has("type")) {
                throw new Codec.FrameException("frame from the server is not a JSON object with a type");
            }
            frame = e.getAsJsonObject();
        } catch (Codec.FrameException e) {
            LOG.warning(e.getMessage() + "; closing with 4400");
            closeForProtocolError(w, 4400, "malformed frame");
            return;
        }
        String type = frame.get("type").getAsString();
        switch (type) {
            case "welcome":
                welcomed(w, frame);
                break;
            case "command":
                receive(frame);
                break;
            case "ack":
                if (frame.has("ids") && frame.get("ids").isJsonArray()) {
                    frame.getAsJsonArray("ids").forEach(id -> acked.add(id.getAsString()));
                }
                if (frame.has("events") && frame.get("events").isJsonArray()) {
                    frame.getAsJsonArray("events").forEach(id -> ackedEvents.add(id.getAsString()));
                }
                if (ackQueued.compareAndSet(false, true)) outbox.execute(this::flushAcks);
                break;
            case "cancel":
                if (frame.has("id")) {
                    receive(frame.get("id").getAsString());
                }
                break;
            case "error":
                LOG.severe("the server reports an error: " + frame.get("code") + " " + frame.get("message"));
                break;
            default:
                LOG.info("ignoring a frame of unknown type '" + type + "' (forward compatibility)");
        }
    }

    private void flushAcks() {
        ackQueued.set(false);
        List<String> ids = new ArrayList<>();
        for (String id; (id = acked.poll()) != null; ) ids.add(id);
        List<String> events = new ArrayList<>();
        for (String id; (id = ackedEvents.poll()) != null; ) events.add(id);
        if (!ids.isEmpty() || !events.isEmpty()) link.acked(ids, events);
        eventsInFlight.removeAll(events);
    }

    /**
     * Starts the closing handshake and keeps reading so the server's close can complete it; a server that never
     * answers is cut off after 5 s. The agent reconnects meanwhile, on a new connection.
     */
    private void closeForProtocolError(WebSocket w, int code, String reason) {
        closing.add(w);
        lost(w, reason + " (closed with " + code + ")", false);
        w.sendClose(code, reason).whenComplete((x, err) -> timer.schedule(() -> {
            w.abort();
            closing.remove(w);
        }, 5, TimeUnit.SECONDS));
        w.request(1);
    }

    private void welcomed(WebSocket w, JsonObject frame) {
        welcomed = true;
        backoff.reset();
        if (frame.has("heartbeatSeconds") && frame.get("heartbeatSeconds").isJsonPrimitive()) {
            heartbeatSeconds = Math.max(1, frame.get("heartbeatSeconds").getAsInt());
        }
        state = "connected to " + wsUri() + " since " + Instant.now();
        synchronized (this) {
            if (heartbeat != null) heartbeat.cancel(false);
            heartbeat = timer.scheduleAtFixedRate(() -> heartbeat(w), heartbeatSeconds, heartbeatSeconds, TimeUnit.SECONDS);
        }
        eventsInFlight.clear(); // sent on a connection that is gone: they go again
        outbox.execute(() -> {
            List<Result> pending = link.outbox(1000);
            if (!pending.isEmpty()) LOG.info("re-sending " + pending.size() + " unacknowledged results");
            for (Result r : pending) result(r);
            sendEvents();
        });
    }

    private void heartbeat(WebSocket w) {
        long silentMs = (System.nanoTime() - lastHeardNanos) / 1_000_000;
        if (silentMs > 2000L * heartbeatSeconds) {
            w.abort();
            lost(w, "no frame or pong for " + silentMs / 1000 + " s: the connection is dead", false);
            return;
        }
        w.sendPing(ByteBuffer.wrap(new byte[] {'h', 'b'}));
    }

    private void receive(Object commandOrCancel) {
        inbound.add(commandOrCancel);
        if (inboundQueued.compareAndSet(false, true)) inbox.execute(this::drainInbound);
    }

    /** Hands what arrived to the agent in order (see {@link Inbound}); what cannot be recorded yet is retried. */
    private void drainInbound() {
        inboundQueued.set(false);
        List<Object> items = new ArrayList<>(undelivered);
        for (Object item; (item = inbound.poll()) != null; ) {
            items.add(item instanceof String ? new Inbound.Cancel((String) item) : item);
        }
        if (items.isEmpty()) return;
        undelivered = delivery.deliver(items);
        if (undelivered.isEmpty()) {
            recordBackoff.reset();
            return;
        }
        // not accepted, so the server still has them as sent; the connection stays up, newer frames wait behind
        long delay = Math.max(1000, recordBackoff.nextDelayMs());
        LOG.warning(undelivered.size() + " frame(s) from the server wait to be recorded; trying again in " + delay + " ms");
        timer.schedule(() -> {
            if (inboundQueued.compareAndSet(false, true)) inbox.execute(this::drainInbound);
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** Sends the pending events not already on their way on this connection (outbox thread). */
    private void sendEvents() {
        eventsQueued.set(false);
        if (ws == null || !welcomed) return;
        for (agent.api.Event e : link.pendingEvents(MAX_EVENTS_PER_ROUND + eventsInFlight.size())) {
            if (!eventsInFlight.add(e.id())) continue;
            JsonObject o = Codec.event(e);
            o.addProperty("type", "event");
            sendIfWelcomed(Codec.GSON.toJson(o));
        }
    }

    // ---- Transport ------------------------------------------------------------------------------------

    @Override
    public void accepted(String id) {
        // written directly: one per command, on the path that admits the next one
        sendIfWelcomed("{\"type\":\"accepted\",\"id\":" + new com.google.gson.JsonPrimitive(id) + "}");
    }

    @Override
    public void result(Result r) {
        // serialized once: Codec.resultFrame measures the frame by writing it, so it is left for the rare
        // result that does not fit (it then drops output, then data)
        JsonObject o = Codec.result(r);
        o.addProperty("type", "result");
        String text = Codec.GSON.toJson(o);
        sendIfWelcomed(fits(text) ? text : Codec.GSON.toJson(Codec.resultFrame(r, s.maxFrameBytes)));
    }

    /** Whether a frame is within max_frame_bytes; UTF-8 takes at most 3 bytes per char, so most need no encoding. */
    private boolean fits(String text) {
        return (long) text.length() * 3 <= s.maxFrameBytes || text.getBytes(StandardCharsets.UTF_8).length <= s.maxFrameBytes;
    }

    @Override
    public void progress(String id, Integer percent, String message) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "progress");
        o.addProperty("id", id);
        if (percent != null) o.addProperty("percent", percent);
        o.addProperty("message", message);
        sendIfWelcomed(Codec.GSON.toJson(o));
    }

    @Override
    public void eventsRecorded() {
        if (welcomed && eventsQueued.compareAndSet(false, true)) outbox.execute(this::sendEvents);
    }

    @Override
    public void capabilities() {
        Map<String, Object> o = new java.util.LinkedHashMap<>();
        o.put("type", "capabilities");
        o.put("plugins", link.hello().get("plugins"));
        sendIfWelcomed(Codec.GSON.toJson(o));
    }

    @Override
    public boolean runOnce(java.time.Duration limit) {
        throw new IllegalStateException("one-shot mode checks in over HTTPS; set transport to poll for it");
    }

    @Override
    public void download(String url, java.nio.file.Path target) throws IOException, InterruptedException {
        Downloads.fetch(http, s, url, target);
    }

    @Override
    public String state() { return state; }

    /** Before welcome only hello may be sent; results not sent now go out with the outbox after the next welcome. */
    private void sendIfWelcomed(String text) {
        WebSocket w = ws;
        if (w != null && welcomed) send(w, text);
    }

    private void send(WebSocket w, String text) {
        if (!fits(text)) {
            LOG.warning("not sending a frame over max_frame_bytes (" + s.maxFrameBytes + ")");
            return;
        }
        synchronized (sendLock) {
            // java.net.http allows one outstanding send per socket: chain them
            sendChain = sendChain.handle((x, err) -> null).thenCompose(x -> w.sendText(text, true))
                .whenComplete((x, err) -> {
                    if (err != null) LOG.log(Level.FINE, "send failed; the outbox re-sends results after reconnect", err);
                });
        }
    }

    @Override
    public void close() {
        closed = true;
        WebSocket w = ws;
        if (w != null) {
            try {
                w.sendClose(1000, "agent stopping").get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                w.abort();
            }
        }
        timer.shutdownNow();
        inbox.shutdownNow();
        outbox.shutdownNow();
    }

    private URI wsUri() {
        URI u = s.serverUrl;
        String scheme = u.getScheme().equals("http") ? "ws" : "wss";
        return URI.create(scheme + "://" + u.getRawAuthority() + "/agent/v1/connect");
    }

    static String describe(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException)
            && t.getCause() != null) t = t.getCause();
        String m = t.getMessage();
        if (t instanceof javax.net.ssl.SSLHandshakeException || (t.getCause() instanceof javax.net.ssl.SSLHandshakeException)) {
            return "TLS handshake failed: " + (m == null ? t : m);
        }
        if (t instanceof java.net.ConnectException) return "connection refused" + (m == null ? "" : " (" + m + ")");
        if (t instanceof WebSocketHandshakeException) {
            java.net.http.HttpResponse<?> r = ((WebSocketHandshakeException) t).getResponse();
            Object body = r.body();
            String text = body instanceof String ? (String) body : "";
            return "WebSocket upgrade refused with HTTP " + r.statusCode()
                + (text.isBlank() ? "" : ": " + text.substring(0, Math.min(200, text.length())).strip());
        }
        return m == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + m;
    }
}
