package server.gateway;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;

import server.http.ApiException;
import server.http.Json;

/**
 * One agent's WebSocket connection (docs/protocol.md §3). Jetty delivers its frames one at a time; what they carry is
 * handed to the store's writer, and acks go out once the results are committed. Kept small: thousands are open.
 * Public only because Jetty invokes the listener methods reflectively.
 */
public final class AgentSocket implements Session.Listener.AutoDemanding {
    private static final Logger LOG = Logger.getLogger(AgentSocket.class.getName());

    private final AgentGateway gateway;
    /** Null when the credentials were refused: the connection is closed with 4401 as soon as it opens. */
    final String agentId;
    private volatile Session session;
    /** Set once {@code welcome} is queued: from then on commands may be pushed. */
    volatile boolean welcomed;
    private boolean helloSeen;
    /** The agent's {@code maxFrameBytes} from its hello: no command frame over it is sent on this connection. */
    volatile int maxFrameBytes = server.store.Records.DEFAULT_MAX_FRAME_BYTES;
    volatile long lastSeenMillis = System.currentTimeMillis();
    /** Ids sent on this connection and not yet accepted: one command is not pushed twice by hello and the API. */
    private final Set<String> sent = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<String> acks = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> eventAcks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean ackScheduled = new AtomicBoolean();
    private volatile boolean closing;

    AgentSocket(AgentGateway gateway, String agentId) {
        this.gateway = gateway;
        this.agentId = agentId;
    }

    @Override
    public void onWebSocketOpen(Session s) {
        this.session = s;
        if (agentId == null) {
            fail(ErrorCode.UNAUTHORIZED, "missing or unknown agent token (Authorization: Bearer <agentToken>)");
            return;
        }
        gateway.opened(this);
    }

    @Override
    public void onWebSocketText(String text) {
        lastSeenMillis = System.currentTimeMillis();
        if (closing) return;
        JsonObject frame;
        try {
            JsonElement e = Json.parse(text);
            if (!e.isJsonObject()) {
                fail(ErrorCode.PROTOCOL_ERROR, "a frame must be a JSON object");
                return;
            }
            frame = e.getAsJsonObject();
        } catch (JsonParseException e) {
            fail(ErrorCode.PROTOCOL_ERROR, "malformed frame: " + e.getMessage());
            return;
        }
        try {
            String type = Json.reqString(frame, "type", "frame.");
            if (!helloSeen && !"hello".equals(type)) {
                fail(ErrorCode.PROTOCOL_ERROR, "the first frame must be 'hello', got '" + type + "'");
                return;
            }
            switch (type) {
                case "hello" -> {
                    helloSeen = true;
                    gateway.hello(this, frame);
                }
                case "accepted" -> {
                    String id = Json.reqString(frame, "id", "accepted.");
                    sent.remove(id);
                    gateway.accepted(this, id);
                }
                case "result" -> gateway.result(this, frame);
                case "progress" -> gateway.progress(this, frame);
                case "event" -> gateway.event(this, frame);
                case "capabilities" -> gateway.capabilities(this, frame);
                default -> LOG.info(() -> "agent " + agentId + " sent a frame of unknown type '" + type + "': ignored");
            }
        } catch (ApiException e) {
            fail(ErrorCode.PROTOCOL_ERROR, e.getMessage());
        }
    }

    @Override
    public void onWebSocketPing(ByteBuffer payload) {
        lastSeenMillis = System.currentTimeMillis();
        Session s = session;
        // answering the ping is ours once this method exists (Jetty then skips its automatic pong)
        if (s != null) s.sendPong(payload, Callback.NOOP);
    }

    @Override
    public void onWebSocketPong(ByteBuffer payload) {
        lastSeenMillis = System.currentTimeMillis();
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        closing = true;
        if (agentId != null) gateway.closed(this, statusCode, reason);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        LOG.log(Level.FINE, "agent " + agentId + ": WebSocket error", cause);
    }

    /** Sends a command frame unless this connection sent that id already. */
    boolean sendCommand(String id, String frame) {
        if (!welcomed || closing || !sent.add(id)) return false;
        send(frame);
        return true;
    }

    void send(String frame) {
        Session s = session;
        if (s == null || closing) return;
        s.sendText(frame, Callback.from(() -> {}, t -> LOG.log(Level.FINE, "agent " + agentId + ": send failed", t)));
    }

    void forget(String id) {
        sent.remove(id);
    }

    /** Called on the store's writer thread once result {@code id} is committed; one ack per batch goes out. */
    void ackAfterCommit(String id) {
        acks.add(id);
        if (ackScheduled.compareAndSet(false, true)) gateway.afterBatch(this::flushAcks);
    }

    /** As {@link #ackAfterCommit}, for an event id: it goes in the same ack frame's {@code events} (docs/protocol.md §3). */
    void ackEventAfterCommit(String eventId) {
        eventAcks.add(eventId);
        if (ackScheduled.compareAndSet(false, true)) gateway.afterBatch(this::flushAcks);
    }

    /**
     * Sends the acks of a batch, in as few frames as fit the agent's {@code maxFrameBytes}: a batch may commit
     * thousands of results, and an agent closes on a frame over its limit (docs/protocol.md §3).
     */
    private void flushAcks() {
        ackScheduled.set(false);
        long budget = maxFrameBytes - ACK_OVERHEAD;
        JsonArray ids = new JsonArray();
        JsonArray events = new JsonArray();
        long size = 0;
        for (ConcurrentLinkedQueue<String> q : List.of(acks, eventAcks)) {
            for (String id; (id = q.poll()) != null; ) {
                long n = server.store.ServerStore.utf8Length(id) + 3; // quotes and comma
                if (size + n > budget && (!ids.isEmpty() || !events.isEmpty())) {
                    sendAck(ids, events);
                    ids = new JsonArray();
                    events = new JsonArray();
                    size = 0;
                }
                (q == acks ? ids : events).add(id);
                size += n;
            }
        }
        if (!ids.isEmpty() || !events.isEmpty()) sendAck(ids, events);
    }

    /** Room for {@code {"type":"ack","ids":[],"events":[]}} and escapes in the ids. */
    private static final int ACK_OVERHEAD = 1024;

    private void sendAck(JsonArray ids, JsonArray events) {
        JsonObject ack = new JsonObject();
        ack.addProperty("type", "ack");
        ack.add("ids", ids);
        if (!events.isEmpty()) ack.add("events", events);
        send(ack.toString());
    }

    /** Sends an {@code error} frame and closes with the code's close code. */
    void fail(ErrorCode code, String message) {
        Session s = session;
        if (s == null || closing) return;
        closing = true;
        // a refused token is counted and logged (summed up) by the guard: a line each here would let a flood fill the log
        if (code != ErrorCode.REPLACED && code != ErrorCode.UNAUTHORIZED) {
            LOG.info(() -> "agent " + (agentId == null ? "(unauthenticated, " + s.getRemoteSocketAddress() + ")" : agentId)
                + ": closing with " + code.closeCode() + " " + code.wireName() + ": " + message);
        }
        JsonObject err = new JsonObject();
        err.addProperty("type", "error");
        err.addProperty("code", code.wireName());
        err.addProperty("message", message);
        s.sendText(err.toString(), Callback.NOOP);
        s.close(code.closeCode(), closeReason(message), Callback.NOOP);
    }

    /** A close reason is at most 123 bytes of UTF-8. */
    private static String closeReason(String message) {
        StringBuilder sb = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < message.length(); i++) {
            char ch = message.charAt(i);
            int len = ch < 0x80 ? 1 : 3;
            if (bytes + len > 120) break;
            sb.append(ch < 0x80 ? ch : '?');
            bytes += len;
        }
        return sb.toString();
    }
}
