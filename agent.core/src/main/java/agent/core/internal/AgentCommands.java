package agent.core.internal;

import agent.transport.Frames;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;
import agent.store.CommandRecord;

/** The Gogo {@code agent:*} commands. Each returns text; wrong arguments get a plain message. */
@Component(service = AgentCommands.class, property = {"osgi.command.scope=agent",
    "osgi.command.function=status", "osgi.command.function=commands", "osgi.command.function=command",
    "osgi.command.function=actions", "osgi.command.function=exec", "osgi.command.function=plugins",
    "osgi.command.function=install"})
public final class AgentCommands {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile AgentRuntime runtime;

    @Reference
    HandlerRegistry registry;

    @Descriptor("agent id, mode, uptime, commands by state, outbox and actions")
    public String status() {
        AgentRuntime rt = rt();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agent", rt.agentId);
        m.put("version", rt.version);
        m.put("mode", rt.mode.wireName());
        m.put("uptime", Duration.between(rt.startedAt, Instant.now()).toSeconds() + " s");
        m.put("data dir", rt.config.dataDir);
        m.put("server", rt.config.serverUrl == null ? "(none)" : rt.config.serverUrl);
        ServerConnection conn = rt.connection;
        if (conn != null) m.put("transport", rt.config.transport + ": " + conn.transport().state());
        Map<String, Long> counts = new LinkedHashMap<>();
        rt.store.counts().forEach((s, n) -> counts.put(s.wireName(), n));
        m.put("commands", counts);
        m.put("active", rt.dispatcher.active().size());
        m.put("outbox", rt.store.outbox(10_000).size());
        m.put("actions", registry.actions().size());
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(String.format("%-10s %s%n", k, v)));
        return sb.toString();
    }

    @Descriptor("recent commands, newest first")
    public String commands(
            @Descriptor("only this state (received, running, succeeded, failed, timed_out, cancelled, interrupted, rejected)")
            @Parameter(names = {"-s", "--state"}, absentValue = "") String state,
            @Descriptor("how many") @Parameter(names = {"-n", "--limit"}, absentValue = "20") int limit) {
        Status filter = null;
        if (!state.isEmpty()) {
            try {
                filter = Status.fromWire(state);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
        StringBuilder sb = new StringBuilder(String.format("%-36s  %-11s  %-20s  %-24s  %s%n", "ID", "STATE", "ACTION",
            "RECEIVED", "SOURCE"));
        for (CommandRecord r : rt().store.recent(Math.max(1, limit), filter)) {
            sb.append(String.format("%-36s  %-11s  %-20s  %-24s  %s%n", r.command().id(), r.status().wireName(),
                r.command().action(), r.receivedAt(), r.source()));
        }
        return sb.toString();
    }

    @Descriptor("the full record of one command, with its output")
    public String command(@Descriptor("command id") String id) {
        return rt().store.get(id).map(AgentCommands::describe).orElse("no command with id '" + id + "'");
    }

    @Descriptor("the actions this agent serves now, and the bundle serving each")
    public String actions() {
        StringBuilder sb = new StringBuilder(String.format("%-24s  %-12s  %s%n", "ACTION", "CONCURRENCY", "BUNDLE"));
        registry.actions().forEach((a, r) -> sb.append(String.format("%-24s  %-12s  %s%n", a,
            r.concurrencyKey == null ? "-" : r.concurrencyKey, r.bundle)));
        return sb.toString();
    }

    @Descriptor("run an action with no params through the dispatcher and store, and print its result")
    public String exec(@Descriptor("seconds to wait for the result") @Parameter(names = {"-w", "--wait"},
                absentValue = "60") int wait,
            @Descriptor("action, e.g. agent.ping") String action) throws InterruptedException {
        return exec(wait, action, "{}");
    }

    @Descriptor("run an action through the dispatcher and store, as a server command would, and print its result")
    public String exec(@Descriptor("seconds to wait for the result") @Parameter(names = {"-w", "--wait"},
                absentValue = "60") int wait,
            @Descriptor("action, e.g. agent.ping") String action,
            @Descriptor("params as one JSON object in single quotes, e.g. '{\"echo\":1}'") String params)
            throws InterruptedException {
        Map<String, Object> p;
        try {
            p = Frames.params(params, "params");
        } catch (Frames.FrameException e) {
            return e.getMessage();
        }
        if (!Frames.ACTION.matcher(action).matches()) return "action must be a dotted name like 'agent.ping', got '" + action + "'";
        Command c = new Command(UUID.randomUUID().toString(), action, p, null, Instant.now(), null);
        Dispatcher.Submission s = rt().dispatcher.submit(c, "shell");
        try {
            Result r = s.result.get(wait, TimeUnit.SECONDS);
            return Frames.PRETTY.toJson(Frames.result(r));
        } catch (TimeoutException e) {
            return "command " + c.id() + " still runs after " + wait + " s; see agent:command " + c.id();
        } catch (java.util.concurrent.ExecutionException e) {
            return "command " + c.id() + " failed in the agent: " + e.getCause();
        }
    }

    @Descriptor("installed bundles: version, state, whether core or installed at runtime, actions")
    @SuppressWarnings("unchecked")
    public String plugins() throws InterruptedException {
        Result r = run("plugin.list", Map.of(), 60);
        if (r == null || r.status() != Status.SUCCEEDED) return r == null ? "plugin.list did not answer" : r.error();
        StringBuilder sb = new StringBuilder(String.format("%-36s  %-22s  %-9s  %-7s  %s%n", "BUNDLE", "VERSION", "STATE",
            "KIND", "ACTIONS"));
        for (Map<String, Object> p : (java.util.List<Map<String, Object>>) r.data()) {
            String kind = Boolean.TRUE.equals(p.get("core")) ? "core" : Boolean.TRUE.equals(p.get("installedAtRuntime"))
                ? "runtime" : "builtin";
            sb.append(String.format("%-36s  %-22s  %-9s  %-7s  %s%n", p.get("bsn"), p.get("version"), p.get("state"), kind,
                String.join(", ", (java.util.List<String>) p.get("actions"))));
        }
        return sb.toString();
    }

    @Descriptor("install a local plugin jar through the same checks as plugin.install (manifest, policy, core)")
    public String install(@Descriptor("path of the jar") String file) throws InterruptedException {
        java.nio.file.Path jar = java.nio.file.Path.of(file).toAbsolutePath();
        String sha;
        try {
            sha = PluginManager.sha256(jar);
        } catch (java.io.IOException e) {
            return "cannot read " + jar + ": " + e.getMessage();
        }
        Result r = run("plugin.install", Map.of("url", jar.toUri().toString(), "sha256", sha), 120);
        return r == null ? "plugin.install still runs; see agent:commands" : Frames.PRETTY.toJson(Frames.result(r));
    }

    /** Runs through the dispatcher and store as source "shell"; the result is delivered here, so it is acked. */
    private Result run(String action, Map<String, Object> params, int waitSeconds) throws InterruptedException {
        Command c = new Command(UUID.randomUUID().toString(), action, params, null, Instant.now(), null);
        Dispatcher.Submission s = rt().dispatcher.submit(c, "shell");
        try {
            Result r = s.result.get(waitSeconds, TimeUnit.SECONDS);
            rt().store.ack(java.util.List.of(r.id()));
            return r;
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            return null;
        }
    }

    private AgentRuntime rt() {
        AgentRuntime rt = runtime;
        if (rt == null) throw new IllegalStateException("the agent is not started yet");
        return rt;
    }

    private static String describe(CommandRecord r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.command().id());
        m.put("action", r.command().action());
        m.put("params", r.command().params());
        m.put("state", r.status().wireName());
        m.put("source", r.source());
        m.put("receivedAt", r.receivedAt().toString());
        if (r.command().issuedAt() != null) m.put("issuedAt", r.command().issuedAt().toString());
        if (r.startedAt() != null) m.put("startedAt", r.startedAt().toString());
        m.put("delivered", r.delivered());
        if (r.result() != null) m.put("result", Frames.GSON.fromJson(Frames.result(r.result()), Object.class));
        return Frames.PRETTY.toJson(m);
    }
}
