package agent.core.internal.shell;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;
import agent.core.internal.config.AgentConfig;
import agent.core.internal.dispatch.Dispatcher;
import agent.core.internal.dispatch.HandlerRegistry;
import agent.core.internal.plugins.PluginInventory;
import agent.core.internal.plugins.PluginManager;
import agent.core.internal.server.ServerConnection;
import agent.store.CommandRecord;
import agent.store.CommandStore;
import agent.store.Destination;
import agent.transport.DocumentException;
import agent.transport.Documents;

/**
 * The Gogo {@code agent:*} commands. Each answers with text laid out by {@link TextTable}; wrong arguments get a plain
 * message, not a stack trace. Commands run through the same dispatcher and store as a server's, for
 * {@link Destination#SHELL}.
 */
@Component(service = AgentCommands.class)
@GogoCommand(scope = "agent", function = {"status", "commands", "command", "actions", "exec", "plugins", "install"})
public final class AgentCommands {
    private final Instant startedAt = Instant.now();

    @Reference
    AgentConfig config;

    @Reference
    Dispatcher dispatcher;

    @Reference
    CommandStore store;

    @Reference
    HandlerRegistry registry;

    @Reference
    PluginInventory plugins;

    @Reference
    Documents documents;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServerConnection server;

    @Descriptor("agent id, mode, uptime, connection, commands by state, outbox, event backlog and actions")
    public String status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agent", config.agentId);
        m.put("mode", config.mode.wireName());
        m.put("uptime", Duration.between(startedAt, Instant.now()).toSeconds() + " s");
        m.put("data dir", config.dataDir);
        m.put("server", config.serverUrl == null ? "(none)" : config.serverUrl);
        ServerConnection conn = server;
        if (conn != null) m.put("transport", config.transport + ": " + conn.state());
        Map<String, Long> counts = new LinkedHashMap<>();
        store.counts().forEach((s, n) -> counts.put(s.wireName(), n));
        m.put("commands", counts);
        m.put("active", dispatcher.active().size());
        m.put("outbox", store.outbox(10_000).size());
        m.put("events", store.events().size());
        m.put("actions", registry.actions().size());
        return TextTable.fields(m);
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
        TextTable t = TextTable.of("ID", "STATE", "ACTION", "RECEIVED", "FOR");
        for (CommandRecord r : store.recent(Math.max(1, limit), filter)) {
            t.row(r.command().id(), r.status().wireName(), r.command().action() + (r.command().dryRun() ? " (dry run)" : ""),
                r.receivedAt(), r.destination().wireName());
        }
        return t.toString();
    }

    @Descriptor("the full record of one command, with its output")
    public String command(@Descriptor("command id") String id) {
        return store.get(id).map(this::describe).orElse("no command with id '" + id + "'");
    }

    @Descriptor("the actions this agent serves now, and the bundle serving each")
    public String actions() {
        TextTable t = TextTable.of("ACTION", "CONCURRENCY", "DRY RUN", "BUNDLE");
        registry.actions().forEach((a, r) -> t.row(a, r.concurrencyKey, r.dryRun ? "yes" : "no", r.bundleName));
        return t.toString();
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
            p = documents.parseObject(params, "params");
        } catch (DocumentException e) {
            return e.getMessage();
        }
        if (!Command.ACTION.matcher(action).matches()) return "action must be a dotted name like 'agent.ping', got '" + action + "'";
        Command c = new Command(UUID.randomUUID().toString(), action, p, null, Instant.now(), null);
        try {
            return documents.toJson(dispatcher.submit(c, Destination.SHELL).get(wait, TimeUnit.SECONDS));
        } catch (TimeoutException e) {
            return "command " + c.id() + " still runs after " + wait + " s; see agent:command " + c.id();
        } catch (ExecutionException e) {
            return "command " + c.id() + " failed in the agent: " + e.getCause();
        }
    }

    @Descriptor("installed bundles: version, state, whether core or installed at runtime, actions")
    @SuppressWarnings("unchecked")
    public String plugins() {
        TextTable t = TextTable.of("BUNDLE", "VERSION", "STATE", "KIND", "ACTIONS");
        for (Map<String, Object> p : plugins.list()) {
            String kind = Boolean.TRUE.equals(p.get("core")) ? "core" : Boolean.TRUE.equals(p.get("installedAtRuntime"))
                ? "runtime" : "builtin";
            String actions = String.join(", ", (List<String>) p.get("actions"));
            t.row(p.get("bsn"), p.get("version"), p.get("state"), kind, p.containsKey("error") ? actions + " (" + p.get("error") + ")" : actions);
        }
        return t.toString();
    }

    @Descriptor("install a local plugin jar through the same checks as plugin.install (manifest, policy, core)")
    public String install(@Descriptor("path of the jar") String file) throws InterruptedException {
        Path jar = Path.of(file).toAbsolutePath();
        String sha;
        try {
            sha = PluginManager.sha256(jar);
        } catch (IOException e) {
            return "cannot read " + jar + ": " + e.getMessage();
        }
        Command c = new Command(UUID.randomUUID().toString(), "plugin.install", Map.of("url", jar.toUri().toString(), "sha256", sha),
            null, Instant.now(), null);
        try {
            Result r = dispatcher.submit(c, Destination.SHELL).get(120, TimeUnit.SECONDS);
            return documents.toJson(r);
        } catch (TimeoutException | ExecutionException e) {
            return "plugin.install still runs; see agent:command " + c.id();
        }
    }

    private String describe(CommandRecord r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.command().id());
        m.put("action", r.command().action());
        m.put("params", r.command().params());
        if (r.command().dryRun()) m.put("dryRun", true);
        m.put("state", r.status().wireName());
        m.put("for", r.destination().wireName());
        m.put("receivedAt", r.receivedAt().toString());
        if (r.command().issuedAt() != null) m.put("issuedAt", r.command().issuedAt().toString());
        if (r.startedAt() != null) m.put("startedAt", r.startedAt().toString());
        m.put("delivered", r.delivered());
        StringBuilder sb = new StringBuilder(documents.toJson(m));
        if (r.result() != null) sb.append("\nresult:\n").append(documents.toJson(r.result()));
        return sb.toString();
    }
}
