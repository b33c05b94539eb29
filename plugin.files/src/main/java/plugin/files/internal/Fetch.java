package plugin.files.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.ErrorCode;
import agent.api.ServerFiles;

/**
 * Downloads a {@code url} of {@code file.put} with the JDK's HttpClient: absolute https URLs only, since a plugin
 * cannot reach the agent's own connection (its TLS settings and credentials for relative URLs; see README). Redirects
 * are followed but never from https to http.
 */
final class Fetch {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

    private final Path caFile;
    private final HttpClient client;

    private Fetch(Path caFile, HttpClient client) {
        this.caFile = caFile;
        this.client = client;
    }

    /** @param caFile a PEM file of trusted certificates, or null for the JVM's trust store */
    static Fetch create(Path caFile) throws CommandException {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NORMAL);
        if (caFile != null) b.sslContext(trusting(caFile));
        return new Fetch(caFile, b.build());
    }

    /** @return whether this client was made for that trust setting */
    boolean uses(Path ca) { return Objects.equals(caFile, ca); }

    private static SSLContext trusting(Path pem) throws CommandException {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) ks.setCertificateEntry("ca" + i++, c);
            if (i == 0) throw new CommandException("config key 'plugins.settings.file.ca_file': " + pem + " holds no certificate");
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new CommandException("config key 'plugins.settings.file.ca_file': cannot read " + pem + ": " + e.getMessage());
        }
    }

    /** What came: the body's sha256 (lower-case hex) and size. */
    record Got(String sha256, long size) {}

    /**
     * @param url      an absolute https URL
     * @param out      where the body goes (a temporary file)
     * @param maxBytes the most it may be
     * @return the body's digest and size
     * @throws CommandException naming the URL (without its query, which may hold a token) and the HTTP status or cause
     */
    Got download(CommandContext ctx, URI url, FileChannel out, long maxBytes) throws CommandException, CommandCancelledException {
        String shown = shown(url);
        HttpResponse<InputStream> r;
        try {
            r = client.send(HttpRequest.newBuilder(url).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ctx.checkCancelled();
            throw new CommandException("download of " + shown + " was interrupted");
        } catch (IOException e) {
            throw new CommandException("download of " + shown + " failed: " + e);
        }
        try (InputStream body = r.body()) {
            if (r.statusCode() != 200) {
                throw new CommandException("download of " + shown + " answered HTTP " + r.statusCode(),
                    r.statusCode() == 404 || r.statusCode() == 410 ? ErrorCode.NOT_FOUND : ErrorCode.FAILED);
            }
            return copy(ctx, shown, body, out, maxBytes);
        } catch (IOException e) {
            throw new CommandException("download of " + shown + " failed while reading: " + e);
        }
    }

    /**
     * A file of the agent's own server (a relative {@code url}, docs/protocol.md §7.1), through the agent's
     * {@link ServerFiles}: its credentials, TLS settings and proxy.
     *
     * @param path a path on the server, e.g. {@code /agent/v1/files/...}
     */
    static Got fromServer(CommandContext ctx, ServerFiles files, URI path, FileChannel out, long maxBytes)
            throws CommandException, CommandCancelledException {
        String shown = shown(path);
        try (ServerFiles.Download d = files.open(path.toString(), 0, null)) {
            if (d.size() > maxBytes) {
                throw new CommandException("download of " + shown + " is larger than plugins.settings.file.max_download_bytes ("
                    + maxBytes + " bytes)");
            }
            return copy(ctx, shown, d.body(), out, maxBytes);
        } catch (ServerFiles.ServerFileException e) {
            throw new CommandException("download of " + shown + " failed: " + e.getMessage(),
                e.status() == 404 || e.status() == 410 ? ErrorCode.NOT_FOUND : ErrorCode.FAILED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ctx.checkCancelled();
            throw new CommandException("download of " + shown + " was interrupted");
        } catch (IOException e) {
            throw new CommandException("download of " + shown + " failed: " + e.getMessage());
        }
    }

    /** Copies a body to the file, hashing it, within the size bound. */
    private static Got copy(CommandContext ctx, String shown, InputStream body, FileChannel out, long maxBytes)
            throws CommandException, CommandCancelledException, IOException {
        {
            MessageDigest sha;
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JVM has SHA-256", e);
            }
            byte[] buf = new byte[64 * 1024];
            long size = 0;
            for (int n; (n = body.read(buf)) > 0;) {
                size += n;
                if (size > maxBytes) {
                    throw new CommandException("download of " + shown + " is larger than plugins.settings.file.max_download_bytes ("
                        + maxBytes + " bytes)");
                }
                sha.update(buf, 0, n);
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) out.write(bb);
                ctx.checkCancelled();
            }
            return new Got(HexFormat.of().formatHex(sha.digest()), size);
        }
    }

    /** @return the URL without user info, query or fragment: enough to say which, nothing secret */
    static String shown(URI url) {
        if (!url.isAbsolute()) return url.getRawPath() + " of the agent's server";
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
            + (url.getRawPath() == null ? "" : url.getRawPath());
    }
}
