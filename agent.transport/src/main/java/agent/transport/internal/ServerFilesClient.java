package agent.transport.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import agent.api.ServerFiles;
import agent.transport.TransportSettings;

/**
 * agent.api's {@link ServerFiles} over HTTPS (docs/protocol.md §7.1): the agent's credentials, TLS settings and proxy,
 * only towards the server's own origin. A client is made per download or upload, so an agent that never uses this
 * keeps no HTTP threads for it.
 */
final class ServerFilesClient implements ServerFiles {
    private static final Logger LOG = Logger.getLogger("agent.transport.files");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    /** What the protocol lets {@code Upload-Meta} carry, as JSON text. */
    static final int MAX_META_BYTES = 4096;
    /** Until the response headers of a download come; reading the body is the caller's to bound. */
    private static final Duration HEADERS = Duration.ofSeconds(60);
    /** An upload's response comes after its last byte: a slow link must not time out a big file. */
    private static final long SLOWEST_UPLOAD_BYTES_PER_SECOND = 256 * 1024;

    private final TransportSettings settings;

    /** @param settings where the server is, its TLS, the proxy, the data dir with the credentials */
    ServerFilesClient(TransportSettings settings) { this.settings = settings; }

    @Override
    public Download open(String path, long offset, String etag) throws IOException, InterruptedException {
        if (offset < 0) throw new IllegalArgumentException("offset must be 0 or more, got " + offset);
        URI uri = resolve(path);
        HttpClient http = HttpClients.of(settings);
        HttpRequest.Builder rq = authorized(http, uri).timeout(HEADERS).GET();
        if (offset > 0) {
            rq.header("Range", "bytes=" + offset + "-");
            if (etag != null && !etag.startsWith("W/")) rq.header("If-Range", etag);
        }
        HttpResponse<InputStream> r;
        try {
            r = http.send(rq.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new IOException("GET " + uri + " failed: " + reason(e), e);
        }
        int status = r.statusCode();
        if (status != 200 && status != 206) {
            String body = excerpt(r.body());
            throw refusal(status, "GET " + uri, body);
        }
        String tag = r.headers().firstValue("ETag").orElse(null);
        long start = 0;
        long size = r.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (status == 206) {
            Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
            if (!m.matches() || Long.parseLong(m.group(1)) != offset) {
                r.body().close();
                throw new IOException("GET " + uri + " from byte " + offset + " answered a range the agent did not ask for: "
                    + r.headers().firstValue("Content-Range").orElse("no Content-Range"));
            }
            start = offset;
            size = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
        }
        return new OpenDownload(r.body(), start, size, tag);
    }

    @Override
    public Upload upload(String path, Path file, String sha256, String meta, int attempts, LongConsumer progress)
            throws IOException, InterruptedException {
        URI uri = resolve(path);
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits, got '" + sha256 + "'");
        }
        if (attempts < 1) throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
        String metaHeader = null;
        if (meta != null) {
            byte[] m = meta.getBytes(StandardCharsets.UTF_8);
            if (m.length > MAX_META_BYTES) {
                throw new IllegalArgumentException("meta is " + m.length + " bytes as JSON; the protocol allows " + MAX_META_BYTES);
            }
            metaHeader = Base64.getEncoder().encodeToString(m);
        }
        long size = Files.size(file);
        LongConsumer told = growing(progress);
        HttpClient http = HttpClients.of(settings);
        long resumedFrom = -1;
        int puts = 0;
        IOException last = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            if (attempt > 1) Thread.sleep(Math.min(10_000L, 500L << Math.min(attempt - 2, 5)));
            long held;
            try {
                held = held(http, uri, size, sha256);
            } catch (ServerFileException e) {
                throw e;
            } catch (IOException e) {
                last = e;
                LOG.fine(() -> "HEAD " + uri + " failed (" + e + "); trying again");
                continue;
            }
            if (resumedFrom < 0) resumedFrom = held;
            if (told != null) told.accept(held);
            List<InputStream> opened = new ArrayList<>();
            HttpRequest.Builder rq = authorized(http, uri)
                .timeout(Duration.ofMinutes(5).plusSeconds((size - held) / SLOWEST_UPLOAD_BYTES_PER_SECOND))
                .header("Upload-Offset", Long.toString(held)).header("Upload-Length", Long.toString(size))
                .header("Upload-Sha256", sha256).header("Content-Type", "application/octet-stream")
                .PUT(rest(file, held, size, told, opened));
            if (metaHeader != null) rq.header("Upload-Meta", metaHeader);
            HttpResponse<String> r;
            puts++;
            try {
                r = http.send(rq.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (IOException e) {
                last = e;
                LOG.fine(() -> "PUT " + uri + " dropped (" + e + "); the server keeps what arrived");
                continue;
            } finally {
                closeAll(opened); // a request cut short may leave its body's file open
            }
            if (r.statusCode() == 200 || r.statusCode() == 201) {
                if (told != null) told.accept(size);
                return new Upload(size, resumedFrom, puts, r.body());
            }
            // 409: another offset than the server holds; 204: the body ended before the file did (server's README)
            if ((r.statusCode() == 409 || r.statusCode() == 204) && r.headers().firstValue("Upload-Offset").isPresent()) {
                last = new IOException("PUT " + uri + " at byte " + held + ": the server holds "
                    + r.headers().firstValue("Upload-Offset").get() + " bytes");
                continue; // another attempt asks again
            }
            if (r.statusCode() >= 500) {
                last = new IOException("PUT " + uri + " answered HTTP " + r.statusCode() + ": " + excerpt(r.body()));
                continue;
            }
            throw refusal(r.statusCode(), "PUT " + uri, excerpt(r.body()));
        }
        throw new IOException("uploading " + file + " to " + uri + " failed in " + attempts + " attempt(s); the server keeps"
            + " what arrived for the next upload to resume (last: " + (last == null ? "none" : reason(last)) + ")");
    }

    /** @return the bytes the server holds of this upload ({@code HEAD}'s {@code Upload-Offset}) */
    private long held(HttpClient http, URI uri, long size, String sha256) throws IOException, InterruptedException {
        HttpResponse<Void> r = http.send(authorized(http, uri).timeout(HEADERS).method("HEAD", HttpRequest.BodyPublishers.noBody())
            .header("Upload-Length", Long.toString(size)).header("Upload-Sha256", sha256).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() >= 500) throw new IOException("HEAD " + uri + " answered HTTP " + r.statusCode());
        // an answer to HEAD has no body to say why: say what protocol §7.1 gives these statuses to mean
        if (r.statusCode() == 413) {
            throw refusal(413, "HEAD " + uri, "the server takes no file of " + size + " bytes (over its limit)");
        }
        if (r.statusCode() == 409) {
            throw refusal(409, "HEAD " + uri, "another file is stored under this name with another sha256; a stored file is not replaced");
        }
        if (r.statusCode() != 200) throw refusal(r.statusCode(), "HEAD " + uri, "");
        String offset = r.headers().firstValue("Upload-Offset").orElse(null);
        long n;
        try {
            n = offset == null ? -1 : Long.parseLong(offset);
        } catch (NumberFormatException e) {
            n = -1;
        }
        if (n < 0 || n > size) {
            throw new ServerFileException(502, "HEAD " + uri + " answered no usable Upload-Offset (got " + offset + " for a file of "
                + size + " bytes): the server does not speak docs/protocol.md §7.1");
        }
        return n;
    }

    /**
     * Progress that only grows: a PUT reads the file ahead of what arrives, so after a dropped connection the server
     * holds less than was told; the bytes sent again up to that mark are not news. Told from the caller's thread
     * (HEAD) and the HTTP client's (the body), one at a time.
     */
    private static LongConsumer growing(LongConsumer progress) {
        if (progress == null) return null;
        long[] most = {-1};
        return n -> {
            synchronized (most) {
                if (n <= most[0]) return;
                most[0] = n;
                progress.accept(n);
            }
        };
    }

    /** The body of a PUT: the file from {@code held} on; none when the server holds it all (or it is empty). */
    private static HttpRequest.BodyPublisher rest(Path file, long held, long size, LongConsumer progress, List<InputStream> opened) {
        // fromPublisher refuses a length of 0
        if (held == size) return HttpRequest.BodyPublishers.noBody();
        return HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
            InputStream in = from(file, held, progress);
            synchronized (opened) {
                opened.add(in);
            }
            return in;
        }), size - held);
    }

    private static void closeAll(List<InputStream> opened) {
        synchronized (opened) {
            for (InputStream in : opened) {
                try {
                    in.close();
                } catch (IOException e) {
                    // a file opened for reading: nothing is lost
                }
            }
            opened.clear();
        }
    }

    /** The file from a byte on, counting what is read for the progress. */
    private static InputStream from(Path file, long offset, LongConsumer progress) {
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            ch.position(offset);
            InputStream in = Channels.newInputStream(ch);
            if (progress == null) return in;
            return new FilterInputStream(in) {
                long at = offset;

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) progress.accept(at += n);
                    return n;
                }
            };
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** @return the server URL of a path of the server; anything else is refused */
    private URI resolve(String path) {
        if (path == null || !path.startsWith("/") || path.startsWith("//") || path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("a server file is named by a path that starts with a single '/', got '" + path + "'");
        }
        URI uri = settings.serverUrl.resolve(path);
        if (!uri.getScheme().equals(settings.serverUrl.getScheme()) || !uri.getHost().equalsIgnoreCase(settings.serverUrl.getHost())
                || uri.getPort() != settings.serverUrl.getPort()) {
            throw new IllegalArgumentException("'" + path + "' does not name a file of the server " + settings.serverUrl);
        }
        return uri;
    }

    private HttpRequest.Builder authorized(HttpClient http, URI uri) throws IOException, InterruptedException {
        try {
            return HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + Credentials.loadOrEnroll(http, settings).token);
        } catch (Credentials.Unauthorized e) {
            throw new ServerFileException(401, "cannot reach " + uri + ": " + e.getMessage());
        }
    }

    private ServerFileException refusal(int status, String what, String body) {
        if (status == 401 || status == 403) {
            return new ServerFileException(status, what + ": the server refused the agent's credentials (HTTP " + status + ")"
                + (body.isEmpty() ? "" : ": " + body));
        }
        return new ServerFileException(status, what + " answered HTTP " + status + (body.isEmpty() ? "" : ": " + body));
    }

    /** An exception in words: the JDK's HTTP client throws some, a refused connection among them, without a message. */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank()) return t == e ? m : e.getClass().getSimpleName() + ": " + m;
        }
        return e.getClass().getSimpleName();
    }

    /** The server's error text: its JSON {@code error} when it sent one, else the start of the body. */
    private static String excerpt(String body) {
        if (body == null || body.isBlank()) return "";
        try {
            com.google.gson.JsonElement e = Codec.parse(body, "an error answer");
            if (e.isJsonObject() && e.getAsJsonObject().has("error")) return e.getAsJsonObject().get("error").getAsString();
        } catch (Codec.FrameException | RuntimeException e) {
            // not JSON: the text itself
        }
        String s = body.strip();
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }

    private static String excerpt(InputStream body) throws IOException {
        try (InputStream in = body) {
            return excerpt(new String(in.readNBytes(4096), StandardCharsets.UTF_8));
        }
    }

    private record OpenDownload(InputStream body, long offset, long size, String etag) implements Download {
        @Override
        public void close() throws IOException { body.close(); }
    }
}
