package agent.transport.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

import agent.transport.TransportSettings;

/** Plugin downloads over the connection's HTTP client: same TLS settings, credentials only for the server itself. */
final class Downloads {
    private Downloads() {}

    static void fetch(HttpClient http, TransportSettings s, String url, Path target) throws IOException, InterruptedException {
        URI uri = s.serverUrl.resolve(url);
        if (!uri.getScheme().equals("https") && !(s.insecureHttp && uri.getScheme().equals("http"))) {
            throw new IOException("refusing to download " + uri + ": only https URLs (plain http needs insecure_http)");
        }
        HttpRequest.Builder rq = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET();
        if (sameOrigin(uri, s.serverUrl)) {
            try {
                rq.header("Authorization", "Bearer " + Credentials.loadOrEnroll(http, s).token);
            } catch (Credentials.Unauthorized e) {
                throw new IOException("cannot download " + uri + ": " + e.getMessage());
            }
        }
        HttpResponse<Path> r = http.send(rq.build(), HttpResponse.BodyHandlers.ofFile(target,
            StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
        if (r.statusCode() != 200) {
            Files.deleteIfExists(target);
            throw new IOException("download of " + uri + " failed: HTTP " + r.statusCode());
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equals(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : u.getScheme().equals("https") ? 443 : 80;
    }
}
