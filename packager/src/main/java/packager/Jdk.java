package packager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The JDK the packager works with: its java runs the checks, its jdeps and jlink make the private runtime from its own
 * modules (so the private runtime is this JDK's version).
 *
 * @param home    the JDK's folder
 * @param version its {@code JAVA_VERSION}, from its release file
 */
record Jdk(Path home, String version) {
    /**
     * @param home a JDK's folder, or null for the one running the packager
     * @return it
     * @throws PackagerException when it is no JDK
     */
    static Jdk at(Path home) throws PackagerException {
        Path h = home != null ? home : Path.of(System.getProperty("java.home"));
        Properties release = new Properties();
        try (InputStream in = Files.newInputStream(h.resolve("release"))) {
            release.load(in);
        } catch (IOException e) {
            throw PackagerException.build(h + " is not a Java runtime (no release file): set \"jdk\" in the config to a JDK's folder");
        }
        String v = release.getProperty("JAVA_VERSION", "").replace("\"", "");
        if (v.isEmpty()) throw PackagerException.build(h + "/release names no JAVA_VERSION");
        Jdk jdk = new Jdk(h, v);
        if (jdk.feature() < 17) throw PackagerException.build("the agent needs Java 17 or later; " + h + " is Java " + v);
        return jdk;
    }

    /** @return the feature release, e.g. 17 */
    int feature() {
        String f = version.split("[.+-]", 2)[0];
        return f.equals("1") ? 8 : Integer.parseInt(f);
    }

    /** @return bin/java */
    Path java() { return home.resolve("bin/java"); }

    /**
     * @param name a JDK tool, e.g. jlink
     * @return it
     * @throws PackagerException when this Java has none (a JRE)
     */
    Path tool(String name) throws PackagerException {
        Path t = home.resolve("bin").resolve(name);
        if (!Files.isExecutable(t)) {
            throw PackagerException.build("a private runtime needs a JDK with " + name + ", and " + home + " has none"
                + " (install openjdk-17-jdk-headless, or set \"jdk\" in the config to a JDK's folder)");
        }
        return t;
    }
}
