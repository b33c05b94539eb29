package agent.core.internal.main;

import java.util.Map;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * The agent must not vanish silently. When the JVM exits, this hook looks for who asked: the launcher (the main thread
 * returned), the agent itself, or a signal are expected; anything else is a plugin calling {@code System.exit}. Then
 * the agent says so, naming the class and its bundle, and ends with {@link #EXIT_CODE} whatever status the plugin
 * gave, so a service manager with {@code Restart=on-failure} starts it again (the command that was running then
 * reports {@code interrupted}).
 */
final class ExitGuard {
    private static final Logger LOG = Logger.getLogger("agent.core");
    /** EX_SOFTWARE of sysexits.h: an internal software error. */
    static final int EXIT_CODE = 70;

    private ExitGuard() {}

    static void install(BundleContext context) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> check(context), "outpost-exit-guard"));
    }

    private static void check(BundleContext context) {
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            StackTraceElement caller = exitCaller(e.getValue());
            if (caller == null || expected(caller.getClassName())) continue;
            String bundle = bundleOf(context, caller.getClassName());
            LOG.severe("System.exit was called by " + caller + (bundle == null ? "" : " in bundle " + bundle)
                + " on thread " + e.getKey().getName() + ": a plugin may not end the agent; exiting with " + EXIT_CODE
                + " so that the service manager restarts it");
            Runtime.getRuntime().halt(EXIT_CODE);
        }
    }

    /** @return the frame that called System.exit or Runtime.exit in this stack, or null */
    static StackTraceElement exitCaller(StackTraceElement[] stack) {
        for (int i = 0; i < stack.length - 1; i++) {
            StackTraceElement f = stack[i];
            boolean exit = f.getMethodName().equals("exit")
                && (f.getClassName().equals("java.lang.Runtime") || f.getClassName().equals("java.lang.System"));
            if (!exit) continue;
            StackTraceElement next = stack[i + 1];
            if (next.getClassName().equals("java.lang.System") && next.getMethodName().equals("exit")) continue;
            return next;
        }
        return null;
    }

    /** The launcher ends the JVM when the main thread returns; signals go through java.lang.Terminator. */
    static boolean expected(String className) {
        return className.startsWith("aQute.launcher.") || className.startsWith("agent.core.")
            || className.startsWith("java.lang.Terminator") || className.startsWith("jdk.internal.");
    }

    private static String bundleOf(BundleContext context, String className) {
        String entry = className.replace('.', '/').replaceAll("\\$.*", "") + ".class";
        try {
            for (Bundle b : context.getBundles()) {
                if (b.getEntry(entry) != null) return b.getSymbolicName() + " " + b.getVersion();
            }
        } catch (IllegalStateException e) {
            // the framework is going down with the JVM
        }
        return null;
    }
}
