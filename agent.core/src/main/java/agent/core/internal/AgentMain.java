package agent.core.internal;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.store.CommandStoreFactory;
import agent.store.StoreException;
import agent.transport.TransportFactory;

/**
 * The agent's main thread. bnd's launcher calls a {@code Callable} registered with {@code main.thread=true} once
 * every bundle has started, passes it the command line through its own service's {@code launcher.arguments},
 * and exits the JVM with the returned code: 0 success, 1 a command or delivery failed, 2 bad usage or config.
 */
@Component(service = Callable.class, property = "main.thread=true")
public final class AgentMain implements Callable<Integer> {
    private static final Logger LOG = Logger.getLogger("agent.core");

    @Reference(service = Object.class, target = "(launcher.arguments=*)")
    ServiceReference<Object> launcher;

    @Reference
    CommandStoreFactory stores;

    @Reference
    HandlerRegistry registry;

    @Reference
    CommandProcessor shell;

    @Reference
    TransportFactory transports;

    private BundleContext context;
    /** Counted down once the store is closed, so a SIGTERM's shutdown hook can wait for it. */
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Counted down by SIGTERM/SIGINT. */
    private final CountDownLatch stop = new CountDownLatch(1);

    @Activate
    private void activate(BundleContext context) {
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
            config = ConfigLoader.load(inv, System.getenv());
        } catch (ConfigException e) {
            System.err.println("outpost: " + e.getMessage());
            return 2;
        }
        Logging.configure(config);
        // before anything is opened: a SIGTERM at any later point must wait for the store to close
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                // the JVM halts when the hooks return: hold it until the main thread has closed the store
                closed.await(15, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "outpost-shutdown"));
        AgentRuntime rt;
        try {
            rt = AgentRuntime.start(config, inv.mode, context.getBundle().getVersion().toString(), stores, registry, context);
        } catch (ConfigException | StoreException e) {
            System.err.println("outpost: " + e.getMessage());
            closed.countDown();
            return 2;
        }
        LOG.info("ready: agent " + rt.agentId + ", mode " + inv.mode.wireName() + ", " + registry.actions().size()
            + " actions, data dir " + config.dataDir + sinceLaunch());
        ServerConnection server = null;
        try {
            if (config.serverUrl != null && inv.mode != Mode.OFFLINE) {
                // one-shot mode checks in over HTTPS whatever the configured transport (PROTOCOL.md §4)
                server = new ServerConnection(rt, context, transports, inv.mode == Mode.ONCE);
                rt.connection = server;
            }
            switch (inv.mode) {
                case OFFLINE:
                    return OfflineRunner.run(rt, inv.tasks, inv.report);
                case ONCE:
                    if (inv.waitSeconds > 0) {
                        long wait = java.util.concurrent.ThreadLocalRandom.current().nextLong(inv.waitSeconds * 1000L + 1);
                        LOG.info("waiting " + wait + " ms before checking in (--wait " + inv.waitSeconds + ")");
                        Thread.sleep(wait);
                    }
                    boolean delivered = server.transport().runOnce(config.maxCommandSeconds + 300L);
                    LOG.info(delivered ? "one-shot run complete: everything delivered" : "one-shot run incomplete: not everything was delivered");
                    return delivered ? 0 : 1;
                case CONSOLE:
                    if (server != null) server.start();
                    // the terminal itself: Gogo's ThreadIO has replaced System.out/err with streams that route a
                    // command's output back to its session, and a session on System.out would loop forever
                    return Console.run(shell, new java.io.FileInputStream(java.io.FileDescriptor.in),
                        new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8"));
                default:
                    server.start();
                    return runUntilStopped();
            }
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
            if (server != null) server.close();
            rt.close();
            LOG.info("stopped");
            closed.countDown();
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

    /** Managed mode: runs until SIGTERM/SIGINT; the shutdown hook then waits for a clean close of the store. */
    private int runUntilStopped() throws InterruptedException {
        stop.await();
        return 0;
    }
}
