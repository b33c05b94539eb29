package agent.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.transport.ServerRequests.Check;
import agent.transport.TransportSettings;

/**
 * The preflight's clock line against an HTTPS server whose {@code Date} the test chooses (the reference server
 * sends none): a real TLS server on loopback with certificates made by openssl at test time.
 */
class PreflightTest {
    @TempDir
    Path dir;
    private SSLServerSocket server;
    private Thread acceptor;

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
        if (acceptor != null) acceptor.join(5000);
    }

    private void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("openssl (package openssl) %s: %s", List.of(args), log).isZero();
    }

    /** A CA and a server certificate for localhost and 127.0.0.1 signed by it; returns the CA's PEM file. */
    private Path certificates() throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=Preflight Test CA");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=localhost");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
            "-days", "2", "-extfile", "san.ext");
        openssl("pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile", "ca.pem", "-out", "server.p12",
            "-passout", "pass:test");
        return dir.resolve("ca.pem");
    }

    /** An HTTPS server on loopback answering every request 200 with a JSON body, and the Date header given. */
    private int serve(Function<String, String> date) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("server.p12"))) {
            ks.load(in, "test".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "test".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        server = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.setSoTimeout(10_000);
                    answer(s, date);
                } catch (IOException e) {
                    // the preflight's TLS check closes after the handshake; a closed server ends the loop
                }
            }
        }, "https-test-server");
        acceptor.setDaemon(true);
        acceptor.start();
        return server.getLocalPort();
    }

    private static void answer(SSLSocket s, Function<String, String> date) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            String h = head.toString(StandardCharsets.ISO_8859_1);
            if (h.endsWith("\r\n\r\n")) break;
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        if (h.isEmpty()) return;
        Map<String, String> headers = h.lines().skip(1).filter(l -> l.contains(":"))
            .collect(Collectors.toMap(l -> l.substring(0, l.indexOf(':')).trim().toLowerCase(), l -> l.substring(l.indexOf(':') + 1).trim(), (x, y) -> y));
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        in.readNBytes(length);
        String path = h.substring(h.indexOf(' ') + 1, h.indexOf(' ', h.indexOf(' ') + 1));
        String body = path.equals("/agent/v1/enroll") ? "{\"agentId\": \"a-1\", \"agentToken\": \"t-1\"}" : "{\"ack\": []}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String d = date.apply(path);
        OutputStream out = s.getOutputStream();
        out.write(("HTTP/1.1 200 OK\r\n" + (d == null ? "" : "Date: " + d + "\r\n") + "Content-Type: application/json\r\n"
            + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
        out.flush();
    }

    private TransportSettings settings(Path ca, int port) {
        TransportSettings s = new TransportSettings();
        s.serverUrl = URI.create("https://127.0.0.1:" + port);
        s.serverCa = ca;
        s.enrollmentToken = "token";
        s.dataDir = dir.resolve("data");
        s.machineId = "m-1";
        s.hostname = "h";
        s.maxClockSkewSeconds = 300;
        return s;
    }

    private static Check line(List<Check> checks, String name) {
        return checks.stream().filter(c -> c.name().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no line '" + name + "' in " + checks));
    }

    private static String httpDate(ZonedDateTime t) { return DateTimeFormatter.RFC_1123_DATE_TIME.format(t); }

    @Test
    void aServerClockAnHourBehindFailsTheClockLineAndOnlyIt() throws Exception {
        Path ca = certificates();
        int port = serve(path -> httpDate(ZonedDateTime.now(ZoneOffset.UTC).minus(Duration.ofHours(1))));

        List<Check> checks = new Preflight(settings(ca, port)).run();

        Check clock = line(checks, "clock");
        assertThat(clock.ok()).as("%s", checks).isFalse();
        assertThat(clock.detail()).matches("this host's clock is 360[01] s ahead of the server's: more than the 300 s allowed.*");
        assertThat(clock.hint()).contains("synchronise the clock");
        assertThat(checks).filteredOn(c -> !c.name().equals("clock")).allSatisfy(c -> assertThat(c.ok()).as("%s", c).isTrue());
        assertThat(checks).extracting(Check::name)
            .containsExactly("dns", "proxy", "tcp", "tls", "certificate", "host name", "clock", "credentials");
        assertThat(line(checks, "credentials").detail()).contains("enrolled as agent a-1");
    }

    @Test
    void aServerClockInStepPassesAndAServerWithoutDateSaysItCouldNotMeasure() throws Exception {
        Path ca = certificates();
        int port = serve(path -> httpDate(ZonedDateTime.now(ZoneOffset.UTC)));
        Check clock = line(new Preflight(settings(ca, port)).run(), "clock");
        assertThat(clock.ok()).as("%s", clock).isTrue();
        assertThat(clock.detail()).matches("this host's clock (agrees with the server's.*|is 1 s (ahead of|behind) the server's.*)");
        stop();

        int bare = serve(path -> null);
        Check unmeasured = line(new Preflight(settings(ca, bare)).run(), "clock");
        assertThat(unmeasured.ok()).isTrue();
        assertThat(unmeasured.detail()).startsWith("not measured: the server's answers carry no Date header");
    }
}
