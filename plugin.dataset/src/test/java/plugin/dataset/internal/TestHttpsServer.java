package plugin.dataset.internal;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLServerSocket;

/**
 * An HTTPS server on loopback for the download tests, small enough to make it misbehave on purpose: it serves byte
 * arrays by path, honours {@code Range: bytes=N-} (with {@code If-Range} against its ETag), closes every connection
 * after one response, records every request and counts every body byte it sends, and can cut a body after N bytes or
 * hold it there until the test releases it.
 */
final class TestHttpsServer implements AutoCloseable {
    /** One request as the server saw it. */
    record Request(String path, String range, String ifRange) {}

    private final SSLServerSocket socket;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Map<String, String> etags = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    final AtomicLong bodyBytesSent = new AtomicLong();
    /** the next response body is cut (the connection closed) after this many bytes; -1: never */
    volatile long cutAfter = -1;
    /** the next response body stops after this many bytes until {@link #release} is counted down; -1: never */
    volatile long holdAfter = -1;
    final CountDownLatch held = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean ignoreRange;

    TestHttpsServer(Path keystore) throws Exception {
        socket = (SSLServerSocket) TestTls.get().serverContext(keystore).getServerSocketFactory()
            .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "test-https");
        t.setDaemon(true);
        t.start();
    }

    String url(String path) { return "https://127.0.0.1:" + socket.getLocalPort() + path; }

    int port() { return socket.getLocalPort(); }

    void serve(String path, byte[] content) {
        files.put(path, content);
        etags.put(path, "\"v" + Integer.toHexString(java.util.Arrays.hashCode(content)) + "\"");
    }

    private void acceptLoop() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                Thread t = new Thread(() -> handle(s), "test-https-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void handle(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            String requestLine = line(in);
            if (requestLine == null) return;
            Map<String, String> headers = new ConcurrentHashMap<>();
            String h;
            while ((h = line(in)) != null && !h.isEmpty()) {
                int c = h.indexOf(':');
                if (c > 0) headers.put(h.substring(0, c).trim().toLowerCase(Locale.ROOT), h.substring(c + 1).trim());
            }
            String path = requestLine.split(" ")[1];
            requests.add(new Request(path, headers.get("range"), headers.get("if-range")));
            OutputStream out = s.getOutputStream();
            byte[] body = files.get(path);
            if (body == null) {
                out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            String etag = etags.get(path);
            String range = headers.get("range");
            long start = 0;
            boolean partial = false;
            if (range != null && range.startsWith("bytes=") && range.endsWith("-") && !ignoreRange
                && (headers.get("if-range") == null || headers.get("if-range").equals(etag))) {
                start = Long.parseLong(range.substring(6, range.length() - 1));
                if (start >= body.length) {
                    out.write(("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" + body.length
                        + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    return;
                }
                partial = true;
            }
            StringBuilder head = new StringBuilder(partial ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n");
            head.append("Content-Length: ").append(body.length - start).append("\r\n");
            if (partial) head.append("Content-Range: bytes ").append(start).append('-').append(body.length - 1).append('/').append(body.length).append("\r\n");
            head.append("ETag: ").append(etag).append("\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n");
            out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
            long cut = cutAfter;
            long hold = holdAfter;
            cutAfter = -1;
            holdAfter = -1;
            long sent = 0;
            int pos = (int) start;
            while (pos < body.length) {
                int n = Math.min(8192, body.length - pos);
                if (cut >= 0 && sent + n > cut) n = (int) (cut - sent);
                if (hold >= 0 && sent + n > hold) n = (int) (hold - sent);
                if (n > 0) {
                    out.write(body, pos, n);
                    pos += n;
                    sent += n;
                    bodyBytesSent.addAndGet(n);
                }
                if (cut >= 0 && sent == cut) {
                    out.flush();
                    return; // the connection closes mid-body
                }
                if (hold >= 0 && sent == hold) {
                    out.flush();
                    held.countDown();
                    release.await(60, TimeUnit.SECONDS);
                    return;
                }
            }
            out.flush();
        } catch (IOException | InterruptedException e) {
            // the client went away: nothing to answer
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') break;
            if (c != '\r') b.write(c);
        }
        if (c < 0 && b.size() == 0) return null;
        return b.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException { socket.close(); }
}
