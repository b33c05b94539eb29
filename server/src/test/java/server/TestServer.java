package server;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.pki.Pem;

/** A real server on 127.0.0.1 (port chosen by the OS) in a temporary data dir, and clients that trust its CA. */
final class TestServer implements AutoCloseable {
    final OutpostServer server;
    final Path dir;
    final URI base;
    final HttpClient http;
    final String operatorToken;
    final String enrollmentToken;
    final SSLContext tls;

    private TestServer(OutpostServer server, Path dir) throws IOException {
        this.server = server;
        this.dir = dir;
        this.base = URI.create(Files.readString(dir.resolve("server.url")).trim());
        this.tls = Pem.clientContext(dir.resolve("ca.pem"), null, null);
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
        this.operatorToken = Files.readString(dir.resolve("operator.token")).trim();
        this.enrollmentToken = Files.readString(dir.resolve("enrollment.token")).trim();
    }

    static TestServer start(Path dir) throws Exception {
        return start(OutpostServer.Options.defaults(dir).withPort(0).withBindHost("127.0.0.1"));
    }

    static TestServer start(Path dir, OutpostServer.Limits limits) throws Exception {
        return start(OutpostServer.Options.defaults(dir).withPort(0).withBindHost("127.0.0.1").withLimits(limits));
    }

    static TestServer start(OutpostServer.Options o) throws Exception {
        return new TestServer(OutpostServer.start(o), o.dataDir());
    }

    @Override
    public void close() {
        server.close();
    }

    record Response(int status, String body) {
        JsonElement json() {
            return JsonParser.parseString(body);
        }

        JsonObject object() {
            return json().getAsJsonObject();
        }
    }

    Response send(String method, String path, String bearer, HttpRequest.BodyPublisher body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).method(method, body);
        if (bearer != null) b.header("Authorization", "Bearer " + bearer);
        HttpResponse<String> rs = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Response(rs.statusCode(), rs.body());
    }

    Response post(String path, String bearer, String json) throws Exception {
        return send("POST", path, bearer, HttpRequest.BodyPublishers.ofString(json));
    }

    Response get(String path, String bearer) throws Exception {
        return send("GET", path, bearer, HttpRequest.BodyPublishers.noBody());
    }

    Response operatorGet(String path) throws Exception {
        return get(path, operatorToken);
    }

    Response operatorPost(String path, String json) throws Exception {
        return post(path, operatorToken, json);
    }

    record Agent(String agentId, String token) {}

    Agent enroll(String machineId) throws Exception {
        JsonObject rq = new JsonObject();
        rq.addProperty("enrollmentToken", enrollmentToken);
        rq.addProperty("hostname", "host-" + machineId);
        rq.addProperty("machineId", machineId);
        Response rs = post("/agent/v1/enroll", null, rq.toString());
        assertThat(rs.status()).as(rs.body()).isEqualTo(200);
        return new Agent(rs.object().get("agentId").getAsString(), rs.object().get("agentToken").getAsString());
    }

    /** Queues a command through the operator API; returns its id. */
    String command(String agentId, String action, String paramsJson) throws Exception {
        Response rs = operatorPost("/api/v1/commands",
            "{\"agentId\":\"" + agentId + "\",\"action\":\"" + action + "\",\"params\":" + paramsJson + "}");
        assertThat(rs.status()).as(rs.body()).isEqualTo(201);
        return rs.object().getAsJsonArray("commands").get(0).getAsJsonObject().get("id").getAsString();
    }

    JsonObject commandView(String id) throws Exception {
        Response rs = operatorGet("/api/v1/commands/" + id);
        assertThat(rs.status()).as(rs.body()).isEqualTo(200);
        return rs.object();
    }

    /** Polls until {@code condition} holds (the server acts asynchronously), failing after 10 s. */
    static void eventually(String what, Supplier<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.get()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for: " + what);
            Thread.sleep(20);
        }
    }

    WsAgent connect(String token) throws Exception {
        return WsAgent.connect(this, token);
    }

    /** A scripted agent on the WebSocket transport: every frame it receives is queued for the test to take. */
    static final class WsAgent implements WebSocket.Listener, AutoCloseable {
        final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
        final BlockingQueue<ByteBuffer> pongs = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        WebSocket ws;

        static WsAgent connect(TestServer s, String token) throws Exception {
            WsAgent a = new WsAgent();
            WebSocket.Builder b = s.http.newWebSocketBuilder().subprotocols("outpost.v1").connectTimeout(Duration.ofSeconds(5));
            if (token != null) b.header("Authorization", "Bearer " + token);
            URI uri = URI.create(s.base.toString().replaceFirst("^https", "wss") + "/agent/v1/connect");
            a.ws = b.buildAsync(uri, a).get(10, TimeUnit.SECONDS);
            return a;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                frames.add(JsonParser.parseString(partial.toString()).getAsJsonObject());
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
            pongs.add(message);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeCode.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closeCode.completeExceptionally(error);
        }

        void send(String text) throws Exception {
            ws.sendText(text, true).get(10, TimeUnit.SECONDS);
        }

        void send(JsonObject frame) throws Exception {
            send(frame.toString());
        }

        JsonObject next() throws InterruptedException {
            JsonObject f = frames.poll(10, TimeUnit.SECONDS);
            assertThat(f).as("a frame from the server within 10 s").isNotNull();
            return f;
        }

        JsonObject expect(String type) throws InterruptedException {
            JsonObject f = next();
            assertThat(f.get("type").getAsString()).as("frame " + f).isEqualTo(type);
            return f;
        }

        /** Sends the hello of an agent that predates {@code maxFrameBytes} and returns the welcome. */
        JsonObject hello(String agentId) throws Exception {
            return hello(agentId, null);
        }

        /** Sends hello, saying {@code maxFrameBytes} and the features of a current agent unless null, and returns the welcome. */
        JsonObject hello(String agentId, Integer maxFrameBytes) throws Exception {
            send(helloFrame(agentId, maxFrameBytes));
            return expect("welcome");
        }

        /** Waits for the next frame of {@code type}, skipping others (acks, say); fails after 10 s. */
        JsonObject awaitFrame(String type) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                JsonObject f = frames.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertThat(f).as("a '" + type + "' frame from the server within 10 s").isNotNull();
                if (f.get("type").getAsString().equals(type)) return f;
            }
        }

        static String helloFrame(String agentId, Integer maxFrameBytes) {
            return "{\"type\":\"hello\",\"protocol\":1,\"agentId\":\"" + agentId + "\",\"agentVersion\":\"0.1.0\",\"hostname\":\"h\","
                + "\"os\":{\"name\":\"Debian\",\"version\":\"12\",\"kernel\":\"6.1\",\"arch\":\"amd64\"},\"mode\":\"managed\","
                + (maxFrameBytes == null ? "" : "\"maxFrameBytes\":" + maxFrameBytes + ",\"features\":[\"dryRun\",\"errorCode\",\"eventIds\"],")
                + "\"plugins\":[{\"bsn\":\"plugin.echo\",\"version\":\"0.1.0\",\"state\":\"active\",\"actions\":[\"echo.say\"]}]}";
        }

        static String result(String id, String status) {
            return "{\"type\":\"result\",\"id\":\"" + id + "\",\"status\":\"" + status + "\",\"exitCode\":0,\"output\":\"hi\\n\","
                + "\"outputTruncated\":false,\"data\":{\"echo\":42},\"startedAt\":\"2026-11-24T10:00:00Z\","
                + "\"finishedAt\":\"2026-11-24T10:00:01Z\"}";
        }

        int awaitClose() throws Exception {
            return closeCode.get(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            ws.abort();
        }

        void ping() {
            ws.sendPing(ByteBuffer.wrap(new byte[] {1}));
        }
    }
}
