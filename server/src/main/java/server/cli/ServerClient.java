package server.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import javax.net.ssl.SSLContext;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;

import server.http.Json;
import server.pki.Pem;

/** The operator API over HTTPS, trusting only the server's CA. Used by outpostctl and the load tool. */
public final class ServerClient {
    private final URI base;
    private final String token;
    private final HttpClient http;

    /** An HTTP answer other than 2xx; the message is the server's {@code error}. */
    public static final class ApiError extends IOException {
        private static final long serialVersionUID = 1L;
        private final int status;

        ApiError(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    public ServerClient(URI base, String token, SSLContext tls) {
        this.base = base;
        this.token = token;
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** From a server's data dir: {@code server.url}, {@code operator.token}, {@code ca.pem}. */
    public static ServerClient fromServerDir(Path dir) throws IOException {
        return new ServerClient(readUrl(dir.resolve("server.url")), readToken(dir.resolve("operator.token")),
            Pem.clientContext(dir.resolve("ca.pem"), null, null));
    }

    public static URI readUrl(Path file) throws IOException {
        String u = readFile(file, "the server URL").trim();
        try {
            return URI.create(u);
        } catch (IllegalArgumentException e) {
            throw new IOException("'" + file + "' does not hold a URL: " + e.getMessage());
        }
    }

    public static String readToken(Path file) throws IOException {
        String t = readFile(file, "a token").trim();
        if (t.isEmpty()) throw new IOException("'" + file + "' is empty: it should hold a token");
        return t;
    }

    private static String readFile(Path file, String what) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot read " + what + " from '" + file + "': " + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : " " + e.getMessage()));
        }
    }

    public URI base() {
        return base;
    }

    public HttpClient http() {
        return http;
    }

    public JsonElement get(String path) throws IOException {
        return send(request(path).GET().build());
    }

    public JsonElement post(String path, JsonElement body) throws IOException {
        return send(request(path).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Json.GSON.toJson(body))).build());
    }

    public JsonElement postBytes(String path, String contentType, byte[] body) throws IOException {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    /** POSTs a file's bytes, streamed from disk (a data set may not fit in memory). */
    public JsonElement postFile(String path, String contentType, java.nio.file.Path file) throws IOException {
        return send(request(path).timeout(Duration.ofHours(6)).header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofFile(file)).build());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + token).header("Accept", "application/json");
    }

    private JsonElement send(HttpRequest rq) throws IOException {
        HttpResponse<String> rs;
        try {
            rs = http.send(rq, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (IOException e) {
            throw new IOException("cannot reach the server at " + base + ": " + describe(e), e);
        }
        JsonElement body;
        try {
            body = rs.body().isEmpty() ? null : Json.parse(rs.body());
        } catch (JsonParseException e) {
            throw new ApiError(rs.statusCode(), "the server answered " + rs.statusCode() + " with a body that is not JSON");
        }
        if (rs.statusCode() / 100 != 2) {
            String msg = body != null && body.isJsonObject() && body.getAsJsonObject().has("error")
                ? body.getAsJsonObject().get("error").getAsString() : "HTTP " + rs.statusCode();
            throw new ApiError(rs.statusCode(), msg);
        }
        return body;
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (sb.length() > 0) sb.append(": ");
            sb.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
            if (t.getCause() == t) break;
        }
        return sb.toString();
    }
}
