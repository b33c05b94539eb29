package agent.core.internal.control;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.core.internal.config.AgentConfig;
import agent.core.internal.config.JsonFile;
import agent.core.internal.config.Mode;
import agent.core.internal.dispatch.Dispatcher;
import agent.core.internal.dispatch.HandlerRegistry;
import agent.core.internal.main.Logging;
import agent.core.internal.plugins.PluginInventory;
import agent.core.internal.server.ServerConnection;
import agent.store.CommandStore;
import agent.transport.ServerRequests;

/**
 * What {@code outpost status} and {@code agent:status} show of the running agent, as one ordered map (the JSON of
 * {@code outpost status --json}; {@link StatusText} lays it out for people). It also keeps the last of it in
 * {@code <data_dir>/status.json} (at start, when the plugins change, every minute if anything changed, and at stop),
 * so that the status of a stopped agent can say which plugins it ran, its last error, and when it stopped.
 */
@Component(service = AgentStatus.class, immediate = true)
public final class AgentStatus {
    private static final Logger LOG = Logger.getLogger("agent.core.status");
    /** The snapshot of the last run, in the data dir. */
    public static final String FILE = "status.json";
    private static final long REFRESH_SECONDS = 60;

    private final AgentConfig config;
    private final CommandStore store;
    private final Dispatcher dispatcher;
    private final HandlerRegistry registry;
    private final PluginInventory plugins;
    private final ServerRequests requests;
    private final String version;
    private final Instant startedAt = Instant.now();
    private final Path file;
    private final ScheduledExecutorService timer;
    private final Runnable pluginsChanged = this::pluginsChanged;
    private ScheduledFuture<?> pendingWrite; // guarded by this
    private String written; // guarded by this

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServerConnection server;

    /**
     * @param context    the core's bundle context, for the agent's version
     * @param config     the agent's config
     * @param store      commands by state, the outbox, the event backlog
     * @param dispatcher what runs now
     * @param registry   told when plugins change
     * @param plugins    the plugins and their states
     * @param requests   the agent id the server gave at enrolment
     */
    @Activate
    public AgentStatus(BundleContext context, @Reference AgentConfig config, @Reference CommandStore store,
            @Reference Dispatcher dispatcher, @Reference HandlerRegistry registry, @Reference PluginInventory plugins,
            @Reference ServerRequests requests) {
        this.config = config;
        this.store = store;
        this.dispatcher = dispatcher;
        this.registry = registry;
        this.plugins = plugins;
        this.requests = requests;
        this.version = context.getBundle().getVersion().toString();
        this.file = config.dataDir.resolve(FILE);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "outpost-status");
            t.setDaemon(true);
            return t;
        });
        registry.onChange(pluginsChanged);
        timer.execute(this::refresh);
        timer.scheduleWithFixedDelay(this::refresh, REFRESH_SECONDS, REFRESH_SECONDS, TimeUnit.SECONDS);
    }

    /** @return the status now, in the order it is shown */
    public Map<String, Object> now() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agentId", requests.enrolledAgentId(config.dataDir));
        m.put("machineId", config.agentId);
        m.put("version", version);
        m.put("state", "running");
        m.put("since", startedAt.toString());
        m.put("pid", ProcessHandle.current().pid());
        m.put("mode", config.mode.wireName());
        m.put("serverUrl", config.serverUrl);
        m.put("transport", transport(config));
        ServerConnection conn = server;
        m.put("connection", conn != null ? conn.state() : config.connects() ? "not open" : "none in " + config.mode.wireName() + " mode");
        m.put("plugins", plugins());
        m.put("commands", counts(store));
        m.put("active", dispatcher.active().size());
        m.put("outbox", store.outboxSize());
        m.put("events", store.events().size());
        m.put("lastError", lastError());
        m.put("logLevel", Logging.level());
        m.put("dataDir", config.dataDir.toString());
        m.put("configFile", config.configFile == null ? null : config.configFile.toString());
        return m;
    }

    /** @param c a config @return the transport a run of it uses, or null when it talks to no server */
    static String transport(AgentConfig c) {
        if (c.serverUrl == null) return null;
        return c.mode == Mode.ONCE ? "poll" : c.transport;
    }

    /** @return every plugin (a bundle that is not the agent's core): name, version, state, and why if quarantined */
    private List<Map<String, Object>> plugins() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> p : plugins.list()) {
            if (Boolean.TRUE.equals(p.get("core"))) continue;
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("bsn", p.get("bsn"));
            q.put("version", p.get("version"));
            q.put("state", p.get("state"));
            if (p.containsKey("error")) q.put("error", p.get("error"));
            q.put("installedAtRuntime", p.get("installedAtRuntime"));
            out.add(q);
        }
        return out;
    }

    /** @param store a store @return commands by state, in the order of the state machine, none left out */
    static Map<String, Object> counts(CommandStore store) {
        Map<String, Object> out = new LinkedHashMap<>();
        store.counts().forEach((s, n) -> out.put(s.wireName(), n));
        return out;
    }

    private static Map<String, Object> lastError() {
        Logging.Problem p = Logging.lastProblem();
        if (p == null) return null;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", p.time().toString());
        m.put("level", p.level());
        m.put("logger", p.logger());
        m.put("message", p.message());
        return m;
    }

    // ---- the snapshot of the last run ------------------------------------------------------------------------

    /** Plugins come and go in bursts (each handler is one change): one write a second later covers a burst. */
    private synchronized void pluginsChanged() {
        if (pendingWrite != null && !pendingWrite.isDone()) return;
        pendingWrite = timer.schedule(this::refresh, 1, TimeUnit.SECONDS);
    }

    private void refresh() { save(null); }

    /** Writes the snapshot if it differs from the last one written (the live counts of a busy agent aside). */
    private synchronized void save(Instant stoppedAt) {
        try {
            Map<String, Object> m = now();
            m.remove("active");
            if (stoppedAt != null) m.put("stoppedAt", stoppedAt.toString());
            String text = JsonFile.GSON.newBuilder().setPrettyPrinting().create().toJson(m) + "\n";
            if (text.equals(written)) return;
            Path tmp = Files.createTempFile(file.getParent(), ".status-", ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            written = text;
        } catch (IOException | RuntimeException e) {
            LOG.warning("cannot write " + file + " (the status of the agent once stopped): " + e.getMessage());
        }
    }

    @Deactivate
    void close() {
        registry.removeOnChange(pluginsChanged);
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        save(Instant.now());
    }
}
