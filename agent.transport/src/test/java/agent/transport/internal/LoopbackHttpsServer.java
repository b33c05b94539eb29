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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * An HTTPS server on loopback whose every answer a test writes itself, down to cutting a request's body off midway
 * (which the JDK's HttpsServer cannot do: it answers and drains on its own). Real TLS with certificates made by
 * openssl at test time. One request per connection ({@code Connection: close}), one connection at a time: enough
 * for a client that sends its requests one after another, and the simplest to reason about when one is cut.
 */
final class LoopbackHttpsServer implements AutoCloseable {
    /** A test's answer to one request. Returning without {@link Exchange#respond} drops the connection unanswered. */
    @FunctionalInterface
    interface Handler {
        void handle(Exchange exchange) throws IOException;
    }

    /** One request: its line and headers as they arrived, its body to read, and the way to answer it. */
    static final class Exchange {
        final String method;
        final String target;
        private final Map<String, String> headers;
        private final InputStream body;
        private final OutputStream out;
        private boolean answered;

        private Exchange(String method, String target, Map<String, String> headers, InputStream body, OutputStream out) {
            this.method = method;
            this.target = target;
            this.headers = headers;
            this.body = body;
            this.out = out;
        }

        /** @return the header's value (the last one when repeated), or null */
        String header(String name) { return headers.get(name.toLowerCase(Locale.ROOT)); }

        /** @return every header, names in lower case */
        Map<String, String> headers() { return headers; }

        /** @return the body, ending after {@code Content-Length} bytes */
        InputStream body() { return body; }

        /** Answers, closing the connection afterwards. */
        void respond(int status, Map<String, String> headers, byte[] content) throws IOException {
            StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            if (!headers.containsKey("Content-Length")) head.append("Content-Length: ").append(content.length).append("\r\n");
            head.append("Connection: close\r\n\r\n");
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (!method.equals("HEAD")) out.write(content);
            out.flush();
            answered = true;
        }

        private static String reason(int status) {
            return switch (status) {
                case 200 -> "OK";
                case 201 -> "Created";
                case 206 -> "Partial Content";
                case 404 -> "Not Found";
                case 409 -> "Conflict";
                case 413 -> "Content Too Large";
                case 422 -> "Unprocessable Content";
                default -> "Status";
            };
        }
    }

    /** The CA's PEM file of {@link #certificates}. */
    static final String CA_PEM = "ca.pem";

    private final SSLServerSocket server;
    private final Thread acceptor;
    private volatile Throwable handlerFailure;

    private LoopbackHttpsServer(SSLServerSocket server, Handler handler) {
        this.server = server;
        this.acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.setSoTimeout(10_000);
                    serve(s, handler);
                } catch (IOException e) {
                    // a client that closes after the handshake (a TLS check) or drops mid-request; a closed server ends the loop
                } catch (RuntimeException | Error e) {
                    handlerFailure = e; // a broken test server must fail its test, not look like a dropped connection
                }
            }
        }, "loopback-https-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Makes a CA and a server certificate for localhost and 127.0.0.1 signed by it, with openssl, in {@code dir}.
     *
     * @return the CA's PEM file, for {@code TransportSettings.serverCa}
     */
    static Path certificates(Path dir) throws Exception {
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
            "-out", CA_PEM, "-days", "2", "-subj", "/CN=Loopback Test CA");
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=localhost");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", CA_PEM, "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
            "-days", "2", "-extfile", "san.ext");
        openssl(dir, "pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile", CA_PEM, "-out", "server.p12",
            "-passout", "pass:test");
        return dir.resolve(CA_PEM);
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("openssl (package openssl) %s: %s", List.of(args), log).isZero();
    }

    /**
     * Starts a server with the certificate {@link #certificates} made in {@code dir}, on a free loopback port.
     */
    static LoopbackHttpsServer start(Path dir, Handler handler) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("server.p12"))) {
            ks.load(in, "test".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "test".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return new LoopbackHttpsServer(
            (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress()), handler);
    }

    int port() { return server.getLocalPort(); }

    /** @return {@code https://127.0.0.1:<port>} */
    URI url() { return URI.create("https://127.0.0.1:" + port()); }

    /** Stops accepting; rethrows what broke a handler, if anything did. */
    @Override
    public void close() throws Exception {
        server.close();
        acceptor.join(5000);
        Throwable f = handlerFailure;
        if (f instanceof Error e) throw e;
        if (f instanceof RuntimeException e) throw e;
    }

    private static void serve(SSLSocket s, Handler handler) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0; ) {
            head.write(b);
            if (head.size() >= 4 && head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) break;
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        if (h.isEmpty()) return;
        String[] line = h.substring(0, h.indexOf("\r\n")).split(" ");
        Map<String, String> headers = new LinkedHashMap<>();
        h.lines().skip(1).filter(l -> l.contains(":"))
            .forEach(l -> headers.put(l.substring(0, l.indexOf(':')).trim().toLowerCase(Locale.ROOT), l.substring(l.indexOf(':') + 1).trim()));
        long length = Long.parseLong(headers.getOrDefault("content-length", "0"));
        InputStream body = new BoundedInput(in, length);
        Exchange x = new Exchange(line[0], line[1], headers, body, s.getOutputStream());
        handler.handle(x);
        // an answered request's unread body is read before closing: closing on unread bytes resets the connection,
        // and a reset can throw away the answer before the client reads it. An unanswered one is cut at once.
        if (x.answered) body.transferTo(OutputStream.nullOutputStream());
    }

    /** The first {@code length} bytes of a stream. */
    private static final class BoundedInput extends InputStream {
        private final InputStream in;
        private long left;

        BoundedInput(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) return -1;
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) left -= n;
            return n;
        }
    }
}
