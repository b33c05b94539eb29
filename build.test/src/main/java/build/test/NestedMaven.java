package build.test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Maven run by a test on a project the test made, as a child process and offline. Plugins and libraries come from
 * the user's local repository, read as a {@code file://} mirror of every remote repository: it is never written to,
 * and only what the run resolves is copied, into a local repository private to the test. Artifacts the user's
 * repository does not hold (this reactor's, never installed there) are put into the private one first with
 * {@link #install}.
 */
public final class NestedMaven {
    /** The id of the released bundles' repository (cnf/releases, the root pom's distributionManagement): read as is. */
    public static final String RELEASES_ID = "outpost-releases";

    /** A finished run: its exit code and everything it printed. */
    public record Run(int exitCode, String output) {}

    private final Path localRepository;
    private final Path settings;

    private NestedMaven(Path localRepository, Path settings) {
        this.localRepository = localRepository;
        this.settings = settings;
    }

    /**
     * @param dir an empty directory of the test's: the private local repository and the settings go there
     * @param userRepository the user's local repository (the outer build passes {@code ${settings.localRepository}})
     */
    public static NestedMaven privateRepository(Path dir, Path userRepository) throws IOException {
        if (!Files.isDirectory(userRepository.resolve("biz/aQute/bnd/bnd-maven-plugin"))) {
            throw new IllegalStateException("no bnd-maven-plugin in the user's Maven repository " + userRepository
                + ": a nested build finds its plugins there (run the reactor's build, online, once)");
        }
        Path repo = Files.createDirectories(dir.resolve("repository"));
        Path settings = dir.resolve("settings.xml");
        Files.writeString(settings, """
            <settings xmlns="http://maven.apache.org/SETTINGS/1.2.0">
              <localRepository>%s</localRepository>
              <mirrors>
                <mirror>
                  <id>user-local-repository</id>
                  <mirrorOf>*,!%s</mirrorOf>
                  <url>%s</url>
                </mirror>
              </mirrors>
            </settings>
            """.formatted(repo, RELEASES_ID, userRepository.toUri()));
        return new NestedMaven(repo, settings);
    }

    public Path localRepository() { return localRepository; }

    /** Puts a pom (and its jar, if any) into the private repository as {@code mvn install} lays them out. */
    public void install(String groupId, String artifactId, String version, Path pom, Path jar) throws IOException {
        Path d = Files.createDirectories(localRepository.resolve(groupId.replace('.', '/')).resolve(artifactId).resolve(version));
        Files.copy(pom, d.resolve(artifactId + "-" + version + ".pom"));
        if (jar != null) Files.copy(jar, d.resolve(artifactId + "-" + version + ".jar"));
    }

    /**
     * Runs {@code mvn -B -o ARGS} on the project's pom and waits for it, at most {@code limit}; a run that takes longer
     * is killed with its children and fails the caller.
     */
    public Run run(Path project, Duration limit, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(maven(), "-B", "-o",
            // offline, but the file:// repositories (the mirror, cnf/releases) are on this machine
            "-Daether.offline.protocols=file",
            "-s", settings.toString(), "-f", project.resolve("pom.xml").toString()));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(project.getParent(), "mvn-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(project.toFile()).redirectErrorStream(true)
            .redirectOutput(log.toFile());
        // a short Maven run spends most of its CPU in the JIT: C1 only halves it (measured: a bundle module's package
        // 6.7 s -> 3.3 s of CPU, on this 2-core machine shared by several builds)
        pb.environment().put("MAVEN_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
        pb.environment().remove("MAVEN_ARGS");
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("mvn " + String.join(" ", args) + " on " + project + " did not finish within " + limit + ":\n"
                + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }

    /** The mvn of the Maven that runs the outer build ({@code maven.home}), else the one on the PATH. */
    private static String maven() {
        String home = System.getProperty("maven.home");
        if (home != null && Files.isExecutable(Path.of(home, "bin/mvn"))) return Path.of(home, "bin/mvn").toString();
        return "mvn";
    }
}
