package server.http;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

import org.eclipse.jetty.http.HttpHeader;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import server.BundleRepository;
import server.Times;
import server.gateway.AgentGateway;
import server.gateway.ResultWaiters;
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
    /** Commands in one request. */
    private static final int MAX_BATCH = 10_000;
    /** Longest {@code wait}: below the connector's 60 s idle timeout, so a waiting request is never cut off. */
    static final int MAX_WAIT_SECONDS = 30;

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

    /** One command of a request, checked. {@code where} names it in errors: "" alone, "commands[3]." in a batch. */
    private record CommandSpec(String where, boolean all, String agentId, String action, JsonObject params, String paramsJson,
                               Integer timeout, String id, String expiresAt) {}

    private static final List<String> COMMAND_FIELDS = List.of("agentId", "all", "action", "params", "timeoutSeconds", "id", "expiresAt");

    private static CommandSpec commandSpec(JsonObject body, String where) {
        boolean all = Json.optBoolean(body, "all", where);
        String agentId = Json.optString(body, "agentId", where);
        if (all && agentId != null) throw ApiException.badRequest("give either " + where + "agentId or " + where + "all: true, not both");
        if (!all && (agentId == null || agentId.isBlank())) {
            throw ApiException.badRequest(where + "agentId is required (or " + where + "all: true)");
        }
        String action = Json.reqString(body, "action", where);
        if (!Json.ACTION.matcher(action).matches()) {
            throw ApiException.badRequest(where + "action must be a dotted name like 'agent.ping', got '" + action + "'");
        }
        JsonElement p = body.get("params");
        JsonObject params;
        if (p == null || p.isJsonNull()) params = new JsonObject();
        else if (p.isJsonObject()) params = p.getAsJsonObject();
        else throw ApiException.badRequest(where + "params must be a JSON object, got " + Json.abbreviate(p));
        Integer timeout = Json.optPositiveInt(body, "timeoutSeconds", where);
        String id = Json.optString(body, "id", where);
        if (id != null) {
            if (all) throw ApiException.badRequest(where + "id can be given only with a single agentId (all: true makes one id per agent)");
            if (!COMMAND_ID.matcher(id).matches()) {
                throw ApiException.badRequest(where + "id must be 1..128 characters of letters, digits and . _ : - (a UUID is best), got '"
                    + Json.abbreviate(new com.google.gson.JsonPrimitive(id)) + "'");
            }
        }
        Instant expires = Json.optTime(body, "expiresAt", where);
        if (expires != null && !expires.isAfter(Instant.now())) {
            throw ApiException.badRequest(where + "expiresAt " + expires + " is in the past");
        }
        return new CommandSpec(where, all, agentId, action, params, params.toString(), timeout, id,
            expires == null ? null : expires.toString());
    }

    /** The commands of a request body: one command's fields, or a batch {@code {"commands": [...]}}. */
    private static List<CommandSpec> commandSpecs(JsonObject body) {
        JsonElement batch = body.get("commands");
        if (batch == null) return List.of(commandSpec(body, ""));
        for (String f : COMMAND_FIELDS) {
            if (body.has(f)) throw ApiException.badRequest("give either commands (a batch) or one command's fields, not both: '" + f
                + "' is outside commands");
        }
        if (!batch.isJsonArray()) throw ApiException.badRequest("commands must be a JSON array of command objects, got " + Json.abbreviate(batch));
        JsonArray list = batch.getAsJsonArray();
        if (list.isEmpty()) throw ApiException.badRequest("commands is empty: a batch holds at least one command");
        if (list.size() > MAX_BATCH) {
            throw ApiException.badRequest("commands holds " + list.size() + " commands; one request takes at most " + MAX_BATCH);
        }
        List<CommandSpec> specs = new ArrayList<>(list.size());
        Map<String, Integer> givenIds = new HashMap<>();
        for (int i = 0; i < list.size(); i++) {
            JsonElement e = list.get(i);
            if (!e.isJsonObject()) throw ApiException.badRequest("commands[" + i + "] must be a JSON object, got " + Json.abbreviate(e));
            CommandSpec spec = commandSpec(e.getAsJsonObject(), "commands[" + i + "].");
            if (spec.id() != null) {
                Integer first = givenIds.putIfAbsent(spec.id(), i);
                if (first != null) {
                    throw ApiException.badRequest("commands[" + i + "].id '" + spec.id() + "' is given twice (also commands[" + first + "].id)");
                }
            }
            specs.add(spec);
        }
        return specs;
    }

    /**
     * {@code POST /api/v1/commands}: one command or a batch, stored in one transaction (all or nothing), then pushed to
     * the connected agents. With {@code ?wait=S} the answer waits for the results as well.
     */
    private void createCommands(Exchange ex) {
        long waitMillis = waitMillis(ex);
        ResultWaiters.Until until = until(ex, waitMillis);
        List<CommandSpec> specs = commandSpecs(ex.jsonBody(MAX_BODY));
        String now = Times.now();
        /** {@code chosen}: ids of new commands the operator named (a result may already be stored under one). */
        record Created(List<Command> commands, List<Command> fresh, Set<String> chosen) {}
        Created created = store.writeAndWait(c -> {
            List<Command> out = new ArrayList<>(specs.size());
            List<NewCommand> fresh = new ArrayList<>(specs.size());
            Set<String> chosen = new HashSet<>();
            Map<String, Boolean> enrolled = new HashMap<>();
            List<String> everyone = null;
            for (CommandSpec s : specs) {
                if (s.all()) {
                    if (everyone == null) everyone = ServerStore.allAgentIds(c);
                    for (String a : everyone) {
                        fresh.add(new NewCommand(UUID.randomUUID().toString(), a, s.action(), s.paramsJson(), s.timeout(), s.expiresAt()));
                        out.add(null);
                    }
                    continue;
                }
                Boolean known = enrolled.get(s.agentId());
                if (known == null) enrolled.put(s.agentId(), known = ServerStore.agentExists(c, s.agentId()));
                if (!known) throw ApiException.notFound(s.where() + "agentId '" + s.agentId() + "' is not an enrolled agent");
                if (s.id() != null) {
                    Command existing = ServerStore.command(c, s.id());
                    if (existing != null) {
                        if (existing.agentId().equals(s.agentId()) && existing.action().equals(s.action())
                            && Json.parse(existing.params()).equals(s.params())) {
                            out.add(existing);
                            continue;
                        }
                        throw ApiException.conflict(s.where() + "id '" + s.id() + "' already names another command (agent '"
                            + existing.agentId() + "', action '" + existing.action() + "')");
                    }
                }
                if (s.id() != null) chosen.add(s.id());
                fresh.add(new NewCommand(s.id() == null ? UUID.randomUUID().toString() : s.id(), s.agentId(), s.action(),
                    s.paramsJson(), s.timeout(), s.expiresAt()));
                out.add(null);
            }
            ServerStore.insertCommands(c, fresh, now);
            // out holds the existing commands in place and null for each new one, in the same order as fresh
            List<Command> made = new ArrayList<>(fresh.size());
            int next = 0;
            for (int i = 0; i < out.size(); i++) {
                if (out.get(i) != null) continue;
                NewCommand n = fresh.get(next++);
                Command cmd = new Command(n.id(), n.agentId(), n.action(), n.params(), n.timeoutSeconds(), now, n.expiresAt(),
                    State.QUEUED, false, now);
                out.set(i, cmd);
                made.add(cmd);
            }
            return new Created(out, made, chosen);
        });
        ResultWaiters.Wait wait = null;
        if (waitMillis >= 0) {
            // registered before the push, so no result can come before its wait; only a command that existed, or
            // whose id the operator chose, can have a result stored already (a new UUID cannot)
            List<String> ids = new ArrayList<>(created.commands().size());
            List<String> mayBeStored = new ArrayList<>();
            Set<String> fresh = new HashSet<>();
            for (Command c : created.fresh()) fresh.add(c.id());
            for (Command c : created.commands()) {
                ids.add(c.id());
                if (!fresh.contains(c.id()) || created.chosen().contains(c.id())) mayBeStored.add(c.id());
            }
            wait = gateway.waiters().await(ids, mayBeStored, store::results, until, waitMillis);
        }
        if (!created.fresh().isEmpty()) {
            gateway.push(created.fresh());
            LOG.info(() -> "queued " + describe(created.fresh()));
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
        int status = created.fresh().isEmpty() ? 200 : 201;
        if (wait == null) ex.json(status, out);
        else answerWhenDone(ex, wait, results -> {
            out.add("results", resultViews(results));
            return new Answer(status, out);
        });
    }

    private static String describe(List<Command> fresh) {
        Command first = fresh.get(0);
        if (fresh.size() == 1) return first.action() + " for agent " + first.agentId() + " as " + first.id();
        Set<String> actions = new java.util.TreeSet<>();
        Set<String> agents = new HashSet<>();
        for (Command c : fresh) {
            actions.add(c.action());
            agents.add(c.agentId());
        }
        return fresh.size() + " commands (" + String.join(", ", actions) + ") for " + agents.size() + " agents";
    }

    // ---------------------------------------------------------------- waiting

    private record Answer(int status, JsonElement body) {}

    /** {@code ?wait=SECONDS}: -1 when absent. */
    private static long waitMillis(Exchange ex) {
        String w = ex.query("wait");
        if (w == null) return -1;
        double seconds;
        try {
            seconds = Double.parseDouble(w);
        } catch (NumberFormatException e) {
            seconds = Double.NaN;
        }
        if (!(seconds >= 0 && seconds <= MAX_WAIT_SECONDS)) {
            throw ApiException.badRequest("wait must be a number of seconds 0.." + MAX_WAIT_SECONDS + ", got '" + w + "'");
        }
        return Math.round(seconds * 1000);
    }

    /** {@code ?until=all|any}, which goes with {@code wait}. */
    private static ResultWaiters.Until until(Exchange ex, long waitMillis) {
        String u = ex.query("until");
        if (u == null) return ResultWaiters.Until.ALL;
        if (waitMillis < 0) throw ApiException.badRequest("until goes with wait (?wait=SECONDS&until=" + u + ")");
        return switch (u) {
            case "all" -> ResultWaiters.Until.ALL;
            case "any" -> ResultWaiters.Until.ANY;
            default -> throw ApiException.badRequest("until must be 'all' or 'any', got '" + u + "'");
        };
    }

    /**
     * Answers once the wait ends. The wait holds no thread: it completes where a result is committed (or by its
     * timer), and the answer is written on Jetty's pool, not on the store's writer thread.
     */
    private static void answerWhenDone(Exchange ex, ResultWaiters.Wait wait, Function<List<Result>, Answer> answer) {
        if (!wait.future().isDone()) ex.onFailure(t -> wait.finish()); // the client went away: stop waiting
        Consumer<List<Result>> reply = results -> {
            try {
                Answer a = answer.apply(results);
                ex.json(a.status(), a.body());
            } catch (RuntimeException e) {
                LOG.log(java.util.logging.Level.SEVERE, ex.method() + " " + ex.path() + " failed after its wait", e);
                ex.error(500, "internal server error (" + e.getClass().getSimpleName() + "); see the server log", List.of());
            }
        };
        if (wait.future().isDone()) reply.accept(wait.future().join());
        else wait.future().thenAcceptAsync(reply, ex.executor());
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
        long waitMillis = waitMillis(ex);
        ResultWaiters.Until until = until(ex, waitMillis);
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
        if (waitMillis < 0) {
            ex.json(200, resultsAnswer(store.results(list)));
            return;
        }
        answerWhenDone(ex, gateway.waiters().await(list, list, store::results, until, waitMillis),
            results -> new Answer(200, resultsAnswer(results)));
    }

    private static JsonObject resultsAnswer(List<Result> results) {
        JsonObject o = new JsonObject();
        o.add("results", resultViews(results));
        return o;
    }

    private static JsonArray resultViews(List<Result> results) {
        JsonArray out = new JsonArray(results.size());
        for (Result r : results) out.add(resultView(r));
        return out;
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
