package server.http;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

import org.eclipse.jetty.http.HttpHeader;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import server.BundleRepository;
import server.Times;
import server.gateway.AgentGateway;
import server.store.Records.Agent;
import server.store.Records.Bundle;
import server.store.Records.Command;
import server.store.Records.NewCommand;
import server.store.Records.Result;
import server.store.Records.State;
import server.store.ServerStore;

/** The operator API under {@code /api/v1/} (server/README.md lists it), authorised by the operator token. */
final class OperatorApi {
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(OperatorApi.class.getName());
    private static final Pattern COMMAND_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    private static final long MAX_BODY = 8L << 20;
    private static final int MAX_LIMIT = 10_000;
    private static final int MAX_QUERY_IDS = 100_000;

    private final ServerStore store;
    private final AgentGateway gateway;
    private final BundleRepository bundles;
    private final String operatorToken;

    OperatorApi(ServerStore store, AgentGateway gateway, BundleRepository bundles, String operatorToken) {
        this.store = store;
        this.gateway = gateway;
        this.bundles = bundles;
        this.operatorToken = operatorToken;
    }

    void handle(Exchange ex) throws IOException {
        if (!Tokens.matches(Tokens.bearer(ex.header(HttpHeader.AUTHORIZATION)), operatorToken)) {
            throw ApiException.unauthorized("missing or wrong operator token (Authorization: Bearer <operator.token>)");
        }
        String[] seg = ex.path().substring("/api/v1/".length()).split("/", -1);
        switch (seg[0]) {
            case "agents" -> {
                ex.requireMethod("GET");
                if (seg.length == 1) {
                    JsonArray out = new JsonArray();
                    for (Agent a : store.agents()) out.add(agentView(a));
                    ex.json(200, out);
                } else if (seg.length == 2) {
                    Agent a = store.agent(seg[1]);
                    if (a == null) throw ApiException.notFound("no agent '" + seg[1] + "'");
                    ex.json(200, agentView(a));
                } else {
                    throw notFound(ex);
                }
            }
            case "commands" -> {
                if (seg.length == 1) {
                    ex.requireMethod("POST");
                    createCommands(ex);
                } else if (seg.length == 2) {
                    ex.requireMethod("GET");
                    Command c = store.command(seg[1]);
                    if (c == null) throw ApiException.notFound("no command '" + seg[1] + "'");
                    ex.json(200, commandView(c));
                } else if (seg.length == 3 && seg[2].equals("cancel")) {
                    ex.requireMethod("POST");
                    cancel(ex, seg[1]);
                } else {
                    throw notFound(ex);
                }
            }
            case "results" -> {
                if (seg.length == 1) {
                    ex.requireMethod("GET");
                    listResults(ex);
                } else if (seg.length == 2 && seg[1].equals("query")) {
                    ex.requireMethod("POST");
                    queryResults(ex);
                } else {
                    throw notFound(ex);
                }
            }
            case "bundles" -> {
                if (seg.length != 1) throw notFound(ex);
                ex.requireMethod("GET", "POST");
                if (ex.method().equals("POST")) {
                    Bundle b = bundles.upload(ex);
                    LOG.info("bundle " + b.bsn() + " " + b.version() + " stored as " + b.sha256());
                    ex.json(201, bundleView(b));
                } else {
                    JsonArray out = new JsonArray();
                    for (Bundle b : bundles.list()) out.add(bundleView(b));
                    ex.json(200, out);
                }
            }
            default -> throw notFound(ex);
        }
    }

    private static ApiException notFound(Exchange ex) {
        return ApiException.notFound("no such endpoint: " + ex.method() + " " + ex.path());
    }

    // ---------------------------------------------------------------- commands

    private void createCommands(Exchange ex) {
        JsonObject body = ex.jsonBody(MAX_BODY);
        boolean all = Json.optBoolean(body, "all", "");
        String agentId = Json.optString(body, "agentId", "");
        if (all && agentId != null) throw ApiException.badRequest("give either agentId or all: true, not both");
        if (!all && (agentId == null || agentId.isBlank())) throw ApiException.badRequest("agentId is required (or all: true)");
        String action = Json.reqString(body, "action", "");
        if (!Json.ACTION.matcher(action).matches()) {
            throw ApiException.badRequest("action must be a dotted name like 'agent.ping', got '" + action + "'");
        }
        JsonElement p = body.get("params");
        JsonObject params;
        if (p == null || p.isJsonNull()) params = new JsonObject();
        else if (p.isJsonObject()) params = p.getAsJsonObject();
        else throw ApiException.badRequest("params must be a JSON object, got " + Json.abbreviate(p));
        Integer timeout = Json.optPositiveInt(body, "timeoutSeconds", "");
        String id = Json.optString(body, "id", "");
        if (id != null) {
            if (all) throw ApiException.badRequest("id can be given only with a single agentId (all: true makes one id per agent)");
            if (!COMMAND_ID.matcher(id).matches()) {
                throw ApiException.badRequest("id must be 1..128 characters of letters, digits and . _ : - (a UUID is best), got '"
                    + Json.abbreviate(new com.google.gson.JsonPrimitive(id)) + "'");
            }
        }
        Instant expires = Json.optTime(body, "expiresAt", "");
        if (expires != null && !expires.isAfter(Instant.now())) {
            throw ApiException.badRequest("expiresAt " + expires + " is in the past");
        }
        String paramsJson = params.toString();
        String expiresAt = expires == null ? null : expires.toString();
        String now = Times.now();
        record Created(List<Command> commands, boolean existed) {}
        Created created = store.writeAndWait(c -> {
            List<NewCommand> fresh = new ArrayList<>();
            if (all) {
                for (String a : ServerStore.allAgentIds(c)) {
                    fresh.add(new NewCommand(UUID.randomUUID().toString(), a, action, paramsJson, timeout, expiresAt));
                }
            } else {
                if (!ServerStore.agentExists(c, agentId)) throw ApiException.notFound("agentId '" + agentId + "' is not an enrolled agent");
                if (id != null) {
                    Command existing = ServerStore.command(c, id);
                    if (existing != null) {
                        if (existing.agentId().equals(agentId) && existing.action().equals(action)
                            && Json.parse(existing.params()).equals(params)) {
                            return new Created(List.of(existing), true);
                        }
                        throw ApiException.conflict("id '" + id + "' already names another command (agent '" + existing.agentId()
                            + "', action '" + existing.action() + "')");
                    }
                }
                fresh.add(new NewCommand(id == null ? UUID.randomUUID().toString() : id, agentId, action, paramsJson, timeout, expiresAt));
            }
            ServerStore.insertCommands(c, fresh, now);
            List<Command> out = new ArrayList<>(fresh.size());
            for (NewCommand n : fresh) {
                out.add(new Command(n.id(), n.agentId(), n.action(), n.params(), n.timeoutSeconds(), now, n.expiresAt(),
                    State.QUEUED, false, now));
            }
            return new Created(out, false);
        });
        if (!created.existed()) {
            gateway.push(created.commands());
            LOG.info(() -> "queued " + action + " for " + (all ? created.commands().size() + " agents" : "agent " + agentId)
                + (created.commands().size() == 1 ? " as " + created.commands().get(0).id() : ""));
        }
        JsonArray list = new JsonArray(created.commands().size());
        for (Command c : created.commands()) {
            JsonObject o = new JsonObject();
            o.addProperty("id", c.id());
            o.addProperty("agentId", c.agentId());
            list.add(o);
        }
        JsonObject out = new JsonObject();
        out.add("commands", list);
        ex.json(created.existed() ? 200 : 201, out);
    }

    private void cancel(Exchange ex, String id) {
        Command after = store.writeAndWait(ServerStore.cancel(id, c -> {
            if (State.DONE.equals(c.state()) || State.CANCELLED.equals(c.state())) {
                throw ApiException.conflict("command '" + id + "' is already " + c.state() + ": nothing to cancel");
            }
        }));
        if (after == null) throw ApiException.notFound("no command '" + id + "'");
        boolean sent = gateway.sendCancel(after);
        LOG.info(() -> "cancel of " + id + ": " + (State.CANCELLED.equals(after.state()) ? "cancelled while queued"
            : sent ? "sent to agent " + after.agentId() : "agent " + after.agentId() + " gets it when it next connects"));
        ex.json(200, commandView(after));
    }

    private JsonObject commandView(Command c) {
        JsonObject o = new JsonObject();
        o.addProperty("id", c.id());
        o.addProperty("agentId", c.agentId());
        o.addProperty("action", c.action());
        o.add("params", Json.parse(c.params()));
        if (c.timeoutSeconds() != null) o.addProperty("timeoutSeconds", c.timeoutSeconds());
        o.addProperty("issuedAt", c.issuedAt());
        if (c.expiresAt() != null) o.addProperty("expiresAt", c.expiresAt());
        o.addProperty("state", c.state());
        o.addProperty("cancelRequested", c.cancelRequested());
        o.addProperty("createdAt", c.createdAt());
        JsonObject progress = gateway.progress(c.id());
        if (progress != null) o.add("progress", progress);
        Result r = store.result(c.id());
        o.add("result", r == null ? JsonNull.INSTANCE : Json.parse(r.result()));
        return o;
    }

    // ---------------------------------------------------------------- results

    private void listResults(Exchange ex) {
        String agent = ex.query("agent");
        if (agent != null && agent.isBlank()) agent = null;
        if (agent != null && store.agent(agent) == null) throw ApiException.notFound("agent '" + agent + "' is not an enrolled agent");
        String l = ex.query("limit");
        int limit = 100;
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT) throw ApiException.badRequest("limit must be an integer 1.." + MAX_LIMIT + ", got '" + l + "'");
        }
        JsonArray out = new JsonArray();
        for (Result r : store.results(agent, limit)) out.add(resultView(r));
        ex.json(200, out);
    }

    private void queryResults(Exchange ex) {
        JsonObject body = ex.jsonBody(MAX_BODY);
        JsonElement ids = body.get("ids");
        if (ids == null || !ids.isJsonArray()) throw ApiException.badRequest("ids must be a JSON array of command ids");
        if (ids.getAsJsonArray().size() > MAX_QUERY_IDS) throw ApiException.badRequest("ids holds more than " + MAX_QUERY_IDS + " ids");
        List<String> list = new ArrayList<>();
        for (JsonElement e : ids.getAsJsonArray()) {
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw ApiException.badRequest("ids[" + list.size() + "] must be a string, got " + Json.abbreviate(e));
            }
            list.add(e.getAsString());
        }
        JsonArray out = new JsonArray();
        for (Result r : store.results(list)) out.add(resultView(r));
        JsonObject o = new JsonObject();
        o.add("results", out);
        ex.json(200, o);
    }

    /** The result object of PROTOCOL.md §3 with {@code agentId} after {@code id}, and when the server got it. */
    static JsonObject resultView(Result r) {
        JsonObject stored = Json.parse(r.result()).getAsJsonObject();
        JsonObject o = new JsonObject();
        o.addProperty("id", r.id());
        o.addProperty("agentId", r.agentId());
        for (var e : stored.entrySet()) if (!e.getKey().equals("id") && !e.getKey().equals("agentId")) o.add(e.getKey(), e.getValue());
        o.addProperty("receivedAt", r.receivedAt());
        return o;
    }

    // ---------------------------------------------------------------- agents and bundles

    private JsonObject agentView(Agent a) {
        JsonObject hello = a.hello() == null ? new JsonObject() : Json.parse(a.hello()).getAsJsonObject();
        JsonObject o = new JsonObject();
        o.addProperty("agentId", a.agentId());
        o.addProperty("hostname", a.hostname());
        o.addProperty("machineId", a.machineId());
        boolean connected = gateway.isConnected(a.agentId());
        o.addProperty("connected", connected);
        o.addProperty("transport", a.transport());
        Instant live = gateway.lastSeen(a.agentId());
        o.addProperty("lastSeen", live != null ? live.toString() : a.lastSeen());
        o.addProperty("enrolledAt", a.enrolledAt());
        o.add("os", hello.has("os") ? hello.get("os") : JsonNull.INSTANCE);
        o.add("agentVersion", hello.has("agentVersion") ? hello.get("agentVersion") : JsonNull.INSTANCE);
        o.add("mode", hello.has("mode") ? hello.get("mode") : JsonNull.INSTANCE);
        o.add("plugins", a.plugins() == null ? new JsonArray() : Json.parse(a.plugins()));
        return o;
    }

    private static JsonObject bundleView(Bundle b) {
        JsonObject o = new JsonObject();
        o.addProperty("sha256", b.sha256());
        o.addProperty("bsn", b.bsn());
        o.addProperty("version", b.version());
        o.addProperty("size", b.size());
        o.addProperty("uploadedAt", b.uploadedAt());
        o.addProperty("url", BundleRepository.url(b.sha256()));
        return o;
    }
}
