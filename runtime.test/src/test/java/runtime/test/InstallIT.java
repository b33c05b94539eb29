package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

import runtime.test.HostCommand.Mount;

/**
 * dist/install.sh and dist/uninstall.sh into a temporary tree (--root), as root, checked file by file with modes and
 * owners; the agent run from the installed tree; and the unit's exposure score as systemd-analyze gives it.
 */
class InstallIT {
    static final Duration LIMIT = Duration.ofMinutes(2);
    static final Path HOME = AgentProcess.HOME;
    static final Path INSTALL = HOME.resolve("dist/install.sh");
    static final String TOKEN = "enrol-7f3c9e1d-SECRET";
    static final String SERVER = "https://outpost.example.test:8443";

    @TempDir
    Path dir;

    private Path root() throws IOException { return Files.createDirectories(dir.resolve("root")); }

    private Path tokenFile() throws IOException { return AgentProcess.write(dir.resolve("token"), TOKEN + "\n"); }

    /** Every path of the tree as "mode owner:group path" (links with their target), sorted. */
    private static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(root)) continue;
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                String kind = a.isSymbolicLink() ? "l" : a.isDirectory() ? "d" : "-";
                String what = kind + PosixFilePermissions.toString(a.permissions()) + " " + a.owner().getName() + ":"
                    + a.group().getName();
                if (a.isSymbolicLink()) what += " -> " + Files.readSymbolicLink(p);
                out.put("/" + root.relativize(p), what);
            }
        }
        return out;
    }

    /** The dynamic archive `outpost cds` wrote (named by the jar and the JVM); its static base and the JVM answer go by it. */
    private static String jsaName(Map<String, String> tree) {
        return tree.keySet().stream().filter(p -> p.matches("/opt/outpost/lib/outpost-[0-9]+-[0-9]+-[0-9]+-[0-9]+\\.jsa")).findFirst()
            .orElseThrow(() -> new AssertionError("no class-data archive in /opt/outpost/lib: " + tree.keySet()));
    }

    /** @return the static archive of the JDK classes a connected agent loads, made with the dynamic one */
    private static String baseJsaName(String jsa) { return jsa.replaceFirst("\\.jsa$", "-jdk.jsa"); }

    /** @return the launcher's kept answer about native heap trimming for the JVM the archive was made with */
    private static String trimName(String jsa) {
        return jsa.replaceFirst("/outpost-[0-9]+-[0-9]+-([0-9]+-[0-9]+)\\.jsa$", "/outpost-jvm-$1.trim");
    }

    /** What a fresh install lays out, file by file (the archives' names depend on the jar and the JVM). */
    private static Map<String, String> expectedFreshTree(String jsa, boolean withCa) {
        Map<String, String> m = new TreeMap<>();
        String dir755 = "drwxr-xr-x root:root";
        for (String d : List.of("/etc", "/etc/systemd", "/etc/systemd/system", "/etc/systemd/system/multi-user.target.wants",
            "/opt", "/opt/outpost", "/opt/outpost/bin", "/opt/outpost/lib", "/var", "/var/lib", "/var/log")) {
            m.put(d, dir755);
        }
        m.put("/etc/outpost", "drwx------ root:root");
        m.put("/etc/outpost/scripts.d", "drwx------ root:root");
        m.put("/etc/outpost/config.json", "-rw------- root:root");
        if (withCa) m.put("/etc/outpost/server-ca.pem", "-rw-r--r-- root:root");
        m.put("/etc/systemd/system/outpost.service", "-rw-r--r-- root:root");
        m.put("/etc/systemd/system/multi-user.target.wants/outpost.service",
            "lrwxrwxrwx root:root -> /etc/systemd/system/outpost.service");
        m.put("/opt/outpost/README.md", "-rw-r--r-- root:root");
        m.put("/opt/outpost/bin/outpost", "-rwxr-xr-x root:root");
        m.put("/opt/outpost/install-manifest", "-rw-r--r-- root:root");
        m.put("/opt/outpost/lib/outpost.jar", "-rw-r--r-- root:root");
        m.put("/opt/outpost/lib/outpost.classlist", "-rw-r--r-- root:root");
        m.put(jsa, "-rw-r--r-- root:root");
        m.put(baseJsaName(jsa), "-rw-r--r-- root:root");
        m.put(trimName(jsa), "-rw-r--r-- root:root");
        m.put("/opt/outpost/uninstall.sh", "-rwxr-xr-x root:root");
        m.put("/var/lib/outpost", "drwx------ root:root");
        m.put("/var/log/outpost", "drwxr-x--- root:root");
        return m;
    }

    private HostCommand.Result install(Path root, String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(INSTALL.toString(), "--root", root.toString(), "--skip-deps", "--no-start"));
        cmd.addAll(List.of(args));
        return HostCommand.of(cmd).stdin(stdin).run(LIMIT);
    }

    @Test
    void aNonInteractiveInstallLaysOutTheTreeFileByFileAndNeverPrintsTheToken() throws Exception {
        Path root = root();
        Path ca = AgentProcess.write(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");

        HostCommand.Result r = HostCommand.of(INSTALL.toString(), "--root", root.toString(), "--skip-deps", "--no-start", "-y")
            .env("OUTPOST_SERVER_URL", SERVER).env("OUTPOST_ENROLLMENT_TOKEN", TOKEN).env("OUTPOST_SERVER_CA", ca.toString())
            .run(LIMIT);

        assertThat(r.exitCode()).as(r.both()).isZero();
        assertThat(r.stdout() + r.stderr()).doesNotContain(TOKEN).contains("enrolment token given (" + TOKEN.length() + " characters)");
        Map<String, String> tree = tree(root);
        assertThat(tree).isEqualTo(expectedFreshTree(jsaName(tree), true));
        assertThat(Files.readString(root.resolve("etc/outpost/config.json"))).isEqualTo("{\n  \"server_url\": \"" + SERVER
            + "\",\n  \"server_ca\": \"/etc/outpost/server-ca.pem\",\n  \"enrollment_token\": \"" + TOKEN + "\"\n}\n");
        assertThat(root.resolve("etc/outpost/server-ca.pem")).hasSameTextualContentAs(ca);
        assertThat(root.resolve("opt/outpost/lib/outpost.jar")).hasSameBinaryContentAs(HOME.resolve("bndrun/target/outpost.jar"));
        assertThat(root.resolve("opt/outpost/lib/outpost.classlist")).hasSameBinaryContentAs(HOME.resolve("dist/outpost.classlist"));
        assertThat(root.resolve("etc/systemd/system/outpost.service")).hasSameBinaryContentAs(HOME.resolve("dist/outpost.service"));
        // the manifest names everything the installer made, and nothing else
        List<String> manifest = Files.readAllLines(root.resolve("opt/outpost/install-manifest"));
        assertThat(manifest.stream().map(l -> l.substring(l.lastIndexOf(' ') + 1)).toList())
            .containsExactlyInAnyOrderElementsOf(tree.keySet());
    }

    @Test
    void anInteractiveInstallTakesItsAnswersFromStandardInputAndStopsWhenNotConfirmed() throws Exception {
        Path root = root();
        HostCommand.Result no = install(root, SERVER + "\n" + TOKEN + "\n\nn\n");
        assertThat(no.exitCode()).as(no.both()).isEqualTo(1);
        assertThat(no.stderr()).contains("Server URL").contains("Enrolment token").contains("nothing was changed");
        try (Stream<Path> s = Files.list(root)) {
            assertThat(s.toList()).as("files made by a declined install").isEmpty();
        }

        HostCommand.Result yes = install(root, SERVER + "\n" + TOKEN + "\n\ny\n");

        assertThat(yes.exitCode()).as(yes.both()).isZero();
        assertThat(yes.stdout() + yes.stderr()).doesNotContain(TOKEN).contains("Outpost will be installed in " + root);
        Map<String, String> tree = tree(root);
        assertThat(tree).isEqualTo(expectedFreshTree(jsaName(tree), false));
        assertThat(Files.readString(root.resolve("etc/outpost/config.json")))
            .isEqualTo("{\n  \"server_url\": \"" + SERVER + "\",\n  \"enrollment_token\": \"" + TOKEN + "\"\n}\n");

        Path root2 = Files.createDirectories(dir.resolve("root2"));
        HostCommand.Result badUrl = install(root2, "http://plain.example\n" + TOKEN + "\n\ny\n");
        assertThat(badUrl.exitCode()).as(badUrl.both()).isEqualTo(2);
        assertThat(badUrl.stderr()).contains("--server must be a URL like https://host:port, got 'http://plain.example'");
        HostCommand.Result closed = install(root2, SERVER + "\n");
        assertThat(closed.exitCode()).isEqualTo(2);
        assertThat(closed.stderr()).contains("standard input closed");
        try (Stream<Path> s = Files.list(root2)) {
            assertThat(s.toList()).isEmpty();
        }
    }

    @Test
    void aReinstallUpgradesInPlaceAndKeepsConfigDataCredentialsAndRuntimePlugins() throws Exception {
        Path root = root();
        assertThat(install(root, "", "-y", "--server", SERVER, "--token-file", tokenFile().toString()).exitCode()).isZero();
        // what a running agent and an operator leave: a store, credentials, a plugin installed at runtime, a script,
        // an edited config, a log
        Path data = root.resolve("var/lib/outpost");
        AgentProcess.write(data.resolve("commands.db"), "store");
        AgentProcess.write(data.resolve("credentials/client.key"), "key");
        AgentProcess.write(data.resolve("framework/bundle14/version0.0/bundle.jar"), "runtime plugin");
        AgentProcess.write(root.resolve("etc/outpost/scripts.d/hello.sh"), "#!/bin/sh\necho hi\n");
        String edited = "{\"server_url\": \"https://other.example.test\", \"log_level\": \"debug\"}\n";
        AgentProcess.write(root.resolve("etc/outpost/config.json"), edited);
        AgentProcess.write(root.resolve("var/log/outpost/agent.log"), "a log line\n");
        Files.writeString(root.resolve("opt/outpost/lib/outpost.jar"), "an older agent");
        Map<String, String> before = tree(root);

        HostCommand.Result again = install(root, "", "-y", "--server", "https://ignored.example.test", "--token", "ignored-token");

        assertThat(again.exitCode()).as(again.both()).isZero();
        assertThat(again.stderr()).contains("Outpost will be upgraded").contains("config.json is kept as it is")
            .contains("not applied").doesNotContain("ignored-token");
        assertThat(Files.readString(root.resolve("etc/outpost/config.json"))).isEqualTo(edited);
        assertThat(Files.readString(data.resolve("commands.db"))).isEqualTo("store");
        assertThat(Files.readString(data.resolve("credentials/client.key"))).isEqualTo("key");
        assertThat(Files.readString(data.resolve("framework/bundle14/version0.0/bundle.jar"))).isEqualTo("runtime plugin");
        assertThat(root.resolve("etc/outpost/scripts.d/hello.sh")).exists();
        assertThat(root.resolve("var/log/outpost/agent.log")).hasContent("a log line");
        assertThat(root.resolve("opt/outpost/lib/outpost.jar")).hasSameBinaryContentAs(HOME.resolve("bndrun/target/outpost.jar"));
        // modes and owners as they were: nothing the operator or the agent made was touched
        Map<String, String> after = tree(root);
        before.keySet().removeIf(p -> p.endsWith(".jsa") || p.endsWith(".trim"));
        after.keySet().removeIf(p -> p.endsWith(".jsa") || p.endsWith(".trim"));
        assertThat(after).isEqualTo(before);
    }

    @Test
    void uninstallRemovesWhatTheInstallerMadeAndKeepsDataWhenAsked() throws Exception {
        for (boolean keepData : List.of(true, false)) {
            Path root = Files.createDirectories(dir.resolve("root-" + keepData));
            // something of the host's in the tree that the installer did not make
            AgentProcess.write(root.resolve("etc/hostname"), "host\n");
            assertThat(install(root, "", "-y", "--server", SERVER, "--token-file", tokenFile().toString()).exitCode()).isZero();
            AgentProcess.write(root.resolve("var/lib/outpost/framework/bundle14/bundle.jar"), "runtime plugin");
            AgentProcess.write(root.resolve("var/log/outpost/agent.log"), "a log line\n");
            AgentProcess.write(root.resolve("etc/outpost/scripts.d/mine.sh"), "#!/bin/sh\n");

            List<String> args = new ArrayList<>(List.of(root.resolve("opt/outpost/uninstall.sh").toString(), "--root", root.toString()));
            HostCommand.Result declined = HostCommand.of(args).stdin("n\n").run(LIMIT);
            assertThat(declined.exitCode()).as(declined.both()).isEqualTo(1);
            assertThat(root.resolve("opt/outpost/bin/outpost")).exists();

            args.add("--force");
            if (keepData) args.add("--keep-data");
            HostCommand.Result r = HostCommand.of(args).run(LIMIT);

            assertThat(r.exitCode()).as(r.both()).isZero();
            Map<String, String> left = tree(root);
            if (keepData) {
                assertThat(left.keySet()).containsExactly("/etc", "/etc/hostname", "/etc/outpost", "/etc/outpost/config.json",
                    "/etc/outpost/scripts.d", "/etc/outpost/scripts.d/mine.sh", "/var", "/var/lib", "/var/lib/outpost",
                    "/var/lib/outpost/framework", "/var/lib/outpost/framework/bundle14",
                    "/var/lib/outpost/framework/bundle14/bundle.jar");
            } else {
                // the operator's own script stays, with the directories that hold it
                assertThat(left.keySet()).containsExactly("/etc", "/etc/hostname", "/etc/outpost", "/etc/outpost/scripts.d",
                    "/etc/outpost/scripts.d/mine.sh");
                assertThat(r.stderr()).contains("kept /etc/outpost/scripts.d: it holds files install.sh did not make");
            }
        }
    }

    @Test
    void theInstalledAgentRunsATaskFileWithTheArchiveWrittenAtInstall() throws Exception {
        Path root = root();
        assertThat(install(root, "", "-y", "--server", SERVER, "--token-file", tokenFile().toString()).exitCode()).isZero();
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": ["
            + "{\"id\": \"66666666-0000-4000-8000-000000000001\", \"action\": \"agent.ping\", \"params\": {\"echo\": \"installed\"}},"
            + "{\"id\": \"66666666-0000-4000-8000-000000000002\", \"action\": \"disk.list\"}]}");
        Path classLog = dir.resolve("classes.log");

        // the tree's programs, config, data and logs at their real paths, in a private mount namespace: the host's
        // system directories are overlays whose writes land in the test's directory
        Mount[] mounts = Mount.installedAt(root, dir);
        HostCommand.Result r = HostCommand.of("/opt/outpost/bin/outpost", "offline", "--tasks", tasks.toString())
            .env("OUTPOST_JAVA_OPTS", "-Xlog:class+load:file=" + classLog).in(mounts).run(LIMIT);

        assertThat(r.exitCode()).as(r.both()).isZero();
        assertThat(r.stdout()).contains("\"echo\": \"installed\"").contains("\"devices\"");
        assertThat(r.stderr()).contains("ready: agent").contains("data dir /var/lib/outpost");
        assertThat(root.resolve("var/lib/outpost/commands.db")).isRegularFile();
        try (Stream<Path> logs = Files.list(root.resolve("var/log/outpost"))) {
            assertThat(logs.map(p -> p.getFileName().toString()).toList()).anyMatch(n -> n.startsWith("agent.log"));
        }
        // (the data dir's cds/ holds the launcher's answer about the JVM's options, no archive)
        try (Stream<Path> cds = Files.list(root.resolve("var/lib/outpost/cds"))) {
            assertThat(cds.map(p -> p.getFileName().toString()).toList()).as("an archive written at the first start")
                .noneMatch(n -> n.endsWith(".jsa"));
        }
        // the first start mapped the archives install.sh wrote: the JDK's classes from the static one, the agent's
        // (the launcher's, the framework's, the bundles') from the dynamic one on top
        String loaded = Files.readString(classLog);
        long fromBase = Pattern.compile("source: shared objects file$", Pattern.MULTILINE).matcher(loaded).results().count();
        long fromTop = Pattern.compile("source: shared objects file \\(top\\)$", Pattern.MULTILINE).matcher(loaded).results().count();
        System.out.println("classes from the install-time archives at the first start: " + fromBase + " static, " + fromTop + " dynamic");
        assertThat(fromBase).isGreaterThan(1500);
        assertThat(fromTop).isGreaterThan(500);
    }

    /** A JAVA_HOME whose java is this JDK's and writes each start's arguments to {@code log} first. */
    private Path javaHomeThatLogs(Path log) throws IOException {
        Path java = dir.resolve("jdk/bin/java");
        AgentProcess.write(java, "#!/bin/sh\necho \"$*\" >> '" + log + "'\nexec '" + Path.of(System.getProperty("java.home"), "bin/java")
            + "' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir.resolve("jdk");
    }

    @Test
    void theInstalledAgentConnectsWithTheTlsClassesFromTheInstallTimeArchiveAndAsksTheJvmNothingAtItsFirstStart() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Path root = root();
            Path starts = dir.resolve("java-starts.log");
            Path javaHome = javaHomeThatLogs(starts);
            HostCommand.Result installed = HostCommand.of(INSTALL.toString(), "--root", root.toString(), "--skip-deps", "--no-start", "-y",
                "--server", server.url(), "--ca", server.dir.resolve("ca.pem").toString(),
                "--token-file", server.dir.resolve("enrollment.token").toString()).env("JAVA_HOME", javaHome.toString()).run(LIMIT);
            assertThat(installed.exitCode()).as(installed.both()).isZero();
            List<String> installStarts = Files.readAllLines(starts);
            Files.delete(starts);
            String jsa = jsaName(tree(root));

            Mount[] mounts = Mount.installedAt(root, dir);
            Path classLog = dir.resolve("classes.log");
            List<String> cmd = HostCommand.of("env", "JAVA_HOME=" + javaHome, "OUTPOST_JAVA_OPTS=-Xlog:class+load:file=" + classLog,
                "/opt/outpost/bin/outpost", "run").in(mounts).commandLine();
            try (AgentProcess agent = AgentProcess.startCommand(cmd)) {
                agent.awaitStderr("ready: agent", LIMIT);
                String agentId = server.awaitAgent(LIMIT, true);
                List<JsonObject> ping = server.send(LIMIT, agentId, "agent.ping");
                assertThat(ping.get(0).get("status").getAsString()).as(ping.toString()).isEqualTo("succeeded");
                agent.process.destroy(); // SIGTERM: the agent stops as under systemd
                assertThat(agent.process.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)).as("the agent stopped").isTrue();
            }

            // the TLS and HTTP client classes of the connection came from the static archive, not the JDK's modules
            String loaded = Files.readString(classLog);
            for (String c : List.of("sun.security.ssl.SSLSocketImpl", "sun.security.ssl.SSLEngineImpl", "jdk.internal.net.http.HttpClientImpl")) {
                assertThat(loaded).as(c).containsPattern("(?m)\\] " + Pattern.quote(c) + " source: shared objects file$");
            }
            long fromJdkModules = Pattern.compile("source: jrt:/", Pattern.MULTILINE).matcher(loaded).results().count();
            System.out.println("JDK classes parsed from the modules at a connected first start: " + fromJdkModules);
            assertThat(fromJdkModules).isLessThan(50);
            // the install asked the JVM (a static and a dynamic dump, the trimming probe); the first start, one JVM: the
            // agent's, with both archives and the trimming option in the form `outpost cds` found, no `java -version`
            assertThat(installStarts).as("the install's JVM starts").anyMatch(l -> l.contains("-Xshare:dump"))
                .anyMatch(l -> l.contains("-XX:ArchiveClassesAtExit=")).anyMatch(l -> l.endsWith("-version"));
            String trim = Files.readString(root.resolve(trimName(jsa).substring(1))).trim();
            List<String> agentStarts = Files.readAllLines(starts);
            assertThat(agentStarts).as("JVM starts at the first start after install").singleElement().satisfies(l -> assertThat(l)
                .contains(" -XX:SharedArchiveFile=" + baseJsaName(jsa) + ":" + jsa + " ").contains(trim.isEmpty() ? " " : " " + trim + " ")
                .contains("-jar /opt/outpost/lib/outpost.jar run"));
            try (Stream<Path> cds = Files.list(root.resolve("var/lib/outpost/cds"))) {
                assertThat(cds.toList()).as("written in the data dir's cds/ at the first start").isEmpty();
            }
        }
    }

    @Test
    void theUnitsExposureScoreIsAtMostFive() throws Exception {
        HostCommand.Result r = HostCommand.of("systemd-analyze", "security", "--offline=yes",
            HOME.resolve("dist/outpost.service").toString()).run(LIMIT);
        assertThat(r.stderr()).as("systemd-analyze (package systemd)").doesNotContain("command not found");
        Matcher m = Pattern.compile("Overall exposure level for outpost.service: (\\d+\\.\\d+)").matcher(r.stdout());
        assertThat(m.find()).as(r.both()).isTrue();
        double exposure = Double.parseDouble(m.group(1));
        System.out.println("outpost.service exposure: " + exposure);
        assertThat(exposure).isLessThanOrEqualTo(5.0);
    }

    @Test
    void theScriptsAreShellcheckClean() throws Exception {
        HostCommand.Result r = HostCommand.of("shellcheck", HOME.resolve("dist/install.sh").toString(),
            HOME.resolve("dist/uninstall.sh").toString(), HOME.resolve("bin/outpost").toString()).run(LIMIT);
        assertThat(r.exitCode()).as("shellcheck (Debian package shellcheck)\n%s", r.both()).isZero();
    }
}
