package agent.transport.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Component;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import agent.transport.DocumentException;
import agent.transport.ServerRequests;
import agent.transport.TransportSettings;

/** Report uploads and the preflight, on the transports' TLS settings, proxy and credentials. */
@Component(service = ServerRequests.class)
public final class ServerRequestsImpl implements ServerRequests {
    /** A report of many results can be large; the server reads it in one request. */
    private static final Duration UPLOAD = Duration.ofMinutes(5);

    @Override
    public ReportReceipt uploadReport(TransportSettings s, Path report) throws DocumentException, IOException, InterruptedException {
        String where = "report " + report;
        String text;
        try {
            text = Files.readString(report, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new DocumentException("cannot read " + where + ": no such file");
        } catch (AccessDeniedException e) {
            throw new DocumentException("cannot read " + where + ": permission denied");
        } catch (IOException e) {
            // the JDK's messages of these name only the file, which the line already says
            throw new DocumentException("cannot read " + where + ": " + e);
        }
        JsonObject doc;
        try {
            JsonElement e = Codec.parse(text, where);
            if (!e.isJsonObject()) throw new DocumentException(where + " must be a JSON object {\"agentId\", \"results\", \"events\"}");
            doc = e.getAsJsonObject();
        } catch (Codec.FrameException e) {
            throw new DocumentException(e.getMessage());
        }
        List<String> results = ids(doc, "results", where, true);
        List<String> events = ids(doc, "events", where, false);

        HttpClient http = HttpClients.of(s);
        Credentials creds;
        try {
            creds = Credentials.loadOrEnroll(http, s);
        } catch (Credentials.Unauthorized e) {
            throw new IOException(e.getMessage());
        }
        URI uri = s.serverUrl.resolve("/agent/v1/reports");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(UPLOAD)
            .header("Authorization", "Bearer " + creds.token).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(text, StandardCharsets.UTF_8)).build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new IOException("the server at " + uri + " refused the agent's credentials (HTTP " + r.statusCode() + "): move "
                + s.dataDir.resolve(Credentials.FILE) + " away and set enrollment_token to enrol again");
        }
        if (r.statusCode() != 200) throw new IOException("upload to " + uri + " failed: HTTP " + r.statusCode() + ": " + abbreviate(r.body()));
        JsonObject answer;
        try {
            JsonElement e = Codec.parse(r.body(), "answer of " + uri);
            if (!e.isJsonObject()) throw new IOException("the answer of " + uri + " is not a JSON object: " + abbreviate(r.body()));
            answer = e.getAsJsonObject();
        } catch (Codec.FrameException e) {
            throw new IOException(e.getMessage());
        }
        return new ReportReceipt(creds.agentId, results, strings(answer, "ack", uri), events,
            answer.has("ackEvents") ? strings(answer, "ackEvents", uri) : null);
    }

    /** The ids of a report's results or events; each entry must be an object with a string id. */
    private static List<String> ids(JsonObject doc, String field, String where, boolean required) throws DocumentException {
        JsonElement e = doc.get(field);
        if (e == null || e.isJsonNull()) {
            if (required) throw new DocumentException(where + " has no \"" + field + "\" list: it is not a report of offline mode");
            return List.of();
        }
        if (!e.isJsonArray()) throw new DocumentException(where + ": \"" + field + "\" must be a list, got " + abbreviate(e.toString()));
        List<String> out = new ArrayList<>();
        JsonArray a = e.getAsJsonArray();
        for (int i = 0; i < a.size(); i++) {
            JsonElement x = a.get(i);
            JsonElement id = x.isJsonObject() ? x.getAsJsonObject().get("id") : null;
            if (id == null || !id.isJsonPrimitive() || !id.getAsJsonPrimitive().isString() || id.getAsString().isEmpty()) {
                throw new DocumentException(where + ": " + field + "[" + i + "].id must be a non-empty string");
            }
            out.add(id.getAsString());
        }
        return out;
    }

    private static List<String> strings(JsonObject o, String field, URI uri) throws IOException {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) return List.of();
        if (!e.isJsonArray()) throw new IOException("the answer of " + uri + ": \"" + field + "\" is not a list");
        List<String> out = new ArrayList<>();
        for (JsonElement x : e.getAsJsonArray()) out.add(x.isJsonPrimitive() ? x.getAsString() : x.toString());
        return out;
    }

    private static String abbreviate(String s) { return s.length() <= 300 ? s : s.substring(0, 300) + "..."; }

    @Override
    public agent.api.ServerFiles files(TransportSettings settings) { return new ServerFilesClient(settings); }

    @Override
    public String enrolledAgentId(Path dataDir) {
        try {
            Credentials c = Credentials.load(dataDir);
            return c == null ? null : c.agentId;
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public List<Check> preflight(TransportSettings settings) throws InterruptedException {
        return new Preflight(settings).run();
    }
}
