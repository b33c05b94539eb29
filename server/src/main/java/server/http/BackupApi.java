package server.http;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.BackupStore;
import server.BackupStore.ConflictingOffset;
import server.BackupStore.Declared;
import server.BackupStore.PutOutcome;
import server.store.ServerStore;

/**
 * Backups agents keep on this server (docs/protocol.md §7.1), under the agent's own token:
 *
 * <ul>
 *   <li>{@code HEAD /agent/v1/backups/NAME} with {@code Upload-Length} and {@code Upload-Sha256}: {@code Upload-Offset},
 *       the bytes held of that upload; without them, the stored file's headers as a {@code GET} would send them;</li>
 *   <li>{@code PUT /agent/v1/backups/NAME}: the bytes from {@code Upload-Offset};</li>
 *   <li>{@code GET /agent/v1/backups}: the calling agent's records; {@code GET /agent/v1/backups/NAME}: one of its
 *       files, with ranges;</li>
 *   <li>{@code GET /api/v1/backups[?agent=ID]}: the operator's view, every record with its {@code agentId}.</li>
 * </ul>
 *
 * An agent's requests only ever name its own backups: another agent's are as absent as names never used (404).
 */
final class BackupApi {
    static final String PREFIX = "/agent/v1/backups";
    private static final String UPLOAD_OFFSET = "Upload-Offset";
    private static final String UPLOAD_LENGTH = "Upload-Length";
    private static final String UPLOAD_SHA256 = "Upload-Sha256";
    private static final String UPLOAD_META = "Upload-Meta";

    private final BackupStore backups;
    private final ServerStore store;
    private final String operatorToken;

    BackupApi(BackupStore backups, ServerStore store, String operatorToken) {
        this.backups = backups;
        this.store = store;
        this.operatorToken = operatorToken;
    }

    static boolean servesAgent(String path) {
        return path.equals(PREFIX) || path.startsWith(PREFIX + "/");
    }

    static boolean servesOperator(String path) {
        return path.equals("/api/v1/backups");
    }

    /** @param agentId the agent the request's token names */
    void agent(Exchange ex, String agentId) throws IOException, InterruptedException {
        if (ex.path().equals(PREFIX)) {
            ex.requireMethod("GET");
            ex.json(200, list(backups.list(agentId)));
            return;
        }
        String name = BackupStore.checkName(ex.path().substring(PREFIX.length() + 1));
        ex.requireMethod("GET", "HEAD", "PUT");
        try {
            if (ex.method().equals("PUT")) {
                put(ex, agentId, name);
            } else if (ex.method().equals("HEAD") && (ex.header(UPLOAD_LENGTH) != null || ex.header(UPLOAD_SHA256) != null)) {
                long offset = backups.offset(agentId, name, declared(ex));
                ex.empty(200, List.of(new HttpField(UPLOAD_OFFSET, Long.toString(offset)), new HttpField(HttpHeader.CACHE_CONTROL, "no-store")));
            } else {
                JsonObject rec = backups.record(agentId, name);
                if (rec == null) throw ApiException.notFound("this agent has no backup named '" + name + "' on the server");
                java.nio.file.Path file = backups.file(agentId, name);
                RangedFile.serve(ex, file, java.nio.file.Files.size(file), rec.get("sha256").getAsString(), "application/octet-stream",
                    "backup '" + name + "'");
            }
        } catch (ConflictingOffset e) {
            ex.error(e.status(), e.getMessage(), List.of(new HttpField(UPLOAD_OFFSET, Long.toString(e.offset()))));
        } catch (ApiException e) {
            if (e.status() != 413) throw e;
            ex.errorUnread(413, e.getMessage(), List.of()); // docs/protocol.md §7.1: refused before any byte is sent
        }
    }

    private void put(Exchange ex, String agentId, String name) throws IOException, InterruptedException {
        Declared d = declared(ex);
        long offset = longHeader(ex, UPLOAD_OFFSET);
        JsonObject meta = meta(ex.header(UPLOAD_META));
        long bodyLength = ex.request().getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        PutOutcome o = backups.put(agentId, name, offset, d, meta, ex.bodyStream(), bodyLength);
        if (o.record() == null) {
            // the body ended before the file did: the client sends the rest in another request
            ex.empty(204, List.of(new HttpField(UPLOAD_OFFSET, Long.toString(o.offset()))));
            return;
        }
        if (!o.created()) ex.discardBody(); // stored already: what it sent is not needed
        ex.response().getHeaders().put(UPLOAD_OFFSET, Long.toString(o.offset()));
        ex.json(o.created() ? 201 : 200, o.record());
    }

    private static Declared declared(Exchange ex) {
        long length = longHeader(ex, UPLOAD_LENGTH);
        return new Declared(length, BackupStore.checkSha256(ex.header(UPLOAD_SHA256), UPLOAD_SHA256));
    }

    private static long longHeader(Exchange ex, String header) {
        String v = ex.header(header);
        if (v == null) throw ApiException.badRequest("the header " + header + " is missing");
        try {
            long n = Long.parseLong(v.trim());
            if (n >= 0) return n;
        } catch (NumberFormatException e) {
            // said below
        }
        throw ApiException.badRequest("the header " + header + " must be a number of bytes (0 or more), got '"
            + (v.length() > 40 ? v.substring(0, 40) + "…" : v) + "'");
    }

    /** @return the decoded {@code Upload-Meta}: base64 of a JSON object of at most 4 KiB; null when absent */
    static JsonObject meta(String header) {
        if (header == null || header.isBlank()) return null;
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(header.trim());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("the header " + UPLOAD_META + " must be base64 of a JSON object: " + e.getMessage());
        }
        if (bytes.length > BackupStore.MAX_META_BYTES) {
            throw ApiException.badRequest("the header " + UPLOAD_META + " holds " + bytes.length + " bytes of JSON; at most "
                + BackupStore.MAX_META_BYTES + " are kept");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw ApiException.badRequest("the header " + UPLOAD_META + " must be base64 of UTF-8 JSON text");
        }
        JsonElement e;
        try {
            e = Json.parse(text);
        } catch (RuntimeException x) {
            throw ApiException.badRequest("the header " + UPLOAD_META + " must be base64 of a JSON object: " + x.getMessage());
        }
        if (e == null || !e.isJsonObject()) throw ApiException.badRequest("the header " + UPLOAD_META + " must be base64 of a JSON object, not " + Json.abbreviate(e));
        return e.getAsJsonObject();
    }

    /** {@code GET /api/v1/backups[?agent=ID]}. */
    void operator(Exchange ex) throws IOException {
        if (!ex.bySession() && !Tokens.matches(Tokens.bearer(ex.header(HttpHeader.AUTHORIZATION)), operatorToken)) {
            throw ApiException.unauthorized("missing or wrong operator token (Authorization: Bearer <operator.token>)");
        }
        ex.requireMethod("GET");
        String agent = ex.query("agent");
        if (agent == null) {
            ex.json(200, list(backups.listAll()));
            return;
        }
        if (store.agent(agent) == null) throw ApiException.notFound("no agent '" + agent + "'");
        ex.json(200, list(BackupStore.withAgent(agent, backups.list(agent))));
    }

    private static JsonObject list(List<JsonObject> records) {
        JsonArray a = new JsonArray(records.size());
        records.forEach(a::add);
        JsonObject out = new JsonObject();
        out.add("backups", a);
        return out;
    }
}
