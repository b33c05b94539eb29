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
import server.store.Records.Event;
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
    private final Guard guard;
    private final String operatorToken;

    OperatorApi(ServerStore store, AgentGateway gateway, BundleRepository bundles, Guard guard, String operatorToken) {
        this.store = store;
        this.gateway = gateway;
        this.bundles = bundles;
        this.guard = guard;
        this.operatorToken = operatorToken;
    }

    void handle(Exchange ex) throws IOException {
        if (!ex.bySession()) checkToken(ex);
        route(ex);
    }

    private void checkToken(Exchange ex) {
        guard.mayAuthenticate(ex.remoteAddress());
        if (!Tokens.matches(Tokens.bearer(ex.header(HttpHeader.AUTHORIZATION)), operatorToken)) {
            guard.refused(ex.remoteAddress(), "missing or wrong operator token on " + ex.path());
            throw ApiException.unauthorized("missing or wrong operator token (Authorization: Bearer <operator.token>)");
        }
    }

    private void route(Exchange ex) throws IOException {
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
            case "events" -> {
                if (seg.length != 1) throw notFound(ex);
                ex.requireMethod("GET");
                listEvents(ex);
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
                               Integer timeout, String id, String expiresAt, boolean dryRun) {}

    private static final List<String> COMMAND_FIELDS =
        List.of("agentId", "all", "action", "params", "timeoutSeconds", "id", "expiresAt", "dryRun");

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
        boolean dryRun = Json.optBoolean(body, "dryRun", where);
        return new CommandSpec(where, all, agentId, action, params, params.toString(), timeout, id,
            expires == null ? null : expires.toString(), dryRun);
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
        record Created(List<Command> commands, List<Command> fresh, String runId) {}
        Created created = store.writeAndWait(c -> {
            List<Command> out = new ArrayList<>(specs.size());
            List<NewCommand> fresh = new ArrayList<>(specs.size());
            List<Command> made = new ArrayList<>(specs.size());
            Map<String, Agent> enrolled = new HashMap<>();
            List<Agent> everyone = null;
            for (CommandSpec s : specs) {
                if (s.all()) {
                    if (everyone == null) everyone = ServerStore.allAgents(c);
                    for (Agent a : everyone) {
                        Command cmd = deliverable(s, a, new Command(UUID.randomUUID().toString(), a.agentId(), s.action(),
                            s.paramsJson(), s.timeout(), now, s.expiresAt(), State.QUEUED, false, now, s.dryRun()));
                        out.add(cmd);
                        made.add(cmd);
                    }
                    continue;
                }
                Agent agent = enrolled.get(s.agentId());
                if (agent == null) {
                    agent = ServerStore.agent(c, s.agentId());
                    if (agent == null) throw ApiException.notFound(s.where() + "agentId '" + s.agentId() + "' is not an enrolled agent");
                    enrolled.put(s.agentId(), agent);
                }
                if (s.id() != null) {
                    Command existing = ServerStore.command(c, s.id());
                    if (existing != null) {
                        if (existing.agentId().equals(s.agentId()) && existing.action().equals(s.action())
                            && Json.parse(existing.params()).equals(s.params()) && existing.dryRun() == s.dryRun()) {
                            out.add(existing);
                            continue;
                        }
                        throw ApiException.conflict(s.where() + "id '" + s.id() + "' already names another command (agent '"
                            + existing.agentId() + "', action '" + existing.action() + "'" + (existing.dryRun() ? ", a dry run" : "") + ")");
                    }
                }
                Command cmd = deliverable(s, agent, new Command(s.id() == null ? UUID.randomUUID().toString() : s.id(), s.agentId(),
                    s.action(), s.paramsJson(), s.timeout(), now, s.expiresAt(), State.QUEUED, false, now, s.dryRun()));
                out.add(cmd);
                made.add(cmd);
            }
            for (Command m : made) {
                fresh.add(new NewCommand(m.id(), m.agentId(), m.action(), m.params(), m.timeoutSeconds(), m.expiresAt(), m.dryRun()));
            }
            String runId = null;
            if (!made.isEmpty()) {
                runId = UUID.randomUUID().toString();
                ServerStore.insertRun(c, run(runId, specs, made.size(), now));
            } else if (!out.isEmpty()) {
                // a retried request whose commands all exist: the same answer as the first time, its run included
                runId = ServerStore.sharedRunId(c, out.stream().map(Command::id).toList());
            }
            ServerStore.insertCommands(c, fresh, now, runId);
            return new Created(out, made, runId);
        });
        ResultWaiters.Wait wait = null;
        if (waitMillis >= 0) {
            // registered before the push, so no result can come before its wait; only a command that existed can have
            // its result stored already (an offline result under the same id is never a command's)
            List<String> ids = new ArrayList<>(created.commands().size());
            List<String> mayBeStored = new ArrayList<>();
            Set<String> fresh = new HashSet<>();
            for (Command c : created.fresh()) fresh.add(c.id());
            for (Command c : created.commands()) {
                ids.add(c.id());
                if (!fresh.contains(c.id())) mayBeStored.add(c.id());
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
        if (created.runId() != null) out.addProperty("runId", created.runId());
        int status = created.fresh().isEmpty() ? 200 : 201;
        if (wait == null) ex.json(status, out);
        else answerWhenDone(ex, wait, results -> {
            out.add("results", resultViews(results));
            return new Answer(status, out);
        });
    }

    /**
     * A new command, checked against its agent: its frame must fit the agent's {@code maxFrameBytes} (a bigger one
     * would never be delivered and would cut the agent off, issue 23 item 2), and a dry run goes only to an agent
     * that knows dry runs: one whose hello predates them ignores {@code dryRun} and would change the host for real.
     */
    /** docs/protocol.md §3: a hello's {@code features} list what the agent understands beyond protocol 1. */
    private static boolean saysItKnows(Agent a, String feature) {
        if (a.hello() == null) return false;
        try {
            com.google.gson.JsonElement f = com.google.gson.JsonParser.parseString(a.hello()).getAsJsonObject().get("features");
            if (f == null || !f.isJsonArray()) return false;
            for (com.google.gson.JsonElement e : f.getAsJsonArray()) {
                if (e.isJsonPrimitive() && feature.equals(e.getAsString())) return true;
            }
            return false;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static Command deliverable(CommandSpec s, Agent a, Command cmd) {
        if (s.dryRun() && !saysItKnows(a, "dryRun")) {
            throw ApiException.conflict(s.where() + "dryRun: agent '" + a.agentId() + "' has not said it knows dry runs (its "
                + (a.hello() == null ? "first hello is yet to come" : "last hello's features do not list dryRun")
                + "); an agent that does not know dryRun would run the command for real");
        }
        int limit = a.frameLimit();
        if (!ServerStore.fits(cmd, limit, AgentGateway::frameBytes)) {
            throw ApiException.tooLarge(s.where() + "the command frame would be " + AgentGateway.frameBytes(cmd) + " bytes, over agent '"
                + a.agentId() + "''s frame limit of " + limit + " bytes (maxFrameBytes in its hello"
                + (a.maxFrameBytes() == null ? "; " + server.store.Records.DEFAULT_MAX_FRAME_BYTES + " when it says none" : "")
                + "): it could never be delivered. Make params smaller, or raise the agent's max_frame_bytes");
        }
        return cmd;
    }

    /** The run of one request: its action and params when every command shares them, else null (a mixed batch). */
    private static ServerStore.Run run(String id, List<CommandSpec> specs, int made, String now) {
        CommandSpec first = specs.get(0);
        boolean oneAction = true;
        boolean oneParams = true;
        boolean all = false;
        for (CommandSpec s : specs) {
            oneAction &= s.action().equals(first.action());
            oneParams &= s.paramsJson().equals(first.paramsJson());
            all |= s.all();
        }
        return new ServerStore.Run(id, oneAction ? first.action() : null, oneAction && oneParams ? first.paramsJson() : null,
            first.dryRun(), made, all, now);
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
        ServerStore.Cancelled done = store.writeAndWait(ServerStore.cancel(id, c -> {
            if (State.DONE.equals(c.state()) || State.CANCELLED.equals(c.state()) || State.UNDELIVERABLE.equals(c.state())) {
                throw ApiException.conflict("command '" + id + "' is already " + c.state() + ": nothing to cancel");
            }
        }, Times.now()));
        if (done == null) throw ApiException.notFound("no command '" + id + "'");
        if (done.made() != null) gateway.waiters().stored(done.made());
        Command after = done.command();
        boolean sent = gateway.sendCancel(after);
        LOG.info(() -> "cancel of " + id + ": " + (State.CANCELLED.equals(after.state()) && !after.cancelRequested() ? "cancelled while queued"
            : (State.CANCELLED.equals(after.state()) ? "cancelled before it was accepted; " : "")
            + (sent ? "sent to agent " + after.agentId() : "agent " + after.agentId() + " gets it when it next connects")));
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
        o.addProperty("dryRun", c.dryRun());
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
        int limit = limit(ex, 100, MAX_LIMIT);
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

    /**
     * The result object of docs/protocol.md §3, every field as the agent sent it ({@code errorCode} too), with
     * {@code agentId} after {@code id}, when the server got it, and {@code offline: true} for an offline result (one that
     * is no command's).
     */
    static JsonObject resultView(Result r) {
        JsonObject stored = Json.parse(r.result()).getAsJsonObject();
        JsonObject o = new JsonObject();
        o.addProperty("id", r.id());
        o.addProperty("agentId", r.agentId());
        for (var e : stored.entrySet()) if (!e.getKey().equals("id") && !e.getKey().equals("agentId")) o.add(e.getKey(), e.getValue());
        o.addProperty("receivedAt", r.receivedAt());
        if (!r.attached()) o.addProperty("offline", true);
        return o;
    }

    // ---------------------------------------------------------------- events

    /** Events in one answer at most (a follower asks again at once when it gets a full page). */
    private static final int MAX_EVENTS = 10_000;

    /**
     * {@code GET /api/v1/events?agent=A&kind=K&since=T&limit=N}: newest first. With {@code after=SEQ} (the {@code seq} of
     * the last event seen) the events stored after it, oldest first, and with {@code wait=S} the answer waits up to S
     * seconds for one to come (a long poll: {@code outpostctl events --follow}).
     */
    private void listEvents(Exchange ex) {
        String agent = ex.query("agent");
        if (agent != null && agent.isBlank()) agent = null;
        if (agent != null && store.agent(agent) == null) throw ApiException.notFound("agent '" + agent + "' is not an enrolled agent");
        String kind = ex.query("kind");
        if (kind != null && kind.isBlank()) kind = null;
        Long since = null;
        String sinceText = ex.query("since");
        if (sinceText != null) {
            try {
                since = Instant.parse(sinceText).toEpochMilli();
            } catch (java.time.format.DateTimeParseException e) {
                throw ApiException.badRequest("since must be an RFC 3339 time like 2026-11-24T10:00:00Z, got '" + sinceText + "'");
            }
        }
        int limit = limit(ex, 100, MAX_EVENTS);
        Long after = null;
        String afterText = ex.query("after");
        if (afterText != null) {
            try {
                after = Long.parseLong(afterText);
            } catch (NumberFormatException e) {
                after = -1L;
            }
            if (after < 0) throw ApiException.badRequest("after must be an event's seq (an integer 0 or more), got '" + afterText + "'");
        }
        long waitMillis = waitMillis(ex);
        if (waitMillis >= 0 && after == null) throw ApiException.badRequest("wait goes with after (?after=SEQ&wait=SECONDS)");
        EventQuery q = new EventQuery(agent, kind, since, after, limit);
        if (waitMillis <= 0) {
            ex.json(200, eventViews(q.read(store)));
            return;
        }
        followEvents(ex, q, System.nanoTime() + waitMillis * 1_000_000);
    }

    private record EventQuery(String agent, String kind, Long since, Long after, int limit) {
        List<Event> read(ServerStore store) {
            return store.events(agent, kind, since, after, limit);
        }
    }

    /**
     * Answers with the events after the cursor as soon as there are any, or with none at the deadline. The wait holds
     * no thread: it is a future that the next commit of events completes, after which the store is read again.
     */
    private void followEvents(Exchange ex, EventQuery q, long deadline) {
        java.util.concurrent.CompletableFuture<Void> next = gateway.eventFeed().next(); // before reading: no commit falls between
        List<Event> events;
        try {
            events = q.read(store);
        } catch (RuntimeException e) {
            next.cancel(false);
            throw e;
        }
        long left = deadline - System.nanoTime();
        if (!events.isEmpty() || left <= 0) {
            next.cancel(false);
            ex.json(200, eventViews(events));
            return;
        }
        ex.onFailure(t -> next.cancel(false)); // the client went away
        next.completeOnTimeout(null, left, java.util.concurrent.TimeUnit.NANOSECONDS).thenRunAsync(() -> {
            try {
                followEvents(ex, q, deadline);
            } catch (RuntimeException e) {
                LOG.log(java.util.logging.Level.SEVERE, ex.method() + " " + ex.path() + " failed while following events", e);
                ex.error(500, "internal server error (" + e.getClass().getSimpleName() + "); see the server log", List.of());
            }
        }, ex.executor());
    }

    private static JsonArray eventViews(List<Event> events) {
        JsonArray out = new JsonArray(events.size());
        for (Event e : events) out.add(eventView(e));
        return out;
    }

    /** {agentId, id, kind, time, data, receivedAt, seq}: the event as the agent sent it, where it came from, and its cursor. */
    static JsonObject eventView(Event e) {
        JsonElement parsed = Json.parse(e.event());
        JsonObject stored = parsed.isJsonObject() ? parsed.getAsJsonObject() : new JsonObject();
        JsonObject o = new JsonObject();
        o.addProperty("agentId", e.agentId());
        o.add("id", stored.has("id") ? stored.get("id") : JsonNull.INSTANCE);
        o.add("kind", stored.has("kind") ? stored.get("kind") : JsonNull.INSTANCE);
        o.add("time", stored.has("time") ? stored.get("time") : JsonNull.INSTANCE);
        o.add("data", stored.has("data") ? stored.get("data") : JsonNull.INSTANCE);
        for (var f : stored.entrySet()) if (!o.has(f.getKey())) o.add(f.getKey(), f.getValue());
        o.addProperty("receivedAt", e.receivedAt());
        o.addProperty("seq", e.seq());
        return o;
    }

    /** {@code ?limit=N}, 1..max. */
    private static int limit(Exchange ex, int dflt, int max) {
        String l = ex.query("limit");
        if (l == null) return dflt;
        int limit;
        try {
            limit = Integer.parseInt(l);
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > max) throw ApiException.badRequest("limit must be an integer 1.." + max + ", got '" + l + "'");
        return limit;
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
