package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported agent carries sqlite-jdbc with its Linux native libraries only (module sqlite.linux): every Linux
 * architecture sqlite-jdbc supports, nothing for other systems. And an agent installed with the full bundle (every
 * distribution before it) updates it in place at its next start instead of refusing to start on a second bundle of
 * the same name and version.
 */
class SqliteBundleIT {
    static final Duration LIMIT = Duration.ofSeconds(90);
    static final Path JAR = AgentProcess.HOME.resolve("bndrun/target/outpost.jar");

    @TempDir
    Path dir;

    @Test
    void theExportedAgentCarriesEveryLinuxLibraryOfSqliteAndNoOtherSystemsOnes() throws Exception {
        List<String> natives = nativeLibraries(embeddedSqlite(JAR));
        assertThat(natives).as("sqlite-jdbc's native libraries in outpost.jar")
            .contains("org/sqlite/native/Linux/x86_64/libsqlitejdbc.so", "org/sqlite/native/Linux/aarch64/libsqlitejdbc.so",
                "org/sqlite/native/Linux-Musl/x86_64/libsqlitejdbc.so")
            .allMatch(n -> n.startsWith("org/sqlite/native/Linux/") || n.startsWith("org/sqlite/native/Linux-Musl/"));
        // the same Linux set as the original bundle: none of its architectures left out
        assertThat(natives).containsExactlyInAnyOrderElementsOf(nativeLibraries(originalSqlite()).stream()
            .filter(n -> n.startsWith("org/sqlite/native/Linux")).toList());
    }

    @Test
    void anAgentThatRanWithTheFullSqliteBundleUpdatesItInPlaceAtItsNextStart() throws Exception {
        Path previous = withEntry(JAR, embeddedSqliteName(), originalSqlite(), dir.resolve("previous/outpost.jar"));
        Path data = dir.resolve("data");
        ping(1, data, previous);
        assertThat(nativeLibraries(installedSqlite(data))).as("the previous distribution's bundle, installed")
            .contains("org/sqlite/native/Windows/x86_64/sqlitejdbc.dll");

        ping(2, data, JAR);
        assertThat(nativeLibraries(installedSqlite(data))).as("the bundle in the framework's storage after the update")
            .contains("org/sqlite/native/Linux/x86_64/libsqlitejdbc.so")
            .noneMatch(n -> n.contains("/Windows/") || n.contains("/Mac/") || n.contains("/FreeBSD/"));
    }

    /** One offline agent.ping on the data dir with this outpost.jar: it must start and succeed. */
    private void ping(int n, Path data, Path jar) throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks-" + n + ".json"), "{\"commands\": [{\"id\": "
            + "\"sqlite-upgrade-" + n + "-4000-8000-000000000000\", \"action\": \"agent.ping\"}]}");
        Path report = dir.resolve("report-" + n + ".json");
        HostCommand.Result r = HostCommand.of(AgentProcess.LAUNCHER.toString(), "offline", "--tasks", tasks.toString(),
            "--report", report.toString(), "--data-dir", data.toString()).env("OUTPOST_JAR", jar.toString()).run(LIMIT);
        assertThat(r.exitCode()).as("offline run %d with %s; stderr:%n%s", n, jar, r.stderr()).isZero();
        assertThat(Files.readString(report)).contains("\"status\": \"succeeded\"");
    }

    private static String embeddedSqliteName() throws Exception {
        try (JarFile j = new JarFile(JAR.toFile())) {
            return j.stream().map(JarEntry::getName).filter(n -> n.matches("jar/sqlite-jdbc-.*\\.jar")).findFirst()
                .orElseThrow(() -> new AssertionError("no jar/sqlite-jdbc-*.jar in " + JAR
                    + ": an agent installed before would not find its bundle under the same name"));
        }
    }

    private static Path embeddedSqlite(Path outpostJar) throws Exception {
        Path out = Files.createTempFile("embedded-sqlite", ".jar");
        try (JarFile j = new JarFile(outpostJar.toFile()); InputStream in = j.getInputStream(j.getJarEntry(embeddedSqliteName()))) {
            Files.copy(in, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        out.toFile().deleteOnExit();
        return out;
    }

    /** sqlite-jdbc as published (not from the class path: the server's shaded jar carries its classes too). */
    private static Path originalSqlite() throws Exception {
        String file = embeddedSqliteName().substring("jar/".length());
        String version = file.substring("sqlite-jdbc-".length(), file.length() - ".jar".length());
        Path jar = Path.of(System.getProperty("outpost.m2"), "org/xerial/sqlite-jdbc", version, file);
        assertThat(jar).as("sqlite-jdbc %s in the build's local repository", version).exists();
        return jar;
    }

    /** The current revision of the bundle the launcher installed from jar/sqlite-jdbc-*.jar. */
    private static Path installedSqlite(Path data) throws Exception {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> infos = Files.walk(data.resolve("framework"), 2)) {
            for (Path info : infos.filter(p -> p.getFileName().toString().equals("bundle.info")).toList()) {
                if (!Files.readString(info).contains(embeddedSqliteName())) continue;
                try (Stream<Path> revisions = Files.list(info.getParent())) {
                    revisions.filter(p -> p.getFileName().toString().startsWith("version"))
                        .max((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                        .ifPresent(rev -> found.add(rev.resolve("bundle.jar")));
                }
            }
        }
        assertThat(found).as("bundles installed from %s", embeddedSqliteName()).hasSize(1);
        return found.get(0);
    }

    private static List<String> nativeLibraries(Path jar) throws Exception {
        List<String> names = new ArrayList<>();
        try (JarFile j = new JarFile(jar.toFile())) {
            for (Enumeration<JarEntry> e = j.entries(); e.hasMoreElements();) {
                String n = e.nextElement().getName();
                if (n.startsWith("org/sqlite/native/") && !n.endsWith("/")) names.add(n);
            }
        }
        return names;
    }

    /**
     * A copy of outpost.jar with one embedded jar replaced and its digest in the manifest updated (the launcher
     * compares that digest with what it installed last time): what an earlier build that embedded it looked like.
     */
    private static Path withEntry(Path src, String name, Path content, Path out) throws Exception {
        Files.createDirectories(out.getParent());
        byte[] bytes = Files.readAllBytes(content);
        try (JarInputStream in = new JarInputStream(Files.newInputStream(src))) {
            Manifest mf = new Manifest(in.getManifest());
            assertThat(mf.getAttributes(name)).as("the digest of %s in outpost.jar's manifest", name).isNotNull();
            mf.getAttributes(name).putValue("SHA-256-Digest",
                Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes)));
            try (OutputStream os = Files.newOutputStream(out); JarOutputStream jos = new JarOutputStream(os, mf)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    jos.putNextEntry(new JarEntry(e.getName()));
                    if (e.getName().equals(name)) jos.write(bytes);
                    else in.transferTo(jos);
                    jos.closeEntry();
                }
            }
        }
        return out;
    }
}
