package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import build.test.NestedMaven;

/**
 * The plugin SDK as an operator uses it: {@code bin/outpost-plugin new} makes a project, Maven builds it offline
 * against this reactor's freshly built artifacts (put into a private local repository; plugins and libraries are read
 * from the user's local repository, which is never written; only what the build resolves is copied), and the jar is a
 * bundle the exported agent installs and runs.
 */
class PluginSdkIT {
    private static final Path HOME = AgentProcess.HOME;
    private static final String VERSION = System.getProperty("outpost.version");
    /** The reactor modules a plugin project needs: its API and the test kit, with what the kit stands on. */
    private static final List<String> MODULES = List.of("agent.api", "agent.transport", "agent.core", "agent.testkit");

    @TempDir
    Path dir;

    @Test
    void aNewPluginProjectBuildsOfflineIntoABundleTheAgentRuns() throws Exception {
        NestedMaven maven = privateRepository(dir.resolve("m2"));
        Path project = dir.resolve("com.acme.hello");

        AgentProcess gen = command(Duration.ofSeconds(30), HOME.resolve("bin/outpost-plugin").toString(), "new", "com.acme.hello",
            project.toString());
        assertThat(gen.exitCode()).as(gen.stderr()).isZero();
        assertThat(gen.stdout()).contains("action hello.greet in com.acme.hello.internal.HelloHandler");
        assertThat(Files.readString(project.resolve("pom.xml"))).contains("<groupId>com.acme</groupId>",
            "<artifactId>com.acme.hello</artifactId>", "<outpost.version>" + VERSION + "</outpost.version>",
            "<artifactId>bnd-maven-plugin</artifactId>", "<artifactId>agent.testkit</artifactId>");
        assertThat(project.resolve("src/main/java/com/acme/hello/internal/HelloHandler.java")).exists();
        assertThat(project.resolve("src/test/java/com/acme/hello/internal/HelloHandlerTest.java")).exists();

        long t0 = System.nanoTime();
        NestedMaven.Run mvn = maven.run(project, Duration.ofSeconds(240), "package");
        System.out.printf("offline Maven build of the new plugin project: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertThat(mvn.exitCode()).as("mvn package of the generated project:%n%s", mvn.output()).isZero();

        // its tests ran, on the test kit
        String report = Files.readString(project.resolve("target/surefire-reports/TEST-com.acme.hello.internal.HelloHandlerTest.xml"));
        assertThat(report).contains("tests=\"2\"").contains("failures=\"0\"").contains("errors=\"0\"").contains("skipped=\"0\"");

        // the jar is a bundle with a DS component serving the action, importing agent.api from the minor version it was built against up to 2
        Path jar = project.resolve("target/com.acme.hello-1.0.0-SNAPSHOT.jar");
        try (JarFile j = new JarFile(jar.toFile())) {
            Attributes m = j.getManifest().getMainAttributes();
            assertThat(m.getValue("Bundle-ManifestVersion")).isEqualTo("2");
            assertThat(m.getValue("Bundle-SymbolicName")).isEqualTo("com.acme.hello");
            // the same for every build of the snapshot: builds differ by content (sha256), not by a timestamp
            assertThat(m.getValue("Bundle-Version")).isEqualTo("1.0.0.SNAPSHOT");
            assertThat(m.getValue("Import-Package")).containsPattern("agent\\.api;version=\"\\[1\\.[0-9]+,2\\)\"");
            assertThat(m.getValue("Require-Capability")).contains("osgi.extender=osgi.component");
            assertThat(m.getValue("Service-Component")).isEqualTo("OSGI-INF/com.acme.hello.internal.HelloHandler.xml");
            String component = new String(j.getInputStream(j.getEntry("OSGI-INF/com.acme.hello.internal.HelloHandler.xml"))
                .readAllBytes());
            assertThat(component).contains("<property name=\"outpost.actions\" type=\"String\">hello.greet</property>",
                "<provide interface=\"agent.api.CommandHandler\"/>");
            assertThat(j.getEntry("com/acme/hello/internal/HelloHandler.class")).isNotNull();
            assertThat(j.stream().map(e -> e.getName())).noneMatch(n -> n.startsWith("agent/")); // the API is imported, not embedded
        }

        // and the agent installs it and runs its action
        Path data = dir.resolve("agent");
        JsonObject installed = offline(data, "plugin.install", "{\"url\": \"" + jar.toUri() + "\", \"sha256\": \"" + sha256(jar) + "\"}");
        assertThat(installed.get("status").getAsString()).as(installed.toString()).isEqualTo("succeeded");
        assertThat(installed.getAsJsonObject("data").get("bsn").getAsString()).isEqualTo("com.acme.hello");
        JsonObject greeted = offline(data, "hello.greet", "{\"name\": \"Ada\"}");
        assertThat(greeted.get("status").getAsString()).as(greeted.toString()).isEqualTo("succeeded");
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        assertThat(greeted.getAsJsonObject("data").get("greeting").getAsString()).isEqualTo("Hello, Ada, from " + host);
        JsonObject refused = offline(data, "hello.greet", "{\"name\": 42}");
        assertThat(refused.get("error").getAsString()).isEqualTo("param 'name' must be a string, got 42");
    }

    @Test
    void badNamesAndUsedDirectoriesAreRefusedWithExitCode2() throws Exception {
        Files.createDirectories(dir.resolve("used"));
        Files.writeString(dir.resolve("used/file"), "x");
        String[][] cases = {
            {"Com.Acme", "must be a lower-case Java package of two or more segments"},
            {"hello", "must be a lower-case Java package of two or more segments"},
            {"com.acme.new", "segment 'new' is a Java keyword"},
            {"agent.hello", "a namespace the agent keeps for its own bundles"},
            {"com.acme.plugin", "the action prefix 'plugin' (NAME's last segment) belongs to the agent's core"},
        };
        for (String[] c : cases) {
            AgentProcess p = command(Duration.ofSeconds(30), HOME.resolve("bin/outpost-plugin").toString(), "new", c[0],
                dir.resolve("p-" + c[0]).toString());
            assertThat(p.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(p.stderr()).as(c[0]).contains(c[1]);
            assertThat(dir.resolve("p-" + c[0])).doesNotExist();
        }
        AgentProcess used = command(Duration.ofSeconds(30), HOME.resolve("bin/outpost-plugin").toString(), "new", "com.acme.x",
            dir.resolve("used").toString());
        assertThat(used.exitCode()).isEqualTo(2);
        assertThat(used.stderr()).contains("exists and is not empty");
        AgentProcess usage = command(Duration.ofSeconds(30), HOME.resolve("bin/outpost-plugin").toString());
        assertThat(usage.exitCode()).isEqualTo(2);
        assertThat(usage.stderr()).startsWith("usage: outpost-plugin new NAME [DIR]");
    }

    private static AgentProcess command(Duration limit, String... argv) throws Exception {
        AgentProcess p = AgentProcess.startCommand(List.of(argv));
        p.process.getOutputStream().close();
        return p.awaitExit(limit, String.join(" ", argv));
    }

    private JsonObject offline(Path data, String action, String params) throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks-" + action + ".json"), "{\"commands\": [{\"id\": \"sdk-"
            + java.util.UUID.randomUUID() + "\", \"action\": \"" + action + "\", \"params\": " + params + "}]}");
        AgentProcess a = AgentProcess.run(Duration.ofSeconds(60), "offline", "--tasks", tasks.toString(), "--data-dir",
            data.toString());
        return JsonParser.parseString(a.stdout()).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject();
    }

    /** The nested build's private local repository, holding this reactor's artifacts as {@code mvn install} lays them out. */
    private static NestedMaven privateRepository(Path dir) throws IOException {
        NestedMaven maven = NestedMaven.privateRepository(Files.createDirectories(dir),
            Path.of(System.getProperty("outpost.m2", System.getProperty("user.home") + "/.m2/repository")));
        maven.install("io.outpost", "outpost", VERSION, HOME.resolve("pom.xml"), null);
        for (String m : MODULES) {
            Path jar = HOME.resolve(m + "/target/" + m + "-" + VERSION + ".jar");
            assertThat(jar).as("the reactor's " + m + " (mvn package first)").exists();
            maven.install("io.outpost", m, VERSION, HOME.resolve(m + "/pom.xml"), jar);
        }
        return maven;
    }

    private static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }
}
