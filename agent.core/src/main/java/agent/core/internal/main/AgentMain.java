package agent.core.internal.main;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.launch.Framework;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.util.tracker.ServiceTracker;

import agent.api.InvalidSettingsException;
import agent.core.internal.config.AgentConfig;
import agent.core.internal.config.ConfigException;
import agent.core.internal.config.ConfigLoader;
import agent.core.internal.config.Invocation;
import agent.core.internal.config.Mode;
import agent.core.internal.dispatch.Dispatcher;
import agent.core.internal.dispatch.HandlerRegistry;
import agent.core.internal.host.MachineIdentity;
import agent.core.internal.plugins.PluginManager;
import agent.core.internal.plugins.SettingsCheck;
import agent.core.internal.server.ServerConnection;
import agent.core.internal.shell.Console;
import agent.store.CommandStore;
import agent.store.CommandStoreFactory;
import agent.store.StoreException;
import agent.transport.Documents;
import agent.transport.ServerRequests;

/**
 * The agent's process: bnd's launcher calls this {@code Callable} (registered with {@code main.thread=true}) once
 * every bundle has started, passes it the command line through its own service's {@code launcher.arguments}, and
 * exits the JVM with the returned code: 0 success, 1 a command or delivery failed, 2 bad usage or config.
 *
 * <p>It parses the command line and the config, opens the store, and registers both as services: the core's
 * components (dispatcher, plugin manager, server connection, events, shell commands) depend on them and come up
 * then, by Declarative Services. It then runs the mode and, at the end, takes the services away again (the components
 * stop) before closing the store.
 */
@Component(service = Callable.class, property = "main.thread=true")
public final class AgentMain implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger("agent.core");
    /** The core's components come up within this once the config is registered (they start no plugin code). */
    private static final long COMPONENTS_MS = 60_000;
    /** What a SIGTERM waits for, in all within the service unit's TimeoutStopSec=30 (dist/outpost.service). */
    private static final long STORE_CLOSE_MS = 15_000, FRAMEWORK_STOP_MS = 10_000;

    @Reference(service = Object.class, target = "(launcher.arguments=*)")
    ServiceReference<Object> launcher;

    @Reference
    CommandStoreFactory stores;

    @Reference
    HandlerRegistry registry;

    @Reference
    CommandProcessor shell;

    @Reference
    Documents documents;

    @Reference
    ServerRequests requests;

    private BundleContext context;
    /** Counted down once the store is closed, so a SIGTERM's shutdown hook can wait for it. */
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Counted down by SIGTERM/SIGINT. */
    private final CountDownLatch stop = new CountDownLatch(1);

    @Activate
    void activate(BundleContext context) {
        this.context = context;
    }

    @Override
    public Integer call() {
        String[] args = (String[]) launcher.getProperty("launcher.arguments");
        Invocation inv;
        AgentConfig config;
        try {
            inv = Invocation.parse(args == null ? List.of() : Arrays.asList(args));
            if (inv == null) {
                System.out.println(Invocation.USAGE);
                return 0;
            }
        } catch (ConfigException e) {
            System.err.println("outpost: " + e.getMessage());
            return 2;
        }
        try {
            config = ConfigLoader.load(inv, System.getenv());
        } catch (ConfigException e) {
            if (inv.mode == Mode.CHECK) {
                ToolRuns.badConfig(e.getMessage(), ToolRuns.stdout());
            } else {
                System.err.println("outpost: " + e.getMessage());
            }
            return 2;
        }
        config.agentId = MachineIdentity.agentId(config.agentId);
        if (inv.mode.isTool()) return tool(inv, config);
        Logging.configure(config);
        config.warnings.forEach(LOG::warning);
        ExitGuard.install(context);
        // before anything is opened: a SIGTERM at any later point must wait for the store to close
        Bundle system = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                // the JVM halts when the hooks return: hold it until the main thread has closed the store, then until
                // the launcher has stopped the framework (it does once call() returns), so every component is
                // deactivated and SCR writes its metadata cache (ds.cache.metadata: the next start parses no XML).
                // Both bounded: a plugin whose deactivate hangs does not keep the agent from stopping.
                closed.await(STORE_CLOSE_MS, TimeUnit.MILLISECONDS);
                if (system instanceof Framework) ((Framework) system).waitForStop(FRAMEWORK_STOP_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "outpost-shutdown"));
        CommandStore store;
        DataDirLock lock;
        try {
            Files.createDirectories(config.dataDir);
            setOwnerOnly(config.dataDir);
            lock = DataDirLock.take(config, context);
        } catch (ConfigException e) {
            System.err.println("outpost: " + e.getMessage());
            closed.countDown();
            return 2;
        } catch (IOException e) {
            System.err.println("outpost: config key 'data_dir': cannot create " + config.dataDir + ": " + e.getMessage());
            closed.countDown();
            return 2;
        }
        try {
            store = stores.open(config.dataDir, inv.resetStore);
        } catch (StoreException e) {
            System.err.println("outpost: " + e.getMessage());
            lock.close();
            closed.countDown();
            return 2;
        }
        // built-in plugins' sections must fit their typed settings before anything runs
        InvalidSettingsException bad = SettingsCheck.firstProblem(registry.all(), config);
        if (bad != null) {
            System.err.println("outpost: " + bad.getMessage());
            store.close();
            lock.close();
            closed.countDown();
            return 2;
        }
        ServiceRegistration<CommandStore> storeService = context.registerService(CommandStore.class, store, null);
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(AgentConfig.MODE, config.mode.wireName());
        props.put(AgentConfig.CONNECTS, config.connects());
        ServiceRegistration<AgentConfig> configService = context.registerService(AgentConfig.class, config, props);
        try {
            Dispatcher dispatcher = await(Dispatcher.class);
            await(PluginManager.class); // it has started the plugins installed at runtime, each bounded
            // again: handlers that need the agent's own services (AgentPaths needs the config) only register once the
            // config is, after the first check; a bad section of theirs must stop the agent all the same
            InvalidSettingsException late = SettingsCheck.firstProblem(registry.all(), config);
            if (late != null) {
                System.err.println("outpost: " + late.getMessage());
                return 2;
            }
            ServerConnection server = config.connects() ? await(ServerConnection.class) : null;
            // what was received before a restart runs now that its plugins serve their actions again
            dispatcher.resumeRecovered();
            LOG.info("ready: agent " + config.agentId + ", mode " + config.mode.wireName() + ", " + registry.actions().size()
                + " actions, data dir " + config.dataDir + sinceLaunch());
            if (config.mode == Mode.RUN) SystemdNotify.ready();
            return run(inv, config, dispatcher, store, server);
        } catch (ConfigException e) {
            System.err.println("outpost: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "I/O error", e);
            System.err.println("outpost: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } catch (IllegalArgumentException e) {
            // a TLS file that cannot be used (the message names the config key)
            System.err.println("outpost: " + e.getMessage());
            return 2;
        } finally {
            // the components stop with the services they depend on, then the store closes under nobody
            unregister(configService);
            unregister(storeService);
            store.close();
            lock.close();
            Logging.reattach();
            LOG.info("stopped");
            closed.countDown();
        }
    }

    /** An operator's tool: no lock, no store opened for writing, no components, no log file (see {@link ToolRuns}). */
    private int tool(Invocation inv, AgentConfig config) {
        Logging.configureForTool();
        try {
            switch (inv.mode) {
                case STATUS:
                    return ToolRuns.status(config, context.getBundle().getVersion().toString(), stores, requests, inv.json,
                        ToolRuns.stdout());
                case INJECT:
                    return ToolRuns.inject(config, requests, inv.report, ToolRuns.stdout(), System.err);
                default:
                    return ToolRuns.check(config, requests, ToolRuns.stdout());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private int run(Invocation inv, AgentConfig config, Dispatcher dispatcher, CommandStore store, ServerConnection server)
            throws ConfigException, IOException, InterruptedException {
        switch (inv.mode) {
            case OFFLINE:
                return OfflineRunner.run(config, dispatcher, store, documents, inv.tasks, inv.report);
            case ONCE: {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(inv.maxSeconds);
                if (inv.waitSeconds > 0) {
                    long wait = ThreadLocalRandom.current().nextLong(inv.waitSeconds * 1000L + 1);
                    LOG.info("waiting " + wait + " ms before checking in (--wait " + inv.waitSeconds + ")");
                    Thread.sleep(wait);
                }
                boolean delivered = server.runOnce(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
                LOG.info(delivered ? "one-shot run complete: everything delivered"
                    : "one-shot run incomplete after --max-seconds " + inv.maxSeconds + ": results or events remain"
                        + " undelivered (they go at the next run)");
                return delivered ? 0 : 1;
            }
            case CONSOLE:
                if (server != null) server.start();
                // the terminal itself: Gogo's ThreadIO has replaced System.out/err with streams that route a
                // command's output back to its session, and a session on System.out would loop forever
                return Console.run(shell, new FileInputStream(FileDescriptor.in),
                    new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8"));
            default:
                server.start();
                stop.await(); // managed mode: until SIGTERM/SIGINT; the shutdown hook then waits for a clean close
                return 0;
        }
    }

    /** Waits for one of the core's components: they come up once the config and the store are registered. */
    private <T> T await(Class<T> type) throws InterruptedException {
        ServiceTracker<T, T> t = new ServiceTracker<>(context, type, null);
        t.open();
        try {
            T service = t.waitForService(COMPONENTS_MS);
            if (service == null) throw new IllegalStateException("the agent's " + type.getSimpleName() + " did not start");
            return service;
        } finally {
            t.close();
        }
    }

    private static void unregister(ServiceRegistration<?> r) {
        try {
            r.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework is stopping and took it already
        }
    }

    private static void setOwnerOnly(Path dir) throws IOException {
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to tighten
        }
    }

    /** bin/outpost passes its launch time in ms; the process start time the JDK reports is too coarse. */
    private static String sinceLaunch() {
        String launched = System.getProperty("outpost.launched.ms");
        if (launched == null) return "";
        try {
            return ", " + (System.currentTimeMillis() - Long.parseLong(launched)) + " ms after launch";
        } catch (NumberFormatException e) {
            return "";
        }
    }
}
