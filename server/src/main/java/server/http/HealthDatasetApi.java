package server.http;

import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;

import org.eclipse.jetty.http.HttpHeader;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import server.DatasetRepository;
import server.store.ServerStore;

/**
 * The operator endpoints of plugin.health and plugin.dataset, beside {@link OperatorApi} and authorised the same way:
 *
 * <ul>
 *   <li>{@code GET /api/v1/agents/ID/health}: the agent's latest {@code health} event and its open alerts (the alerts
 *       whose latest {@code alert} event says {@code firing});</li>
 *   <li>{@code GET /api/v1/agents/ID/inventory}: the data of its latest succeeded {@code health.inventory};</li>
 *   <li>{@code POST /api/v1/datasets?name=FILE} (the body is the file), {@code GET /api/v1/datasets}: data sets,
 *       stored by sha256;</li>
 *   <li>{@code GET /api/v1/datasets/SHA256}: its record and {@code agentPath}, the path enrolled agents fetch it from
 *       with their own token;</li>
 *   <li>{@code POST /api/v1/datasets/SHA256/url}: a signed path for fetchers without an agent token
 *       ({@link DatasetRepository}).</li>
 * </ul>
 */
public final class HealthDatasetApi {
    private final ServerStore store;
    private final DatasetRepository datasets;
    private final String operatorToken;

    public HealthDatasetApi(ServerStore store, DatasetRepository datasets, String operatorToken) {
        this.store = store;
        this.datasets = datasets;
        this.operatorToken = operatorToken;
    }

    /** @return whether the path is one of these endpoints */
    public static boolean serves(String path) {
        return path.equals("/api/v1/datasets") || path.startsWith("/api/v1/datasets/") || path.matches("/api/v1/agents/[^/]+/(health|inventory)");
    }

    void handle(Exchange ex) throws IOException {
        if (!ex.bySession() && !Tokens.matches(Tokens.bearer(ex.header(HttpHeader.AUTHORIZATION)), operatorToken)) {
            throw ApiException.unauthorized("missing or wrong operator token (Authorization: Bearer <operator.token>)");
        }
        String[] seg = ex.path().substring("/api/v1/".length()).split("/", -1);
        if (seg[0].equals("agents")) {
            ex.requireMethod("GET");
            if (store.agent(seg[1]) == null) throw ApiException.notFound("no agent '" + seg[1] + "'");
            ex.json(200, seg[2].equals("health") ? health(seg[1]) : inventory(seg[1]));
        } else if (seg.length == 1) {
            ex.requireMethod("GET", "POST");
            if (ex.method().equals("POST")) {
                ex.json(201, datasets.upload(ex, ex.query("name")));
            } else {
                JsonArray out = new JsonArray();
                for (JsonObject d : datasets.list()) out.add(d);
                ex.json(200, out);
            }
        } else if (seg.length == 2) {
            ex.requireMethod("GET");
            JsonObject rec = datasets.record(seg[1]);
            if (rec == null) throw ApiException.notFound("no data set with sha256 '" + seg[1] + "' (upload it first)");
            JsonObject out = rec.deepCopy();
            out.addProperty("agentPath", datasets.agentPath(seg[1]));
            ex.json(200, out);
        } else if (seg.length == 3 && seg[2].equals("url")) {
            ex.requireMethod("POST");
            JsonObject out = new JsonObject();
            out.addProperty("path", datasets.signedPath(seg[1], Instant.now()));
            out.addProperty("validSeconds", DatasetRepository.URL_VALIDITY_SECONDS);
            ex.json(200, out);
        } else {
            throw ApiException.notFound("no such endpoint: " + ex.method() + " " + ex.path());
        }
    }

    /** The latest health event and the alerts still firing, from the events the agent sent. */
    public JsonObject health(String agentId) {
        return store.read(c -> {
            JsonObject out = new JsonObject();
            out.addProperty("agentId", agentId);
            try (PreparedStatement ps = c.prepareStatement(
                "SELECT event, received_at FROM events WHERE agent_id = ? AND kind = 'health' ORDER BY seq DESC LIMIT 1")) {
                ps.setString(1, agentId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        JsonObject e = Json.parseObject(rs.getString(1), "a stored event");
                        out.add("time", e.has("time") ? e.get("time") : JsonNull.INSTANCE);
                        out.addProperty("receivedAt", rs.getString(2));
                        out.add("snapshot", e.has("data") ? e.get("data") : JsonNull.INSTANCE);
                    } else {
                        out.add("snapshot", JsonNull.INSTANCE);
                    }
                }
            }
            // the store keeps the last word on each alert (ServerStore.recordAlert): the open ones, in the order they last changed
            JsonArray open = new JsonArray();
            try (PreparedStatement ps = c.prepareStatement("SELECT data FROM alerts WHERE agent_id = ? AND state = 'firing' ORDER BY seq")) {
                ps.setString(1, agentId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) open.add(Json.parse(rs.getString(1)));
                }
            }
            out.add("openAlerts", open);
            return out;
        });
    }

    /** The data of the latest succeeded health.inventory the server issued to the agent. */
    public JsonObject inventory(String agentId) {
        return store.read(c -> {
            JsonObject out = new JsonObject();
            out.addProperty("agentId", agentId);
            try (PreparedStatement ps = c.prepareStatement("SELECT r.id, r.result, r.received_at FROM results r JOIN commands m ON m.id = r.id"
                + " WHERE r.agent_id = ? AND m.action = 'health.inventory' AND r.status = 'succeeded' ORDER BY r.rowid DESC LIMIT 1")) {
                ps.setString(1, agentId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        JsonObject r = Json.parseObject(rs.getString(2), "a stored result");
                        out.addProperty("commandId", rs.getString(1));
                        out.add("finishedAt", r.has("finishedAt") ? r.get("finishedAt") : JsonNull.INSTANCE);
                        out.addProperty("receivedAt", rs.getString(3));
                        out.add("inventory", r.has("data") ? r.get("data") : JsonNull.INSTANCE);
                    } else {
                        out.add("inventory", JsonNull.INSTANCE);
                    }
                }
            }
            return out;
        });
    }
}
