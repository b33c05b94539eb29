package runtime.test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.pki.Pem;
import server.pki.Pki;

/**
 * A server that follows a test's script instead of PROTOCOL.md: real TLS (a CA made at test time) and a real
 * WebSocket, so the agent can be fed malformed, unknown, oversized and duplicate frames.
 */
public final class ScriptedServer implements AutoCloseable {
    final Path dir;
    final Server jetty;
    final int port;
    /** Text frames from the agent, in order. */
    final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
    /** Close codes of the agent's connections as they end. */
    final BlockingQueue<Integer> closes = new LinkedBlockingQueue<>();
    private volatile Session session;
    /** Extra fields of the welcome frame, each with a leading comma. */
    volatile String welcomeExtra = "";

    private ScriptedServer(Path dir, Server jetty, int port) {
        this.dir = dir;
        this.jetty = jetty;
        this.port = port;
    }

    static ScriptedServer start(Path dir) throws Exception {
        java.nio.file.Files.createDirectories(dir);
        Pki pki = Pki.loadOrCreate(dir); // ca.pem, server.pem: SANs localhost and 127.0.0.1
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        char[] pw = "scripted".toCharArray();
        ssl.setKeyStore(Pem.keyStore(pki.serverKey(), List.of(pki.serverCertificate(), pki.caCertificate()), pw));
        ssl.setKeyStorePassword("scripted");
        Server jetty = new Server();
        ServerConnector c = new ServerConnector(jetty, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory());
        c.setHost("127.0.0.1");
        c.setPort(0);
        jetty.addConnector(c);
        ScriptedServer[] self = new ScriptedServer[1];
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(jetty, container -> {
            container.setMaxTextMessageSize(8 << 20);
            container.setMaxFrameSize(8 << 20);
            container.addMapping("/agent/v1/connect", (rq, rs, cb) -> {
                rs.setAcceptedSubProtocol("outpost.v1");
                return self[0].new Endpoint();
            });
        });
        ws.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                if (!Request.getPathInContext(request).equals("/agent/v1/enroll")) return false;
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                Content.Sink.write(response, true, "{\"agentId\": \"scripted-agent\", \"agentToken\": \"scripted-token\"}", callback);
                return true;
            }
        });
        jetty.setHandler(ws);
        jetty.start();
        self[0] = new ScriptedServer(dir, jetty, c.getLocalPort());
        return self[0];
    }

    public final class Endpoint implements Session.Listener.AutoDemanding {
        private Session s;

        @Override
        public void onWebSocketOpen(Session s) {
            this.s = s;
            session = s;
        }

        @Override
        public void onWebSocketText(String text) {
            frames.add(text);
            if (text.contains("\"type\":\"hello\"")) {
                s.sendText("{\"type\":\"welcome\",\"serverTime\":\"2026-11-24T00:00:00Z\"" + welcomeExtra + "}",
                    org.eclipse.jetty.websocket.api.Callback.NOOP);
            }
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            closes.add(statusCode);
        }
    }

    String agentConfig() {
        return agentConfig("\"max_backoff_seconds\": 1");
    }

    /** @param extra more config keys, e.g. {@code "max_backoff_seconds": 7} */
    String agentConfig(String extra) {
        return "{\"server_url\": \"https://127.0.0.1:" + port + "\", \"server_ca\": \"" + dir.resolve("ca.pem") + "\","
            + " \"enrollment_token\": \"any\", \"max_frame_bytes\": 65536, " + extra + "}";
    }

    /** Closes the newest connection with this code, as a server does after refusing the agent. */
    void closeWith(int code, String reason) {
        session.close(code, reason, org.eclipse.jetty.websocket.api.Callback.NOOP);
    }

    void send(String text) {
        session.sendText(text, org.eclipse.jetty.websocket.api.Callback.NOOP);
    }

    /** The next frame of this type from the agent; frames of other types before it are dropped. */
    JsonObject next(String type, Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            String f = left <= 0 ? null : frames.poll(left, TimeUnit.NANOSECONDS);
            if (f == null) throw new AssertionError("no '" + type + "' frame from the agent within " + limit);
            JsonObject o = JsonParser.parseString(f).getAsJsonObject();
            if (o.get("type").getAsString().equals(type)) return o;
        }
    }

    /**
     * Every frame from the agent up to and including the first of this type for this command id, in order: what the
     * agent said before it answered that command.
     */
    List<JsonObject> upTo(String type, String id, Duration limit) throws InterruptedException {
        List<JsonObject> seen = new java.util.ArrayList<>();
        long end = System.nanoTime() + limit.toNanos();
        while (true) {
            long left = end - System.nanoTime();
            String f = left <= 0 ? null : frames.poll(left, TimeUnit.NANOSECONDS);
            if (f == null) throw new AssertionError("no '" + type + "' frame for " + id + " within " + limit + "; before it: " + seen);
            JsonObject o = JsonParser.parseString(f).getAsJsonObject();
            seen.add(o);
            if (o.get("type").getAsString().equals(type) && o.has("id") && o.get("id").getAsString().equals(id)) return seen;
        }
    }

    static String bytes(int n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) 'x');
        return new String(b, StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws Exception {
        jetty.stop();
    }
}
