package packager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The Outpost checkout the packager takes the agent from, after {@code mvn package}: the exported runtime jar, the
 * launcher, dist/'s unit and scripts, and the built-in plugins ({@code plugin.*} modules, whatever plugins the build
 * has: each by its folder name, which is also its bundle symbolic name).
 *
 * @param dir     the checkout
 * @param version the Outpost version the packager was built with (the plugin jars carry it in their names)
 */
record OutpostHome(Path dir, String version) {
    /** @return the exported agent, bndrun/target/outpost.jar @throws PackagerException when it is not built */
    Path exportedJar() throws PackagerException { return built(dir.resolve("bndrun/target/outpost.jar")); }

    /** @return bin/outpost */
    Path launcher() throws PackagerException { return present(dir.resolve("bin/outpost")); }

    /** @param name a file of dist/ @return it */
    Path dist(String name) throws PackagerException { return present(dir.resolve("dist").resolve(name)); }

    private Path built(Path p) throws PackagerException {
        if (!Files.isRegularFile(p)) {
            throw PackagerException.build("no " + p + ": build the agent first (mvn -B -DskipTests package in " + dir + ")");
        }
        return p;
    }

    private static Path present(Path p) throws PackagerException {
        if (!Files.isRegularFile(p)) throw PackagerException.build("missing " + p + " (is the Outpost checkout complete?)");
        return p;
    }

    /**
     * @return the built-in plugins by name, each with the jar its module builds (which may not exist yet)
     * @throws PackagerException when the checkout cannot be listed
     */
    Map<String, Path> builtinPlugins() throws PackagerException {
        Map<String, Path> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path m : (Iterable<Path>) s::iterator) {
                String name = m.getFileName().toString();
                if (name.startsWith("plugin.") && Files.isRegularFile(m.resolve("pom.xml"))) {
                    out.put(name, m.resolve("target").resolve(name + "-" + version + ".jar"));
                }
            }
        } catch (IOException e) {
            throw PackagerException.build("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }
}
