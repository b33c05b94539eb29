package server.gateway;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.websocket.server.ServerWebSocketContainer;
import org.eclipse.jetty.websocket.server.WebSocketCreator;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.Times;
import server.http.ApiException;
import server.http.Guard;
import server.http.Json;
import server.http.SummaryLog;
import server.http.Tokens;
import server.store.Records;
import server.store.Records.Command;
import server.store.Records.Pending;
import server.store.Records.Result;
import server.store.Records.ResultOutcome;
import server.store.Records.State;
import server.store.ServerStore;
import server.store.ServerStore.HelloRecord;
import server.store.ServerStore.NewEvent;

/**
 * The agents' side of the server: the WebSocket endpoint {@code /agent/v1/connect}, who is connected, pushing
 * commands and cancels, and turning agent frames into store writes. Also the shared logic of the polling
 * transport (hello, accepted, results, events) so both transports store the same things the same way.
 */
public final class AgentGateway implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AgentGateway.class.getName());
    public static final String SUBPROTOCOL = "outpost.v1";
    public static final String CONNECT_PATH = "/agent/v1/connect";
    /** The largest frame the server takes from an agent. */
    public static final int MAX_FRAME_BYTES = 1 << 20;
    /** The output kept of a result when nothing else is said (the agent's own default, docs/protocol.md §6). */
    public static final int DEFAULT_MAX_OUTPUT_BYTES = 262_144;
    private static final int MAX_PROGRESS_ENTRIES = 100_000;
    private static final int MAX_CACHED_TOKENS = 200_000;

    private final ServerStore store;
    private final int heartbeatSeconds;
    private final int maxOutputBytes;
    private final Guard guard;
    private final EventFeed eventFeed = new EventFeed();
    /** Results not stored (another agent's command, or over what the agent may keep): summed up, not a line each. */
    private final SummaryLog refusedResults = new SummaryLog(LOG, java.util.logging.Level.WARNING, "results not stored");
    private final ConcurrentHashMap<String, AgentSocket> connections = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, JsonObject> progress = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> tokenCache = new ConcurrentHashMap<>();
    private final ResultWaiters waiters = new ResultWaiters();
    /** Told when an agent's WebSocket opens or closes (the console's live fleet); each must return at once. */
    private final List<ConnectionListener> connectionListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Hears of agents connecting and disconnecting. */
    @FunctionalInterface
    public interface ConnectionListener {
        /** @param at when the agent was last heard from (now, for a connection that opened) */
        void changed(String agentId, boolean connected, Instant at);
    }

    /** Tells {@code listener} of every WebSocket agent that connects or disconnects from now on; it must not block. */
    public void addConnectionListener(ConnectionListener listener) {
        connectionListeners.add(listener);
    }
    /** Sends what the writer thread decided (acks, pending commands) so the writer never does network work. */
    private final ExecutorService io = Executors.newFixedThreadPool(2, r -> daemon(r, "agent-io"));
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "agent-seen"));

    /**
     * @param maxOutputBytes the output kept of a result (first and last halves), as the agent caps it
     * @param guard          rate limits of refused authentication (the WebSocket upgrade is one)
     */
    public AgentGateway(ServerStore store, int heartbeatSeconds, int maxOutputBytes, Guard guard) {
        this.store = store;
        this.heartbeatSeconds = heartbeatSeconds;
        this.maxOutputBytes = maxOutputBytes;
        this.guard = guard;
        timer.scheduleWithFixedDelay(this::flushLastSeen, heartbeatSeconds, heartbeatSeconds, TimeUnit.SECONDS);
        timer.scheduleWithFixedDelay(refusedResults::flush, 60, 60, TimeUnit.SECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Limits and the endpoint on Jetty's WebSocket container. */
    public void configure(ServerWebSocketContainer container) {
        container.setMaxTextMessageSize(MAX_FRAME_BYTES);
        container.setMaxBinaryMessageSize(MAX_FRAME_BYTES);
        container.setMaxFrameSize(MAX_FRAME_BYTES);
        // an agent pings every heartbeat; two missed intervals and a margin mean it is gone
        container.setIdleTimeout(Duration.ofMillis(heartbeatSeconds * 2500L));
        container.addMapping(CONNECT_PATH, creator());
    }

    private WebSocketCreator creator() {
        return (rq, rs, cb) -> {
            if (!rq.hasSubProtocol(SUBPROTOCOL)) {
                rs.setStatus(400);
                rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
                Content.Sink.write(rs, true, Json.error("the WebSocket subprotocol '" + SUBPROTOCOL
                    + "' is required (Sec-WebSocket-Protocol), got " + rq.getSubProtocols()).toString(), cb);
                return null;
            }
            java.net.InetAddress source = remoteAddress(rq);
            long retryAfter = guard.retryAfterSeconds(source);
            if (retryAfter > 0) {
                rs.setStatus(429);
                rs.getHeaders().put(HttpHeader.RETRY_AFTER, retryAfter);
                rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
                Content.Sink.write(rs, true, Json.error("too many refused authentications from this address: try again in "
                    + retryAfter + " s").toString(), cb);
                return null;
            }
            rs.setAcceptedSubProtocol(SUBPROTOCOL);
            // no permessage-deflate: its inflater and deflater would cost each of thousands of connections ~100 KB
            rs.setExtensions(new ArrayList<>());
            String agentId = agentForAuthorization(rq.getHeaders().get(HttpHeader.AUTHORIZATION));
            if (agentId == null) guard.refused(source, "missing or unknown agent token on the WebSocket (closed with 4401)");
            return new AgentSocket(this, agentId);
        };
    }

    /** The client's address (null if Jetty cannot tell). */
    public static java.net.InetAddress remoteAddress(org.eclipse.jetty.server.Request rq) {
        java.net.SocketAddress a = rq.getConnectionMetaData().getRemoteSocketAddress();
        return a instanceof java.net.InetSocketAddress isa ? isa.getAddress() : null;
    }

    /**
     * The agent id for an {@code Authorization} header, or null when missing or unknown. Known token hashes are
     * cached: a reconnect storm of thousands of agents then costs no store reads (tokens are never reassigned).
     */
    public String agentForAuthorization(String header) {
        String token = Tokens.bearer(header);
        if (token == null) return null;
        String hash = Tokens.sha256Hex(token);
        String cached = tokenCache.get(hash);
        if (cached != null) return cached;
        String agentId = store.agentIdForTokenHash(hash);
        if (agentId != null) {
            if (tokenCache.size() >= MAX_CACHED_TOKENS) tokenCache.clear();
            tokenCache.put(hash, agentId);
        }
        return agentId;
    }

    public int heartbeatSeconds() {
        return heartbeatSeconds;
    }

    public boolean isConnected(String agentId) {
        return connections.containsKey(agentId);
    }

    public int connectedCount() {
        return connections.size();
    }

    /** When a connected agent was last heard from, or null if it is not connected. */
    public Instant lastSeen(String agentId) {
        AgentSocket s = connections.get(agentId);
        return s == null ? null : Instant.ofEpochMilli(s.lastSeenMillis);
    }

    /** The operators' waits for results; every transport tells it about each result it stores. */
    public ResultWaiters waiters() {
        return waiters;
    }

    /** The operators' waits for new events; every transport signals it once it has stored events. */
    public EventFeed eventFeed() {
        return eventFeed;
    }

    public int maxOutputBytes() {
        return maxOutputBytes;
    }

    /** Logs (summed up) a result that was not stored, saying why. */
    public void notStored(String agentId, String why) {
        refusedResults.note("agent " + agentId, why);
    }

    /** Logs (summed up) a result that was not stored: another agent's command, or over the agent's bounds. */
    public void notStored(String agentId, String resultId, ResultOutcome outcome) {
        notStored(agentId, outcome == ResultOutcome.FOREIGN
            ? "a result for " + resultId + ", which is another agent's command: not stored, not acked"
            : "an offline result " + resultId + " over what one agent may store (" + store.limits().maxOfflineResults()
                + " results, " + store.limits().maxOfflineResultBytes() + " bytes): not stored, not acked");
    }

    /** The last progress an agent reported for a command still running, or null. */
    public JsonObject progress(String commandId) {
        return progress.get(commandId);
    }

    void afterBatch(Runnable task) {
        store.afterBatch(() -> io.execute(task));
    }

    // ---------------------------------------------------------------- connection life

    void opened(AgentSocket socket) {
        AgentSocket older = connections.put(socket.agentId, socket);
        if (older != null) {
            LOG.info(() -> "agent " + socket.agentId + " connected again: closing its older connection (4409)");
            older.fail(ErrorCode.REPLACED, "replaced by a newer connection of the same agent");
        }
        Instant now = Instant.now();
        for (ConnectionListener l : connectionListeners) l.changed(socket.agentId, true, now);
    }

    void closed(AgentSocket socket, int code, String reason) {
        if (!connections.remove(socket.agentId, socket)) return; // replaced: the newer connection owns the agent
        String seen = Instant.ofEpochMilli(socket.lastSeenMillis).toString();
        LOG.fine(() -> "agent " + socket.agentId + " disconnected (" + code + (reason == null ? "" : " " + reason) + ")");
        Instant last = Instant.ofEpochMilli(socket.lastSeenMillis);
        for (ConnectionListener l : connectionListeners) l.changed(socket.agentId, false, last);
        store.write(c -> {
            if (connections.containsKey(socket.agentId)) return null; // it came back meanwhile
            return ServerStore.seen(Map.of(socket.agentId, seen), false).run(c);
        }, (v, err) -> {
            if (err != null) LOG.log(Level.WARNING, "cannot record that agent " + socket.agentId + " disconnected", err);
        });
    }

    private void flushLastSeen() {
        try {
            Map<String, String> seen = new LinkedHashMap<>();
            for (AgentSocket s : connections.values()) seen.put(s.agentId, Instant.ofEpochMilli(s.lastSeenMillis).toString());
            if (seen.isEmpty()) return;
            store.writeSoon(c -> {
                // drop those that left since: their close wrote connected = 0
                seen.keySet().removeIf(id -> !connections.containsKey(id));
                return ServerStore.seen(seen, true).run(c);
            }, (v, err) -> {
                if (err != null) LOG.log(Level.WARNING, "cannot record agents' last-seen times", err);
            });
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "last-seen flush failed", e);
        }
    }

    // ---------------------------------------------------------------- frames

    void hello(AgentSocket socket, JsonObject hello) {
        JsonElement protocol = hello.get("protocol");
        if (protocol != null && !protocol.isJsonNull()
            && !(protocol.isJsonPrimitive() && protocol.getAsJsonPrimitive().isNumber() && protocol.getAsDouble() == 1)) {
            socket.fail(ErrorCode.UNSUPPORTED_PROTOCOL, "this server speaks protocol 1, the agent sent protocol " + protocol);
            return;
        }
        HelloInfo info = HelloInfo.of(hello, "hello.");
        if (info.agentId() != null && !info.agentId().equals(socket.agentId)) {
            LOG.warning(() -> "agent " + socket.agentId + " says it is '" + info.agentId() + "' in its hello: its token decides");
        }
        socket.maxFrameBytes = info.record().maxFrameBytes() == null ? Records.DEFAULT_MAX_FRAME_BYTES : info.record().maxFrameBytes();
        JsonObject welcome = new JsonObject();
        welcome.addProperty("type", "welcome");
        welcome.addProperty("serverTime", Times.now());
        welcome.addProperty("heartbeatSeconds", heartbeatSeconds);
        socket.send(welcome.toString());
        socket.welcomed = true;
        // read after 'welcomed' is set: a command stored from now on is pushed by the API, one stored before is read here
        store.write(store.hello(socket.agentId, info.record(), "websocket", true, AgentGateway::frameBytes, Times.now()),
            (pending, err) -> {
                if (err != null) {
                    LOG.log(Level.WARNING, "cannot record the hello of agent " + socket.agentId, err);
                    io.execute(() -> socket.fail(ErrorCode.SERVER_ERROR, "the server could not record the hello"));
                } else {
                    pending.ended().forEach(waiters::stored);
                    io.execute(() -> sendPending(socket, pending));
                }
            });
    }

    private void sendPending(AgentSocket socket, Pending pending) {
        for (Command c : pending.commands()) socket.sendCommand(c.id(), commandFrameText(c));
        for (String id : pending.cancels()) socket.send(cancelFrame(id));
    }

    void accepted(AgentSocket socket, String id) {
        // soon, not now: an agent that is sent a command again answers accepted again, so this need not cost an fsync
        store.writeSoon(ServerStore.accepted(socket.agentId, List.of(id)), (v, err) -> {
            if (err != null) LOG.log(Level.WARNING, "cannot record that agent " + socket.agentId + " accepted " + id, err);
        });
    }

    void result(AgentSocket socket, JsonObject frame) {
        ParsedResult r = ParsedResult.of(frame, "result.", maxOutputBytes);
        socket.forget(r.id());
        progress.remove(r.id());
        String now = Times.now();
        store.write(c -> store.storeResult(c, socket.agentId, r.id(), r.status(), r.json(), now, false), (outcome, err) -> {
            if (err != null) {
                // not acked: the agent keeps the result and sends it again
                LOG.log(Level.WARNING, "cannot store result " + r.id() + " of agent " + socket.agentId, err);
            } else if (outcome == ResultOutcome.FOREIGN || outcome == ResultOutcome.OVER_QUOTA) {
                notStored(socket.agentId, r.id(), outcome);
            } else {
                socket.ackAfterCommit(r.id());
                if (outcome == ResultOutcome.STORED) waiters.stored(new Result(r.id(), socket.agentId, r.status(), r.json(), now, true));
            }
        });
    }

    void progress(AgentSocket socket, JsonObject frame) {
        String id = Json.reqString(frame, "id", "progress.");
        if (progress.size() >= MAX_PROGRESS_ENTRIES && !progress.containsKey(id)) return;
        JsonObject p = frame.deepCopy();
        p.remove("type");
        p.addProperty("agentId", socket.agentId);
        p.addProperty("receivedAt", Times.now());
        progress.put(id, p);
    }

    void event(AgentSocket socket, JsonObject frame) {
        NewEvent e = ParsedEvent.of(frame, "event.");
        String now = Times.now();
        store.write(c -> store.storeEvent(c, socket.agentId, e, now), (stored, err) -> {
            if (err != null) {
                LOG.log(Level.WARNING, "cannot store an event of agent " + socket.agentId, err);
                return;
            }
            if (e.id() != null) socket.ackEventAfterCommit(e.id()); // an event without an id (an older agent) is not acked
            if (stored) store.afterBatch(eventFeed::signal);
        });
    }

    void capabilities(AgentSocket socket, JsonObject frame) {
        JsonElement plugins = frame.get("plugins");
        if (plugins == null || !plugins.isJsonArray()) throw ApiException.badRequest("capabilities.plugins must be a JSON array");
        store.write(ServerStore.plugins(socket.agentId, plugins.toString()), (v, err) -> {
            if (err != null) LOG.log(Level.WARNING, "cannot store the plugins of agent " + socket.agentId, err);
        });
    }

    // ---------------------------------------------------------------- pushing

    /** Sends new commands to the agents connected now; the others get them at their next hello or check-in. */
    public void push(Collection<Command> commands) {
        List<String> sent = new ArrayList<>();
        for (Command c : commands) {
            AgentSocket s = connections.get(c.agentId());
            if (s == null || !s.welcomed) continue;
            if (!ServerStore.fits(c, s.maxFrameBytes, AgentGateway::frameBytes)) {
                endUndeliverable(c, s.maxFrameBytes); // its hello lowered the limit after the command was made
                continue;
            }
            if (s.sendCommand(c.id(), commandFrameText(c))) sent.add(c.id());
        }
        if (!sent.isEmpty()) {
            // soon: a dispatched command that is not accepted is sent again at the next hello anyway
            store.writeSoon(ServerStore.dispatched(sent), (v, err) -> {
                if (err != null) LOG.log(Level.WARNING, "cannot mark " + sent.size() + " commands dispatched", err);
            });
        }
    }

    private void endUndeliverable(Command c, int limit) {
        String now = Times.now();
        store.write(tx -> ServerStore.endUndeliverable(tx, c, frameBytes(c), limit, now), (made, err) -> {
            if (err != null) LOG.log(Level.WARNING, "cannot end the undeliverable command " + c.id(), err);
            else if (made != null) waiters.stored(made);
        });
    }

    /**
     * Tells the agent, if connected, to cancel a command it was sent. One the operator cancelled before the agent
     * accepted it goes again first unless this connection sent it: it may have been lost with an older one, and
     * the agent ignores a cancel for an id it never got (docs/protocol.md §6).
     */
    public boolean sendCancel(Command c) {
        boolean unaccepted = State.CANCELLED.equals(c.state()) && c.cancelRequested();
        if (!State.DISPATCHED.equals(c.state()) && !State.ACCEPTED.equals(c.state()) && !unaccepted) return false;
        AgentSocket s = connections.get(c.agentId());
        if (s == null || !s.welcomed) return false;
        if (unaccepted && ServerStore.fits(c, s.maxFrameBytes, AgentGateway::frameBytes)) s.sendCommand(c.id(), commandFrameText(c));
        s.send(cancelFrame(c.id()));
        return true;
    }

    /** The {@code command} frame of docs/protocol.md §3 (the check-in response lists the same objects). */
    public static JsonObject commandFrame(Command c) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "command");
        o.addProperty("id", c.id());
        o.addProperty("action", c.action());
        o.add("params", Json.parse(c.params()));
        if (c.timeoutSeconds() != null) o.addProperty("timeoutSeconds", c.timeoutSeconds());
        o.addProperty("issuedAt", c.issuedAt());
        if (c.expiresAt() != null) o.addProperty("expiresAt", c.expiresAt());
        if (c.dryRun()) o.addProperty("dryRun", true);
        return o;
    }

    /** The size of a command's frame in UTF-8 bytes, as the agent measures it against its {@code maxFrameBytes}. */
    public static long frameBytes(Command c) {
        return ServerStore.utf8Length(commandFrameText(c));
    }

    /** {@link #commandFrame} as text, with the stored params copied in as they are rather than parsed and written again. */
    static String commandFrameText(Command c) {
        java.io.StringWriter text = new java.io.StringWriter(160 + c.params().length());
        try (com.google.gson.stream.JsonWriter w = new com.google.gson.stream.JsonWriter(text)) {
            w.beginObject();
            w.name("type").value("command");
            w.name("id").value(c.id());
            w.name("action").value(c.action());
            w.name("params").jsonValue(c.params());
            if (c.timeoutSeconds() != null) w.name("timeoutSeconds").value(c.timeoutSeconds());
            w.name("issuedAt").value(c.issuedAt());
            if (c.expiresAt() != null) w.name("expiresAt").value(c.expiresAt());
            if (c.dryRun()) w.name("dryRun").value(true); // left out when false: the frame older agents know
            w.endObject();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a StringWriter does not fail
        }
        return text.toString();
    }

    private static String cancelFrame(String id) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "cancel");
        o.addProperty("id", id);
        return o.toString();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        refusedResults.flush();
        waiters.close();
        io.shutdown();
        try {
            io.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- shapes shared with the polling transport

    /** What the server keeps of a hello. */
    public record HelloInfo(String agentId, HelloRecord record) {
        public static HelloInfo of(JsonObject hello, String where) {
            String agentId = Json.optString(hello, "agentId", where);
            String hostname = Json.optString(hello, "hostname", where);
            JsonElement plugins = hello.get("plugins");
            if (plugins != null && !plugins.isJsonNull() && !plugins.isJsonArray()) {
                throw ApiException.badRequest(where + "plugins must be a JSON array");
            }
            JsonElement os = hello.get("os");
            if (os != null && !os.isJsonNull() && !os.isJsonObject()) throw ApiException.badRequest(where + "os must be a JSON object");
            Integer maxFrameBytes = Json.optPositiveInt(hello, "maxFrameBytes", where);
            JsonObject copy = hello.deepCopy();
            copy.remove("type");
            return new HelloInfo(agentId, new HelloRecord(copy.toString(), hostname,
                plugins == null || plugins.isJsonNull() ? null : plugins.toString(), maxFrameBytes));
        }
    }

    /** A result object (docs/protocol.md §3) checked for what the server relies on, its id and status, its output capped. */
    public record ParsedResult(String id, String status, String json) {
        public static ParsedResult of(JsonObject r, String where, int maxOutputBytes) {
            String id = Json.reqString(r, "id", where);
            String status = Json.reqString(r, "status", where);
            OutputCap.apply(r, maxOutputBytes);
            return new ParsedResult(id, status, withoutType(r));
        }
    }

    /** An event object (docs/protocol.md §9); its {@code id} is optional (an older agent sends none). */
    public static final class ParsedEvent {
        /** An event id: what the agent makes is a UUID; anything longer is no event id. */
        private static final int MAX_ID_LENGTH = 128;

        private ParsedEvent() {}

        public static NewEvent of(JsonObject e, String where) {
            String id = Json.optString(e, "id", where);
            if (id != null && (id.isBlank() || id.length() > MAX_ID_LENGTH)) {
                throw ApiException.badRequest(where + "id must be 1.." + MAX_ID_LENGTH + " characters (a UUID), got '"
                    + Json.abbreviate(new com.google.gson.JsonPrimitive(id)) + "'");
            }
            String kind = Json.optString(e, "kind", where);
            String time = Json.optString(e, "time", where);
            long timeMillis;
            try {
                timeMillis = time == null ? System.currentTimeMillis() : Instant.parse(time).toEpochMilli();
            } catch (java.time.format.DateTimeParseException bad) {
                timeMillis = System.currentTimeMillis(); // the event is kept; "since" then goes by when it arrived
            }
            return new NewEvent(id, kind, time, timeMillis, withoutType(e));
        }
    }

    /** The object as JSON text without its {@code type} (not copied: a result carries up to 256 KiB of output). */
    private static String withoutType(JsonObject o) {
        JsonElement type = o.remove("type");
        try {
            return o.toString();
        } finally {
            if (type != null) o.add("type", type);
        }
    }
}
