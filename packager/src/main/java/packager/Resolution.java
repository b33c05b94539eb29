package packager;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Resolves the new runtime's bundles on the framework it embeds, before anything is packaged: {@link ResolveCheck} in
 * a JVM of the packager's JDK, limited to the private runtime's modules when there is one (so a plugin that imports a
 * Java package the runtime lacks is caught here too). A bundle that does not resolve stops the build with Felix's
 * explanation, the missing requirement, and the config key that brought the bundle in.
 */
final class Resolution {
    private static final String FACTORY = "META-INF/services/org.osgi.framework.launch.FrameworkFactory";

    private Resolution() {}

    /**
     * @param jdk      the JDK whose java runs the check
     * @param modules  the private runtime's modules, or null for the system's Java
     * @param runtime  the exported runtime (its framework and launcher properties)
     * @param jars     the bundles of the new runtime, extracted, with the bundle each holds, in launch order
     * @param work     a scratch folder
     * @throws PackagerException naming each bundle that does not resolve, its missing requirement and its config key
     */
    static void check(Jdk jdk, List<String> modules, RuntimeJar runtime, Map<Path, BundleJar> jars, Path work, Progress progress)
            throws PackagerException {
        List<String> cp = new ArrayList<>();
        try {
            Files.createDirectories(work);
            for (String entry : runtime.runpath()) {
                byte[] bytes = runtime.entry(entry);
                if (bytes != null && holds(bytes, FACTORY)) {
                    Path fw = work.resolve(Path.of(entry).getFileName().toString());
                    Files.write(fw, bytes);
                    cp.add(fw.toString());
                }
            }
            if (cp.isEmpty()) throw PackagerException.build("the agent's runtime embeds no OSGi framework (Embedded-Runpath " + runtime.runpath() + ")");
            Path props = work.resolve(RuntimeJar.LAUNCHER_PROPERTIES);
            Files.write(props, runtime.entry(RuntimeJar.LAUNCHER_PROPERTIES));
            cp.add(Path.of(ResolveCheck.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());

            List<String> cmd = new ArrayList<>(List.of(jdk.java().toString()));
            if (modules != null) cmd.addAll(List.of("--limit-modules", String.join(",", modules)));
            cmd.addAll(List.of("-cp", String.join(":", cp), ResolveCheck.class.getName(), work.resolve("storage").toString(), props.toString()));
            jars.keySet().forEach(j -> cmd.add(j.toString()));
            progress.detail("run " + String.join(" ", cmd));
            Tool.Result r = Tool.of(cmd).run(Duration.ofMinutes(5));
            if (r.exitCode() == 0) return;
            if (r.exitCode() != ResolveCheck.UNRESOLVED) throw PackagerException.build("the resolve check failed (exit " + r.exitCode() + "):\n" + r.both());
            List<String> problems = new ArrayList<>();
            for (String line : r.stdout().split("\n")) {
                String[] f = line.split("\t", 3);
                if (f.length != 3 || !f[0].equals("unresolved")) continue;
                progress.detail("Felix: " + f[2]);
                String origin = "bundle " + f[1];
                for (BundleJar b : jars.values()) if (b.bsn().equals(f[1])) origin = b.origin();
                problems.add(origin + " cannot be resolved: " + missing(f[2]));
            }
            throw PackagerException.config("the chosen plugins do not resolve against the agent's framework"
                + (modules == null ? "" : " and the private runtime's modules (" + String.join(",", modules) + ")") + ":\n  "
                + String.join("\n  ", problems));
        } catch (IOException | URISyntaxException e) {
            throw PackagerException.build("cannot prepare the resolve check in " + work + ": " + e.getMessage(), e);
        }
    }

    /**
     * Felix says "Unable to resolve X [12](R 12.0): missing requirement [X [12](R 12.0)] osgi.wiring.package;
     * (osgi.wiring.package=org.example) Unresolved requirements: [...]": the requirement is what a user needs; a
     * requirement another bundle failed on keeps its "[caused by: ...]" chain.
     */
    static String missing(String felix) {
        int i = felix.indexOf("missing requirement ");
        if (i < 0) return felix;
        String s = felix.substring(i + "missing requirement ".length());
        if (s.startsWith("[")) {
            int close = s.indexOf("] ");
            if (close > 0) s = s.substring(close + 2);
        }
        int u = s.indexOf(" Unresolved requirements:");
        if (u >= 0) s = s.substring(0, u);
        return "missing requirement " + s.trim();
    }

    private static boolean holds(byte[] jar, String name) throws IOException {
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(jar))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null;) if (e.getName().equals(name)) return true;
        }
        return false;
    }
}
