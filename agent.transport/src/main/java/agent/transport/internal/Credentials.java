package agent.transport.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import agent.transport.TransportSettings;

/** The agent's id and token from enrolment (PROTOCOL.md §2), kept in {@code <data_dir>/credentials.json}, 0600. */
final class Credentials {
    static final String FILE = "credentials.json";

    /** The server refused the token or the credentials (HTTP 401 or close 4401). */
    static final class Unauthorized extends Exception {
        private static final long serialVersionUID = 1L;

        Unauthorized(String message) { super(message); }
    }

    final String agentId;
    final String token;

    private Credentials(String agentId, String token) {
        this.agentId = agentId;
        this.token = token;
    }

    static Credentials loadOrEnroll(HttpClient http, TransportSettings s) throws IOException, Unauthorized, InterruptedException {
        Path file = s.dataDir.resolve(FILE);
        if (Files.exists(file)) {
            try {
                JsonObject o = Codec.parse(Files.readString(file), "credentials file " + file).getAsJsonObject();
                return new Credentials(o.get("agentId").getAsString(), o.get("agentToken").getAsString());
            } catch (Codec.FrameException | RuntimeException e) {
                throw new IOException("credentials file " + file + " is damaged (" + e.getMessage()
                    + "); remove it and set enrollment_token to enrol again");
            }
        }
        if (s.enrollmentToken == null) {
            throw new Unauthorized("not enrolled and config key 'enrollment_token' is not set");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("enrollmentToken", s.enrollmentToken);
        body.put("hostname", s.hostname);
        body.put("machineId", s.machineId);
        URI uri = s.serverUrl.resolve("/agent/v1/enroll");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Codec.GSON.toJson(body))).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new Unauthorized("enrolment refused by " + uri + " (HTTP " + r.statusCode() + "): check 'enrollment_token'");
        }
        if (r.statusCode() != 200) throw new IOException("enrolment at " + uri + " failed: HTTP " + r.statusCode());
        String agentId, token;
        try {
            JsonElement e = Codec.parse(r.body(), "enrolment answer");
            agentId = e.getAsJsonObject().get("agentId").getAsString();
            token = e.getAsJsonObject().get("agentToken").getAsString();
        } catch (Codec.FrameException | RuntimeException e) {
            throw new IOException("enrolment answer of " + uri + " is not {agentId, agentToken}: " + e.getMessage());
        }
        Credentials c = new Credentials(agentId, token);
        c.save(file);
        return c;
    }

    /** Written to a 0600 temp file and renamed: never readable by others, never half-written. */
    private void save(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), ".credentials-", ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        JsonObject o = new JsonObject();
        o.addProperty("agentId", agentId);
        o.addProperty("agentToken", token);
        Files.writeString(tmp, Codec.GSON.toJson(o));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
