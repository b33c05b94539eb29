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

    private BundleContext context;
    /** Counted down once the store is closed, so a SIGTERM's shutdown hook can wait for it. */
    private final CountDownLatch closed = new CountDownLatch(1);

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
        if (inv.mode == Mode.ONCE) {
            System.err.println("outpost: once mode needs the transport, which this build does not have yet");
            return 2;
        }
        AgentRuntime rt;
        try {
            rt = AgentRuntime.start(config, inv.mode, context.getBundle().getVersion().toString(), stores, registry, context);
        } catch (ConfigException e) {
            System.err.println("outpost: " + e.getMessage());
            return 2;
        } catch (StoreException e) {
            System.err.println("outpost: " + e.getMessage());
            return 2;
        }
        LOG.info("ready: agent " + rt.agentId + ", mode " + inv.mode.wireName() + ", " + registry.actions().size()
            + " actions, data dir " + config.dataDir + sinceLaunch());
        try {
            switch (inv.mode) {
                case OFFLINE:
                    return OfflineRunner.run(rt, inv.tasks, inv.report);
                case CONSOLE:
                    // the terminal itself: Gogo's ThreadIO has replaced System.out/err with streams that route a
                    // command's output back to its session, and a session on System.out would loop forever
                    return Console.run(shell, new java.io.FileInputStream(java.io.FileDescriptor.in),
                        new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8"));
                default:
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
        } finally {
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

    /** Managed mode: runs until SIGTERM/SIGINT; the hook waits for a clean close of the store. */
    private int runUntilStopped() throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                // the JVM halts when the hooks return: hold it until the main thread has closed the store
                closed.await(15, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "outpost-shutdown"));
        stop.await();
        return 0;
    }
}
