package build.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/** Where the guard tests build their fixtures, and how a fixture project is made from sources. */
final class Fixtures {
    /** The checkout: the root pom, cnf/ and the modules' sources. */
    static final Path ROOT = Path.of(System.getProperty("outpost.home", "..")).toAbsolutePath().normalize();
    static final String VERSION = required("outpost.version");
    static final Path USER_REPOSITORY = Path.of(required("outpost.m2"));
    /**
     * Fixture projects live under this module's target/, inside the checkout: the mvn launcher then finds the
     * checkout's .mvn/, so ${maven.multiModuleProjectDirectory} (the root pom's release repository) is the checkout.
     */
    static final Path WORK = Path.of(required("fixtures.dir")).toAbsolutePath().normalize();

    private Fixtures() {}

    private static String required(String property) {
        String v = System.getProperty(property);
        assertThat(v).as("system property %s (set by this module's pom)", property).isNotBlank();
        return v;
    }

    /** An empty directory for one test (what an earlier run left there is removed). */
    static Path fresh(String name) throws IOException {
        Path d = WORK.resolve(name);
        if (Files.exists(d)) {
            try (Stream<Path> s = Files.walk(d)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
        return Files.createDirectories(d);
    }

    /** Copies a directory tree, replacing each key by its value in every file. */
    static Path copy(Path from, Path to, Map<String, String> replace) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path f : s.toList()) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                    continue;
                }
                String text = Files.readString(f);
                for (Map.Entry<String, String> e : replace.entrySet()) text = text.replace(e.getKey(), e.getValue());
                Files.writeString(t, text);
            }
        }
        return to;
    }

    /** Replaces text that must be in the file (a fixture edit that silently did nothing would prove nothing). */
    static void edit(Path file, String from, String to) throws IOException {
        String text = Files.readString(file);
        assertThat(text).as("%s holds the text the test changes", file).contains(from);
        Files.writeString(file, text.replace(from, to));
    }

    /** The root pom, as a fixture pom's parent relativePath (which must be relative). */
    static String rootPomFrom(Path project) {
        return project.relativize(ROOT.resolve("pom.xml")).toString();
    }
}
