package plugin.dataset.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;

/**
 * Downloads one file over HTTPS into {@code <part>} and resumes it: a dropped connection is retried with a
 * {@code Range} request for what is missing (validated with {@code If-Range} against the first response's ETag or
 * Last-Modified), and so is a part file left by an earlier run of the agent. The sha256 is computed as the bytes
 * arrive (the part already on disk is hashed once, at the start), so the whole file is never read twice.
 *
 * <p>TLS: the JDK's trust store (the system's CA certificates) plus the certificates of the plugin's
 * {@code ca_file}, with the JDK's hostname verification. Proxy: {@code https_proxy} of the plugin's settings, else the
 * environment's {@code https_proxy}/{@code HTTPS_PROXY} (hosts in {@code no_proxy} go direct).
 */
final class Downloader {
    /** Writing the part file failed (a full disk): not a network problem, so not retried. */
    static final class WriteFailed extends IOException {
        private static final long serialVersionUID = 1L;

        WriteFailed(String message, IOException cause) { super(message, cause); }
    }

    /** How a download ended. */
    record Result(long size, String sha256, long resumedFrom, int requests, long fetched) {}

    private final DatasetSettings settings;
    private final CommandContext ctx;
    private final HttpClient client;

    Downloader(DatasetSettings settings, CommandContext ctx) throws CommandException {
        this.settings = settings;
        this.ctx = ctx;
        HttpClient.Builder b = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(settings.connectTimeoutSeconds()))
            .followRedirects(HttpClient.Redirect.NORMAL) // never from https to http
            .sslContext(sslContext(settings.caFile()));
        ProxySelector proxy = proxy(settings.httpsProxy(), System.getenv());
        if (proxy != null) b.proxy(proxy);
        this.client = b.build();
    }

    /**
     * @param uri  where to download from
     * @param part the part file (created, or continued if it exists)
     * @param meta where the validators of the first response are kept, beside the part file
     * @return size, sha256, where it resumed from, how many requests, how many bytes came over the network
     */
    Result download(URI uri, Path part, Path meta) throws CommandException, CommandCancelledException, IOException {
        MessageDigest sha = sha256();
        Properties validators = loadMeta(meta, uri);
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (have > 0) hash(part, sha);
        long resumedFrom = have;
        long fetched = 0;
        int requests = 0;
        int failures = 0;
        long total = validators.containsKey("length") ? Long.parseLong(validators.getProperty("length")) : -1;
        while (true) {
            ctx.checkCancelled();
            if (total >= 0 && have == total) break;
            HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(Math.max(30, settings.stallSeconds())))
                .header("User-Agent", "outpost-agent plugin.dataset").GET();
            if (have > 0) {
                req.header("Range", "bytes=" + have + "-");
                String validator = validators.getProperty("etag", validators.getProperty("lastModified"));
                if (validator != null && !validator.startsWith("W/")) req.header("If-Range", validator);
            }
            requests++;
            ctx.output().println("$ GET " + display(uri) + (have > 0 ? " (Range: bytes=" + have + "-)" : ""));
            PartSink sink = new PartSink(uri, part, have, sha, total);
            HttpResponse<Void> res;
            try {
                res = await(client.sendAsync(req.build(), sink::subscriber), sink);
            } catch (SSLHandshakeException e) {
                throw new CommandException("TLS handshake with " + uri.getHost() + " failed: " + e.getMessage() + ". The server's certificate "
                    + "must be signed by a CA in the system's trust store or in plugins.settings.dataset.ca_file. Nothing was changed.");
            } catch (WriteFailed e) {
                throw new CommandException(e.getMessage() + "; " + sink.position + " bytes are kept for the next attempt. Nothing was changed.");
            } catch (IOException e) {
                fetched += sink.received;
                if (sink.started) {
                    have = sink.position;
                    sha = sink.sha;
                    total = sink.total;
                    if (sink.fresh) {
                        resumedFrom = 0;
                        validators = sink.validators;
                        saveMeta(meta, validators);
                    }
                    ctx.output().println("the connection broke after " + have + " bytes (" + e.getMessage() + "); resuming");
                }
                if (++failures > settings.retries()) throw gaveUp(uri, e, have);
                pause(failures, e);
                continue;
            }
            fetched += sink.received;
            int status = res.statusCode();
            if (status == 200 || status == 206) {
                if (sink.startMismatch != null) {
                    throw new CommandException("the server answered a request for bytes " + have + "- with " + Text.quote(sink.startMismatch)
                        + "; the download cannot continue. Nothing was changed.");
                }
                if (sink.fresh) {
                    if (have > 0) ctx.output().println("the server sent the whole file (no range, or it changed): started again from byte 0");
                    resumedFrom = 0;
                    validators = sink.validators;
                    saveMeta(meta, validators);
                }
                have = sink.position;
                sha = sink.sha;
                total = sink.total >= 0 ? sink.total : have; // no length given: the end of the body is the end of the file
                if (have != total) {
                    if (++failures > settings.retries()) throw gaveUp(uri, new IOException("the body ended after " + have + " of " + total + " bytes"), have);
                    continue;
                }
                break;
            }
            if (status == 416 && have > 0) {
                // what we have may be the whole file already, or the file changed under us
                long size = contentRangeTotal(res.headers().firstValue("Content-Range").orElse(null));
                if (size == have) {
                    total = have;
                    break;
                }
                ctx.output().println("the server refused the range (its file is " + size + " bytes, " + have + " are here): starting again");
                Files.deleteIfExists(part);
                have = 0;
                sha = sha256();
                continue;
            }
            if (status == 404 || status == 410) {
                throw new CommandRefusedException("the server has no data set at " + display(uri) + " (HTTP " + status + "). Nothing was changed.",
                    ErrorCode.NOT_FOUND);
            }
            if (status >= 500 || status == 408 || status == 429) {
                if (++failures > settings.retries()) {
                    throw new CommandException("the server answered HTTP " + status + " to " + display(uri) + " " + failures
                        + " times; gave up. " + (have > 0 ? have + " bytes are kept for the next attempt. " : "") + "Nothing was changed.");
                }
                pause(failures, new IOException("HTTP " + status));
                continue;
            }
            throw new CommandException("the server answered HTTP " + status + " to " + display(uri) + ". Nothing was changed.");
        }
        return new Result(have, HexFormat.of().formatHex(sha.digest()), resumedFrom, requests, fetched);
    }

    /**
     * Waits for a response, checking every quarter second for a cancel and for a body that has stalled for
     * {@code stall_seconds} (a connection that died without a reset would otherwise hang the download).
     */
    private HttpResponse<Void> await(CompletableFuture<HttpResponse<Void>> f, PartSink sink) throws IOException, CommandCancelledException {
        long stallNanos = TimeUnit.SECONDS.toNanos(settings.stallSeconds());
        try {
            while (true) {
                try {
                    return f.get(250, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (ctx.isCancelled()) {
                        f.cancel(true);
                        sink.abort(null);
                        ctx.checkCancelled();
                    }
                    if (sink.started && System.nanoTime() - sink.lastData > stallNanos) {
                        IOException stall = new IOException("no data for " + settings.stallSeconds() + " s");
                        sink.abort(stall);
                        f.cancel(true);
                        throw stall;
                    }
                    sink.progress();
                }
            }
        } catch (InterruptedException e) {
            f.cancel(true);
            sink.abort(null);
            Thread.currentThread().interrupt();
            ctx.checkCancelled();
            throw new InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) c = c.getCause();
            if (c instanceof IOException) throw (IOException) c;
            throw new IOException(c);
        } catch (java.util.concurrent.CancellationException e) {
            ctx.checkCancelled();
            throw new IOException("the request was cancelled", e);
        } finally {
            sink.close();
        }
    }

    /**
     * Where a response body goes: for a 200 the part file from byte 0 (and the response's validators are remembered),
     * for a 206 from the byte it continues; each buffer is written and hashed as it arrives, on the client's thread, so
     * that whatever arrived before a connection broke is on disk (a stream the caller reads would drop the buffers
     * queued when the error came). Other statuses' bodies are discarded.
     */
    private final class PartSink {
        final URI uri;
        final Path part;
        final long have;
        volatile MessageDigest sha;
        volatile long position;
        volatile long received;
        volatile long total;
        volatile long lastData = System.nanoTime();
        volatile boolean started;
        volatile boolean fresh;
        volatile String startMismatch;
        volatile Properties validators;
        private volatile FileChannel out;
        private volatile Flow.Subscription subscription;
        private final CompletableFuture<Void> body = new CompletableFuture<>();
        private long lastProgress;

        PartSink(URI uri, Path part, long have, MessageDigest sha, long total) {
            this.uri = uri;
            this.part = part;
            this.have = have;
            this.sha = sha;
            this.position = have;
            this.total = total;
        }

        HttpResponse.BodySubscriber<Void> subscriber(HttpResponse.ResponseInfo info) {
            int status = info.statusCode();
            long start;
            if (status == 200) {
                start = 0;
                fresh = true;
                Properties v = new Properties();
                v.setProperty("url", uri.toString());
                info.headers().firstValue("ETag").ifPresent(x -> v.setProperty("etag", x));
                info.headers().firstValue("Last-Modified").ifPresent(x -> v.setProperty("lastModified", x));
                long len = info.headers().firstValueAsLong("Content-Length").orElse(-1);
                if (len >= 0) v.setProperty("length", Long.toString(len));
                validators = v;
                total = len;
                sha = sha256();
            } else if (status == 206) {
                String cr = info.headers().firstValue("Content-Range").orElse("");
                start = contentRangeStart(cr);
                if (start != have) {
                    startMismatch = cr;
                    return HttpResponse.BodySubscribers.replacing(null);
                }
                if (total < 0) total = contentRangeTotal(cr);
            } else {
                return HttpResponse.BodySubscribers.replacing(null);
            }
            try {
                FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                ch.truncate(start);
                ch.position(start);
                out = ch;
            } catch (IOException e) {
                body.completeExceptionally(new WriteFailed("cannot write " + part + ": " + e.getMessage(), e));
                return new Sink();
            }
            position = start;
            started = true;
            lastData = System.nanoTime();
            return new Sink();
        }

        /** The body's subscriber: one buffer list at a time, written before the next is asked for. */
        private final class Sink implements HttpResponse.BodySubscriber<Void> {
            @Override
            public CompletionStage<Void> getBody() { return body; }

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                if (body.isDone()) s.cancel();
                else s.request(1);
            }

            @Override
            public void onNext(List<ByteBuffer> items) {
                try {
                    for (ByteBuffer b : items) {
                        int n = b.remaining();
                        sha.update(b.duplicate());
                        while (b.hasRemaining()) out.write(b);
                        position += n;
                        received += n;
                    }
                } catch (IOException e) {
                    subscription.cancel();
                    body.completeExceptionally(new WriteFailed("cannot write " + part + ": " + e.getMessage(), e));
                    return;
                }
                lastData = System.nanoTime();
                subscription.request(1);
            }

            @Override
            public void onError(Throwable t) { body.completeExceptionally(t); }

            @Override
            public void onComplete() {
                try {
                    out.force(false);
                    body.complete(null);
                } catch (IOException e) {
                    body.completeExceptionally(new WriteFailed("cannot write " + part + ": " + e.getMessage(), e));
                }
            }
        }

        void abort(IOException why) {
            Flow.Subscription s = subscription;
            if (s != null) s.cancel();
            body.completeExceptionally(why != null ? why : new InterruptedIOException("cancelled"));
        }

        void progress() {
            long now = System.nanoTime();
            if (!started || now - lastProgress < 1_000_000_000L) return;
            lastProgress = now;
            long t = total;
            ctx.progress(t > 0 ? (int) Math.min(99, position * 100 / t) : null, "downloaded " + Text.bytes(position) + (t > 0 ? " of " + Text.bytes(t) : ""));
        }

        void close() {
            FileChannel ch = out;
            if (ch == null) return;
            try {
                ch.close();
            } catch (IOException e) {
                // what counts is the size on disk, which the next attempt reads again
            }
        }
    }

    private void pause(int attempt, IOException cause) throws CommandCancelledException, InterruptedIOException {
        pause(settings, ctx, attempt, cause);
    }

    /** Waits before the next attempt, longer each time (up to 30 s); a cancel ends the wait. */
    static void pause(DatasetSettings settings, CommandContext ctx, int attempt, IOException cause)
            throws CommandCancelledException, InterruptedIOException {
        long ms = Math.min(30_000, settings.retryDelayMs() << Math.min(attempt - 1, 10));
        ctx.output().println("retrying in " + ms + " ms (" + cause.getMessage() + ")");
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ctx.checkCancelled();
            throw new InterruptedIOException("interrupted");
        }
    }

    private CommandException gaveUp(URI uri, IOException e, long have) { return gaveUp(settings, uri, e, have); }

    /** @return the failure of a download that ran out of attempts, saying what is kept for the next one */
    static CommandException gaveUp(DatasetSettings settings, URI uri, IOException e, long have) {
        return new CommandException("downloading " + display(uri) + " failed " + (settings.retries() + 1) + " times (last: " + e + "); "
            + (have > 0 ? have + " bytes are kept and the next install of the same sha256 resumes from there. " : "") + "Nothing was changed.");
    }

    /** "bytes 100-199/1000" → 100 */
    static long contentRangeStart(String cr) {
        if (cr == null || !cr.startsWith("bytes ")) return -1;
        int dash = cr.indexOf('-');
        try {
            return dash < 0 ? -1 : Long.parseLong(cr.substring(6, dash).trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** "bytes 100-199/1000" or "bytes *{@literal /}1000" → 1000; -1 if unknown */
    static long contentRangeTotal(String cr) {
        if (cr == null) return -1;
        int slash = cr.lastIndexOf('/');
        try {
            return slash < 0 || cr.endsWith("*") ? -1 : Long.parseLong(cr.substring(slash + 1).trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    static void hash(Path file, MessageDigest sha) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) sha.update(buf, 0, n);
        }
    }

    /** @return the file's sha256, hex */
    static String sha256(Path file) throws IOException {
        MessageDigest sha = sha256();
        hash(file, sha);
        return HexFormat.of().formatHex(sha.digest());
    }

    static Properties loadMeta(Path meta, URI uri) throws IOException {
        Properties p = new Properties();
        if (Files.exists(meta)) {
            try (InputStream in = Files.newInputStream(meta)) {
                p.load(in);
            }
        }
        // validators from another URL say nothing about this one's bytes: the part is then checked by the sha256 only
        if (!uri.toString().equals(p.getProperty("url"))) {
            p.remove("etag");
            p.remove("lastModified");
            p.remove("length");
        }
        return p;
    }

    static void saveMeta(Path meta, Properties p) throws IOException {
        Path tmp = meta.resolveSibling(meta.getFileName() + ".tmp");
        try (var out = Files.newOutputStream(tmp)) {
            p.store(out, "validators of the download, for resuming it");
        }
        Files.move(tmp, meta, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** @return the URL without its query (which may carry a token) and user info, for messages and records */
    static String display(URI uri) {
        if (!uri.isAbsolute()) return uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?…"); // a path on the agent's server
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort()) + (uri.getRawPath() == null ? "" : uri.getRawPath())
            + (uri.getRawQuery() == null ? "" : "?…");
    }

    /**
     * The system's trust plus the certificates of {@code ca_file}: one trust store holding both, so that the JDK's own
     * trust manager (and its hostname check) judges the server.
     */
    static SSLContext sslContext(Path caFile) throws CommandException {
        try {
            if (caFile == null) return SSLContext.getDefault();
            Collection<? extends Certificate> extra;
            try (InputStream in = Files.newInputStream(caFile)) {
                extra = CertificateFactory.getInstance("X.509").generateCertificates(in);
            } catch (IOException | UncheckedIOException e) {
                throw new CommandRefusedException("config key 'plugins.settings.dataset.ca_file' names " + Text.quote(caFile.toString())
                    + ", which cannot be read: " + e.getMessage(), ErrorCode.INVALID_SETTINGS);
            } catch (CertificateException e) {
                throw new CommandRefusedException("config key 'plugins.settings.dataset.ca_file' names " + Text.quote(caFile.toString())
                    + ", which is not a PEM file of certificates: " + e.getMessage(), ErrorCode.INVALID_SETTINGS);
            }
            if (extra.isEmpty()) {
                throw new CommandRefusedException("config key 'plugins.settings.dataset.ca_file' names " + Text.quote(caFile.toString())
                    + ", which holds no certificate", ErrorCode.INVALID_SETTINGS);
            }
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            system.init((KeyStore) null);
            int i = 0;
            for (TrustManager tm : system.getTrustManagers()) {
                if (!(tm instanceof X509TrustManager)) continue;
                for (X509Certificate c : ((X509TrustManager) tm).getAcceptedIssuers()) ks.setCertificateEntry("system-" + i++, c);
            }
            int j = 0;
            for (Certificate c : extra) ks.setCertificateEntry("ca-file-" + j++, c);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (CommandException e) {
            throw e;
        } catch (Exception e) {
            throw new CommandException("cannot set up TLS: " + e, e);
        }
    }

    /**
     * @param setting the plugin's {@code https_proxy}, or null
     * @param env     the environment
     * @return the proxy selector to use, or null for direct connections
     */
    static ProxySelector proxy(String setting, Map<String, String> env) throws CommandException {
        String url = setting != null ? setting : env.getOrDefault("https_proxy", env.get("HTTPS_PROXY"));
        if (url == null || url.isBlank()) return null;
        URI u;
        try {
            u = URI.create(url.contains("://") ? url : "http://" + url);
        } catch (IllegalArgumentException e) {
            throw new CommandRefusedException("the https proxy " + Text.quote(url) + (setting != null ? " (plugins.settings.dataset.https_proxy)"
                : " (environment https_proxy)") + " is not a URL", ErrorCode.INVALID_SETTINGS);
        }
        if (u.getHost() == null) {
            throw new CommandRefusedException("the https proxy " + Text.quote(url) + " names no host", ErrorCode.INVALID_SETTINGS);
        }
        InetSocketAddress addr = InetSocketAddress.createUnresolved(u.getHost(), u.getPort() < 0 ? 3128 : u.getPort());
        List<String> noProxy = new ArrayList<>();
        for (String s : env.getOrDefault("no_proxy", env.getOrDefault("NO_PROXY", "")).split(",")) {
            if (!s.isBlank()) noProxy.add(s.trim().toLowerCase(Locale.ROOT));
        }
        return new ProxySelector() {
            @Override
            public List<Proxy> select(URI uri) {
                String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
                for (String n : noProxy) {
                    String suffix = n.startsWith(".") ? n : "." + n;
                    if (n.equals("*") || host.equals(n.startsWith(".") ? n.substring(1) : n) || host.endsWith(suffix)) return List.of(Proxy.NO_PROXY);
                }
                return List.of(new Proxy(Proxy.Type.HTTP, addr));
            }

            @Override
            public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
                // nothing to remember: the next attempt asks again
            }
        };
    }
}
