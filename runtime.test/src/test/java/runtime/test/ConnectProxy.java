package runtime.test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An HTTP CONNECT proxy on loopback, the kind an agent behind a corporate proxy goes through: it reads
 * {@code CONNECT host:port}, opens the tunnel, and copies bytes both ways (TLS passes through it untouched).
 * Records each CONNECT target.
 */
final class ConnectProxy implements AutoCloseable {
    final List<String> connects = new CopyOnWriteArrayList<>();
    /** Tunnels numbered below this forward nothing any more: a connection that went dead without a close. */
    private volatile int frozenBelow;
    private final java.util.concurrent.atomic.AtomicInteger tunnels = new java.util.concurrent.atomic.AtomicInteger();
    private final ServerSocket listener;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    ConnectProxy() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "connect-proxy");
        t.setDaemon(true);
        t.start();
    }

    String url() { return "http://127.0.0.1:" + listener.getLocalPort(); }

    /** The tunnels open now silently drop every byte from here on (both ways); new tunnels work. */
    void freeze() { frozenBelow = tunnels.get(); }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                sockets.add(client);
                Thread t = new Thread(() -> tunnel(client), "connect-proxy-tunnel");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void tunnel(Socket client) {
        try {
            InputStream in = client.getInputStream();
            String head = readHead(in);
            String[] requestLine = head.split("\r\n", 2)[0].split(" ");
            if (requestLine.length < 2 || !requestLine[0].equals("CONNECT")) {
                client.getOutputStream().write("HTTP/1.1 405 CONNECT only\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                client.close();
                return;
            }
            connects.add(requestLine[1]);
            int colon = requestLine[1].lastIndexOf(':');
            Socket upstream = new Socket(requestLine[1].substring(0, colon), Integer.parseInt(requestLine[1].substring(colon + 1)));
            sockets.add(upstream);
            client.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            int number = tunnels.getAndIncrement();
            Thread back = new Thread(() -> copy(upstream, client, number), "connect-proxy-back");
            back.setDaemon(true);
            back.start();
            copy(client, upstream, number);
        } catch (IOException | RuntimeException e) {
            closeQuietly(client);
        }
    }

    /** The request line and headers, up to the blank line; the tunnel's bytes after it are left in the stream. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) throw new IOException("the client closed before the end of its CONNECT request");
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (head.size() > 8192) throw new IOException("CONNECT request head over 8 KiB");
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    private void copy(Socket from, Socket to, int tunnel) {
        byte[] buf = new byte[16384];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (tunnel < frozenBelow) continue; // dropped: neither side hears anything, nor a close
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side went away
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) closeQuietly(s);
    }
}
