import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.concurrent.CompletionStage;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the JVM costs before any of the agent's code: run by bench/jvm-floor-bench.sh with the agent's own JVM options,
 * it does one thing and then idles, so its RSS is the floor under the agent's for that much.
 *   idle                     a JVM that waits
 *   tls SERVER CA            + one TLS connection (javax.net.ssl) to the reference server, kept open
 *   websocket SERVER CA TOKEN + the JDK's HttpClient: an agent's enrolment (HTTPS POST), then its WebSocket, kept open
 */
public final class JvmFloor {
    public static void main(String[] args) throws Exception {
        Object held = switch (args[0]) {
            case "idle" -> null;
            case "tls" -> tls(URI.create(args[1]), context(Path.of(args[2])));
            case "websocket" -> websocket(URI.create(args[1]), context(Path.of(args[2])), args[3]);
            default -> throw new IllegalArgumentException("unknown floor: " + args[0]);
        };
        System.out.println("ready " + (held == null ? "" : held.getClass().getSimpleName()));
        Thread.sleep(Long.MAX_VALUE);
    }

    private static SSLContext context(Path ca) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static SSLSocket tls(URI server, SSLContext ctx) throws Exception {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(server.getHost(), server.getPort());
        s.startHandshake();
        return s;
    }

    private static WebSocket websocket(URI server, SSLContext ctx, String enrollmentToken) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(ctx).build();
        String body = "{\"enrollmentToken\": \"" + enrollmentToken + "\", \"hostname\": \"floor\", \"machineId\": \"jvm-floor-"
            + ProcessHandle.current().pid() + "\"}";
        HttpResponse<String> enrolled = client.send(HttpRequest.newBuilder(server.resolve("/agent/v1/enroll"))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (enrolled.statusCode() != 200) throw new IllegalStateException("enrolment: HTTP " + enrolled.statusCode());
        String token = enrolled.body().replaceAll("(?s).*\"agentToken\"\\s*:\\s*\"([^\"]+)\".*", "$1");
        URI connect = URI.create(server.toString().replaceFirst("^https", "wss")).resolve("/agent/v1/connect");
        return client.newWebSocketBuilder().header("Authorization", "Bearer " + token).subprotocols("outpost.v1")
            .buildAsync(connect, new WebSocket.Listener() {
                @Override
                public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                    ws.request(1);
                    return null;
                }
            }).join();
    }
}
