package agent.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.store.CommandStore;
import agent.store.CommandStoreFactory;
import agent.store.Recovery;

/**
 * The running agent: its config, store, dispatcher and built-in actions. Started once the config is known;
 * registered as a service so the Gogo commands can reach it.
 */
final class AgentRuntime implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("agent.core");

    final AgentConfig config;
    final Mode mode;
    final String agentId;
    final String version;
    final Instant startedAt = Instant.now();
    final CommandStore store;
    final HandlerRegistry registry;
    final Dispatcher dispatcher;
    /** The server connection in run, once and console modes; null offline. */
    volatile ServerConnection connection;
    private final List<ServiceRegistration<?>> registrations = new java.util.ArrayList<>();

    private AgentRuntime(AgentConfig config, Mode mode, String version, CommandStore store, HandlerRegistry registry) {
        this.config = config;
        this.mode = mode;
        this.version = version;
        this.agentId = MachineIdentity.agentId(config);
        this.store = store;
        this.registry = registry;
        this.dispatcher = new Dispatcher(store, registry, new Limits(config.maxConcurrentCommands,
            config.maxCommandSeconds, config.maxOutputBytes, Duration.ofDays(config.retentionDays), Duration.ofSeconds(10),
            config::section),
            Clock.systemUTC());
    }

    static AgentRuntime start(AgentConfig config, Mode mode, String version, CommandStoreFactory stores,
            HandlerRegistry registry, BundleContext context) throws ConfigException {
        try {
            Files.createDirectories(config.dataDir);
            setOwnerOnly(config.dataDir);
        } catch (IOException e) {
            throw new ConfigException("config key 'data_dir': cannot create " + config.dataDir + ": " + e.getMessage());
        }
        CommandStore store = stores.open(config.dataDir);
        AgentRuntime rt = new AgentRuntime(config, mode, version, store, registry);
        rt.registerBuiltin(context, "agent.ping", new PingHandler());
        rt.registerBuiltin(context, "agent.info", (CommandContext ctx) -> rt.info());
        PluginManager plugins;
        try {
            plugins = new PluginManager(context, registry, rt.dispatcher, config, () -> rt.connection);
        } catch (ConfigException e) {
            rt.close();
            throw e;
        }
        rt.registerBuiltin(context, plugins, "plugin", "plugin.list", "plugin.install", "plugin.upgrade", "plugin.remove");
        Recovery rec = store.recover("the agent restarted while the command ran; it was not run again");
        rec.interrupted().forEach(r -> LOG.warning("command " + r.id() + " was running when the agent stopped: interrupted"));
        int pruned = store.prune(Instant.now().minus(Duration.ofDays(config.retentionDays)));
        if (pruned > 0) LOG.info("pruned " + pruned + " delivered command records older than " + config.retentionDays + " days");
        rt.dispatcher.resume(rec.toRun());
        rt.registrations.add(context.registerService(AgentRuntime.class, rt, null));
        return rt;
    }

    private void registerBuiltin(BundleContext context, String action, CommandHandler handler) {
        registerBuiltin(context, handler, null, action);
    }

    private void registerBuiltin(BundleContext context, CommandHandler handler, String concurrencyKey, String... actions) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(CommandHandler.ACTIONS, actions);
        if (concurrencyKey != null) props.put(CommandHandler.CONCURRENCY_KEY, concurrencyKey);
        registrations.add(context.registerService(CommandHandler.class, handler, props));
    }

    Map<String, Object> info() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agentId", agentId);
        m.put("version", version);
        m.put("mode", mode.wireName());
        m.put("hostname", MachineIdentity.hostname());
        m.put("startedAt", startedAt.toString());
        m.put("uptimeSeconds", Duration.between(startedAt, Instant.now()).toSeconds());
        m.put("actions", List.copyOf(registry.actions().keySet()));
        m.put("config", config.summary());
        return m;
    }

    private static void setOwnerOnly(Path dir) throws IOException {
        try {
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to tighten
        }
    }

    @Override
    public void close() {
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework is stopping and took it already
            }
        }
        dispatcher.close();
        store.close();
    }
}
