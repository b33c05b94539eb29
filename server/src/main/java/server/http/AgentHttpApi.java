package server.http;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.eclipse.jetty.http.HttpHeader;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.BundleRepository;
import server.Times;
import server.gateway.AgentGateway;
import server.gateway.AgentGateway.HelloInfo;
import server.gateway.AgentGateway.ParsedEvent;
import server.gateway.AgentGateway.ParsedResult;
import server.store.Records.Command;
import server.store.Records.Pending;
import server.store.Records.Result;
import server.store.Records.ResultOutcome;
import server.store.ServerStore;
import server.store.ServerStore.NewEvent;

/** The agents' HTTPS endpoints: enrolment (§2), check-in (§4), offline reports (§8) and plugin downloads. */
final class AgentHttpApi {
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(AgentHttpApi.class.getName());
    private static final Pattern MACHINE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    private static final long MAX_SMALL_BODY = 64 * 1024;
    private static final long MAX_CHECKIN_BODY = 32L << 20;
    private static final long MAX_REPORT_BODY = 128L << 20;
    /**
     * The largest result or event stored, after the output cap: what fits in a WebSocket frame, so that polling
     * cannot store what the WebSocket would not carry.
     */
    static final int MAX_ITEM_BYTES = AgentGateway.MAX_FRAME_BYTES;

    private final ServerStore store;
    private final AgentGateway gateway;
    private final BundleRepository bundles;
    private final Guard guard;
    private final String enrollmentToken;
    private final int checkInSeconds;

    AgentHttpApi(ServerStore store, AgentGateway gateway, BundleRepository bundles, Guard guard, String enrollmentToken,
                 int checkInSeconds) {
        this.checkInSeconds = checkInSeconds;
        this.store = store;
        this.gateway = gateway;
        this.bundles = bundles;
        this.guard = guard;
        this.enrollmentToken = enrollmentToken;
    }

    void handle(Exchange ex) throws IOException {
        String p = ex.path();
        switch (p) {
            case "/agent/v1/enroll" -> {
                ex.requireMethod("POST");
                enroll(ex);
            }
            case "/agent/v1/checkin" -> {
                ex.requireMethod("POST");
                checkin(ex, authenticate(ex));
            }
            case "/agent/v1/reports" -> {
                ex.requireMethod("POST");
                reports(ex, authenticate(ex));
            }
            case AgentGateway.CONNECT_PATH -> throw ApiException.badRequest(
                "this endpoint is a WebSocket: upgrade with subprotocol '" + AgentGateway.SUBPROTOCOL + "'");
            default -> {
                if (p.startsWith("/agent/v1/bundles/")) {
                    ex.requireMethod("GET", "HEAD");
                    authenticate(ex);
                    String sha = p.substring("/agent/v1/bundles/".length());
                    java.nio.file.Path jar = bundles.stored(sha);
                    if (jar == null) throw ApiException.notFound("no bundle with sha256 '" + sha + "'");
                    RangedFile.serve(ex, jar, java.nio.file.Files.size(jar), sha, "application/java-archive", "this bundle");
                } else {
                    throw ApiException.notFound("no such endpoint: " + p);
                }
            }
        }
    }

    /** @return the id of the agent whose token the request carries; 401 when none or unknown */
    String authenticate(Exchange ex) {
        guard.mayAuthenticate(ex.remoteAddress());
        String agentId = gateway.agentForAuthorization(ex.header(HttpHeader.AUTHORIZATION));
        if (agentId == null) {
            guard.refused(ex.remoteAddress(), "missing or unknown agent token on " + ex.path());
            throw ApiException.unauthorized("missing or unknown agent token (Authorization: Bearer <agentToken>)");
        }
        return agentId;
    }

    private void enroll(Exchange ex) {
        guard.mayAuthenticate(ex.remoteAddress());
        guard.enrolment(ex.remoteAddress());
        JsonObject body = ex.jsonBody(MAX_SMALL_BODY);
        String token = Json.optString(body, "enrollmentToken", "");
        if (token == null || !Tokens.matches(token, enrollmentToken)) {
            guard.refused(ex.remoteAddress(), "enrolment with a " + (token == null ? "missing" : "wrong") + " enrollmentToken");
            throw ApiException.unauthorized("enrollmentToken is missing or wrong");
        }
        String hostname = Json.optString(body, "hostname", "");
        if (hostname != null && hostname.length() > 253) throw ApiException.badRequest("hostname is longer than 253 characters");
        String machineId = Json.optString(body, "machineId", "");
        if (machineId != null && machineId.isBlank()) machineId = null;
        if (machineId != null && !MACHINE_ID.matcher(machineId).matches()) {
            throw ApiException.badRequest("machineId must be 1..128 characters of letters, digits and . _ : -, got '"
                + Json.abbreviate(new com.google.gson.JsonPrimitive(machineId)) + "'");
        }
        String agentToken = Tokens.newToken();
        String agentId = store.enroll(machineId, hostname, Tokens.sha256Hex(agentToken), Times.now());
        LOG.info("enrolled agent " + agentId + (hostname == null ? "" : " (" + hostname + ")"));
        JsonObject out = new JsonObject();
        out.addProperty("agentId", agentId);
        out.addProperty("agentToken", agentToken);
        ex.json(200, out);
    }

    private void checkin(Exchange ex, String agentId) {
        JsonObject body = ex.jsonBody(MAX_CHECKIN_BODY);
        HelloInfo hello = null;
        JsonElement h = body.get("hello");
        if (h != null && !h.isJsonNull()) {
            if (!h.isJsonObject()) throw ApiException.badRequest("hello must be a JSON object");
            hello = HelloInfo.of(h.getAsJsonObject(), "hello.");
        }
        List<String> accepted = new ArrayList<>();
        for (JsonElement e : array(body, "accepted")) {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw ApiException.badRequest("accepted[" + accepted.size() + "] must be a command id string, got " + Json.abbreviate(e));
            }
            accepted.add(e.getAsString());
        }
        List<ParsedResult> results = results(body);
        List<NewEvent> events = events(body);
        String now = Times.now();
        HelloInfo helloInfo = hello;
        record Outcome(Stored stored, Pending pending) {}
        Outcome o = store.writeAndWait(c -> {
            if (helloInfo != null) ServerStore.updateHello(c, agentId, helloInfo.record(), "poll", gateway.isConnected(agentId), now);
            if (!accepted.isEmpty()) ServerStore.accepted(agentId, accepted).run(c);
            Stored stored = storeAll(c, agentId, results, events, now, false);
            return new Outcome(stored, store.pendingFor(agentId, AgentGateway::frameBytes, now).run(c));
        });
        o.stored().fresh().forEach(gateway.waiters()::stored);
        o.pending().ended().forEach(gateway.waiters()::stored);
        if (o.stored().newEvents()) gateway.eventFeed().signal();
        JsonObject out = new JsonObject();
        out.add("ack", strings(o.stored().ack()));
        out.add("ackEvents", strings(o.stored().ackEvents()));
        JsonArray commands = new JsonArray();
        for (Command c : o.pending().commands()) commands.add(AgentGateway.commandFrame(c));
        out.add("commands", commands);
        out.add("cancel", strings(o.pending().cancels()));
        out.addProperty("nextCheckinSeconds", checkInSeconds);
        ex.json(200, out);
    }

    /**
     * An offline report (docs/protocol.md §8): its results are stored under the agent the token names, as offline
     * results, never as a command's. All or nothing: a report over what the agent may store is refused (507) whole.
     */
    private void reports(Exchange ex, String agentId) {
        JsonObject body = ex.jsonBody(MAX_REPORT_BODY);
        String reported = Json.optString(body, "agentId", "");
        if (reported != null && !reported.equals(agentId)) {
            LOG.warning("agent " + agentId + " uploaded a report made as '" + reported + "': stored as " + agentId);
        }
        List<ParsedResult> results = results(body);
        List<NewEvent> events = events(body);
        String now = Times.now();
        Stored stored = store.writeAndWait(c -> storeAll(c, agentId, results, events, now, true));
        if (stored.newEvents()) gateway.eventFeed().signal();
        JsonObject out = new JsonObject();
        out.add("ack", strings(stored.ack()));
        out.add("ackEvents", strings(stored.ackEvents()));
        ex.json(200, out);
    }

    /**
     * What storing an agent's results and events came to: the result ids and event ids to ack, the results stored
     * for the first time as commands' results (for the waits), and whether any event is new.
     */
    private record Stored(List<String> ack, List<String> ackEvents, List<Result> fresh, boolean newEvents) {}

    /** @param report an offline report: all or nothing, and a result over a bound refuses the whole report */
    private Stored storeAll(java.sql.Connection c, String agentId, List<ParsedResult> results, List<NewEvent> events,
                            String now, boolean report) throws java.sql.SQLException {
        List<String> ack = new ArrayList<>();
        List<Result> fresh = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            ParsedResult r = results.get(i);
            if (ServerStore.utf8Length(r.json()) > MAX_ITEM_BYTES) {
                if (report) {
                    throw ApiException.tooLarge("results[" + i + "] (id '" + r.id() + "') is larger than " + MAX_ITEM_BYTES
                        + " bytes once its output is capped: nothing of the report is stored");
                }
                gateway.notStored(agentId, "result " + r.id() + " is larger than " + MAX_ITEM_BYTES
                    + " bytes once its output is capped: not stored, not acked");
                continue;
            }
            ResultOutcome outcome = store.storeResult(c, agentId, r.id(), r.status(), r.json(), now, report);
            switch (outcome) {
                case STORED -> {
                    ack.add(r.id());
                    fresh.add(new Result(r.id(), agentId, r.status(), r.json(), now, true));
                }
                case STORED_OFFLINE, DUPLICATE -> ack.add(r.id());
                case OVER_QUOTA -> {
                    if (report) {
                        throw new ApiException(507, "agent '" + agentId + "' may store at most " + store.limits().maxOfflineResults()
                            + " offline results of at most " + store.limits().maxOfflineResultBytes() + " bytes in all (--max-offline-results,"
                            + " --max-offline-result-bytes); results[" + i + "] (id '" + r.id() + "') is over that: nothing of the report is stored");
                    }
                    gateway.notStored(agentId, r.id(), outcome);
                }
                case FOREIGN -> gateway.notStored(agentId, r.id(), outcome);
            }
        }
        List<String> ackEvents = new ArrayList<>();
        boolean newEvents = false;
        for (int i = 0; i < events.size(); i++) {
            NewEvent e = events.get(i);
            if (ServerStore.utf8Length(e.json()) > MAX_ITEM_BYTES) {
                throw ApiException.tooLarge("events[" + i + "] is larger than " + MAX_ITEM_BYTES + " bytes");
            }
            newEvents |= store.storeEvent(c, agentId, e, now);
            if (e.id() != null) ackEvents.add(e.id()); // an event without an id (an older agent) is stored, not acked
        }
        return new Stored(ack, ackEvents, fresh, newEvents);
    }

    private static JsonArray array(JsonObject body, String field) {
        JsonElement e = body.get(field);
        if (e == null || e.isJsonNull()) return new JsonArray();
        if (!e.isJsonArray()) throw ApiException.badRequest(field + " must be a JSON array");
        return e.getAsJsonArray();
    }

    private List<ParsedResult> results(JsonObject body) {
        List<ParsedResult> out = new ArrayList<>();
        JsonArray a = array(body, "results");
        for (int i = 0; i < a.size(); i++) {
            JsonElement e = a.get(i);
            if (!e.isJsonObject()) throw ApiException.badRequest("results[" + i + "] must be a JSON object");
            out.add(ParsedResult.of(e.getAsJsonObject(), "results[" + i + "].", gateway.maxOutputBytes()));
        }
        return out;
    }

    private static List<NewEvent> events(JsonObject body) {
        List<NewEvent> out = new ArrayList<>();
        JsonArray a = array(body, "events");
        for (int i = 0; i < a.size(); i++) {
            JsonElement e = a.get(i);
            if (!e.isJsonObject()) throw ApiException.badRequest("events[" + i + "] must be a JSON object");
            out.add(ParsedEvent.of(e.getAsJsonObject(), "events[" + i + "]."));
        }
        return out;
    }

    static JsonArray strings(List<String> values) {
        JsonArray a = new JsonArray(values.size());
        values.forEach(a::add);
        return a;
    }
}
