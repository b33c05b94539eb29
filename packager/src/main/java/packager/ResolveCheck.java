package packager;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Run in a JVM of its own, on the Felix jar the runtime embeds, with only the Java modules the distribution will have
 * ({@code --limit-modules} for a private runtime): installs every bundle of the new runtime into a scratch framework
 * storage, with the launcher's own framework properties, and asks Felix to resolve them all. Nothing is started but
 * the framework itself. Prints one line per bundle that does not resolve: {@code unresolved TAB BSN TAB REASON},
 * where the reason is Felix's own message, naming the missing requirement. Exit 0: all resolve; 3: some do not.
 *
 * <p>Arguments: the scratch storage folder, the launcher properties file, then the bundle jars in launch order.
 */
public final class ResolveCheck {
    /** Exit code when a bundle does not resolve. */
    static final int UNRESOLVED = 3;

    private ResolveCheck() {}

    /** @param args storage, launcher.properties, jars... @throws Exception when the framework itself fails */
    public static void main(String[] args) throws Exception {
        Path storage = Path.of(args[0]);
        Properties launcher = new Properties();
        try (InputStream in = new FileInputStream(args[1])) {
            launcher.load(in);
        }
        Map<String, String> config = new HashMap<>();
        for (String k : launcher.stringPropertyNames()) config.put(k, launcher.getProperty(k));
        // as the bnd launcher configures the framework it starts
        String extra = launcher.getProperty("launch.system.packages");
        if (extra != null) config.put("org.osgi.framework.system.packages.extra", extra);
        config.put("org.osgi.framework.storage", storage.toString());
        config.put("org.osgi.framework.storage.clean", "onFirstInit");
        config.put("felix.log.level", "0");

        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).iterator().next();
        Framework fw = factory.newFramework(config);
        fw.init();
        fw.start();
        List<Bundle> installed = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            try (InputStream in = Files.newInputStream(Path.of(args[i]))) {
                installed.add(fw.getBundleContext().installBundle(Path.of(args[i]).getFileName().toString(), in));
            }
        }
        boolean all = fw.adapt(FrameworkWiring.class).resolveBundles(installed);
        int unresolved = 0;
        if (!all) {
            for (Bundle b : installed) {
                if ((b.getState() & Bundle.INSTALLED) == 0) continue;
                String why;
                if (b.getHeaders().get("Fragment-Host") != null) {
                    why = "the fragment does not attach to its host " + b.getHeaders().get("Fragment-Host");
                } else {
                    try {
                        // resolving is the first thing start does: its exception carries the resolver's explanation;
                        // a bundle that resolves now (it waited on another) is stopped again at once
                        b.start(Bundle.START_TRANSIENT);
                        b.stop(Bundle.STOP_TRANSIENT);
                        continue;
                    } catch (BundleException e) {
                        why = e.getMessage();
                    }
                }
                System.out.println("unresolved\t" + b.getSymbolicName() + "\t" + why.replace('\n', ' ').replace('\t', ' '));
                unresolved++;
            }
        }
        System.out.flush();
        fw.stop();
        fw.waitForStop(10_000);
        System.exit(unresolved == 0 ? 0 : UNRESOLVED);
    }
}
