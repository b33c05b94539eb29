package agent.core.internal.server;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import agent.api.Command;
import agent.api.Event;
import agent.api.Result;
import agent.core.internal.config.AgentConfig;
import agent.core.internal.dispatch.CommandListener;
import agent.core.internal.dispatch.Dispatcher;
import agent.core.internal.dispatch.HandlerRegistry;
import agent.core.internal.events.EventsService;
import agent.core.internal.host.MachineIdentity;
import agent.core.internal.host.OsRelease;
import agent.core.internal.plugins.PluginInventory;
import agent.store.CommandStore;
import agent.store.Destination;
import agent.transport.AgentLink;
import agent.transport.Transport;
import agent.transport.TransportFactory;
import agent.transport.TransportSettings;

/**
 * The agent's side of the server connection (docs/protocol.md §3–§5): commands from the transport go to the
 * dispatcher (durably recorded before {@code accepted}); what the dispatcher says of commands for the server, and
 * recorded events, go back; acks empty the outbox and the event backlog. Exists only in a run that talks to a server
 * (its config reference is satisfied only then).
 */
@Component(service = {ServerConnection.class, ServerDownloads.class}, immediate = true)
public final class ServerConnection implements AgentLink, CommandListener, ServerDownloads {
    private static final Logger LOG = Logger.getLogger("agent.core.server");
    /** What this agent understands beyond protocol 1 (docs/protocol.md §3): a server sends dryRun only to an agent that says so. */
    static final List<String> FEATURES = List.of("dryRun", "errorCode", "eventIds");

    private final AgentConfig config;
    private final Dispatcher dispatcher;
    private final CommandStore store;
    private final HandlerRegistry registry;
    private final PluginInventory plugins;
    private final EventsService events;
    private final String version;
    private final Transport transport;
    private final Runnable capabilities;
    private final Runnable eventsRecorded;

    /**
     * @param context    the core's bundle context, for the agent's version
     * @param config     the agent's config, in a run that talks to a server
     * @param dispatcher where commands go
     * @param store      the outbox and the event backlog
     * @param registry   what plugins serve (a change is sent to the server)
     * @param plugins    the plugin list of hello
     * @param events     recorded events, sent as they come
     * @param transports opens the configured transport
     */
    @Activate
    public ServerConnection(BundleContext context, @Reference(target = "(" + AgentConfig.CONNECTS + "=true)") AgentConfig config,
            @Reference Dispatcher dispatcher, @Reference CommandStore store, @Reference HandlerRegistry registry,
            @Reference PluginInventory plugins, @Reference EventsService events, @Reference TransportFactory transports) {
        this.config = config;
        this.dispatcher = dispatcher;
        this.store = store;
        this.registry = registry;
        this.plugins = plugins;
        this.events = events;
        this.version = context.getBundle().getVersion().toString();
        // one-shot mode checks in over HTTPS whatever the configured transport (docs/protocol.md §4)
        this.transport = transports.open(settings(config), this);
        this.capabilities = transport::capabilities;
        this.eventsRecorded = transport::eventsRecorded;
        dispatcher.addListener(this);
        registry.onChange(capabilities);
        plugins.onChange(capabilities);
        events.onRecorded(eventsRecorded);
    }

    private static TransportSettings settings(AgentConfig c) {
        TransportSettings s = new TransportSettings();
        s.kind = c.mode == agent.core.internal.config.Mode.ONCE ? "poll" : c.transport;
        s.serverUrl = URI.create(c.serverUrl);
        s.serverCa = c.serverCa;
        s.clientCert = c.clientCert;
        s.clientKey = c.clientKey;
        s.enrollmentToken = c.enrollmentToken;
        s.dataDir = c.dataDir;
        s.machineId = c.agentId;
        s.hostname = MachineIdentity.hostname();
        s.heartbeatSeconds = c.heartbeatSeconds;
        s.maxBackoffSeconds = c.maxBackoffSeconds;
        s.checkInInterval = c.checkInInterval;
        s.maxFrameBytes = c.maxFrameBytes;
        String proxy = c.httpsProxy != null ? c.httpsProxy : System.getenv("https_proxy");
        if (proxy == null) proxy = System.getenv("HTTPS_PROXY");
        s.httpsProxy = proxy == null || proxy.isBlank() ? null : URI.create(proxy);
        s.insecureHttp = c.insecureHttp;
        return s;
    }

    /** Starts connecting, in the background, for good (managed and console modes). */
    public void start() { transport.start(); }

    /**
     * One-shot mode: checks in until everything is delivered, bounded.
     *
     * @param limit the longest to try
     * @return whether everything was delivered
     */
    public boolean runOnce(Duration limit) throws InterruptedException { return transport.runOnce(limit); }

    /** @return the connection's state for status displays */
    public String state() { return transport.state(); }

    @Override
    public void download(String url, Path target) throws IOException, InterruptedException {
        transport.download(url, target);
    }

    // ---- AgentLink ---------------------------------------------------------------------------------------

    @Override
    public Map<String, Object> hello() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("protocol", 1);
        m.put("agentId", config.agentId);
        m.put("agentVersion", version);
        m.put("hostname", MachineIdentity.hostname());
        Map<String, Object> os = new LinkedHashMap<>();
        os.put("name", System.getProperty("os.name"));
        os.put("version", OsRelease.prettyName());
        os.put("kernel", System.getProperty("os.version"));
        os.put("arch", System.getProperty("os.arch"));
        m.put("os", os);
        m.put("mode", config.mode.wireName());
        List<Map<String, Object>> list = plugins.list();
        list.forEach(p -> {
            p.remove("core");
            p.remove("installedAtRuntime");
        });
        m.put("plugins", list);
        m.put("maxFrameBytes", config.maxFrameBytes);
        m.put("features", FEATURES);
        return m;
    }

    @Override
    public void commands(List<Command> commands) {
        dispatcher.submitAll(commands, Destination.SERVER); // answers come back through the listener
    }

    @Override
    public void invalidCommand(String id, String error) {
        if (id == null) {
            events.emit("protocol", Map.of("error", error));
            return;
        }
        dispatcher.reject(id, error, Destination.SERVER);
    }

    @Override
    public void cancel(String id) {
        if (!dispatcher.cancel(id)) LOG.info("cancel of " + id + " ignored: not queued or running");
    }

    @Override
    public void acked(Collection<String> results, Collection<String> eventIds) {
        store.ack(results);
        store.events().ack(eventIds);
    }

    @Override
    public List<Result> outbox(int limit) { return store.outbox(limit); }

    @Override
    public List<Event> pendingEvents(int limit) { return store.events().pending(limit); }

    @Override
    public boolean busy() { return !dispatcher.active().isEmpty(); }

    // ---- CommandListener ----------------------------------------------------------------------------------

    @Override
    public void accepted(String id, Destination to) {
        if (to == Destination.SERVER) transport.accepted(id);
    }

    @Override
    public void finished(Result result, Destination to) {
        if (to == Destination.SERVER) transport.result(result);
    }

    @Override
    public void progress(String id, Integer percent, String message, Destination to) {
        if (to == Destination.SERVER) transport.progress(id, percent, message);
    }

    @Deactivate
    void close() {
        dispatcher.removeListener(this);
        registry.removeOnChange(capabilities);
        plugins.removeOnChange(capabilities);
        events.removeOnRecorded(eventsRecorded);
        transport.close();
    }
}
