package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import runtime.test.HostCommand.Mount;

/**
 * bin/outpost-packager end to end: one distribution (two built-in plugins, one of them left out with "none", the
 * operator's own plugin from a local jar, a private runtime made with jlink), packaged once and shared by the tests;
 * installed from its .tar.gz with install.sh into a tree and run there on its private runtime against the reference
 * server; its .deb installed, removed and purged in a scratch root with dpkg; bad configs; a second build compared
 * byte for byte.
 */
class PackagerIT {
    static final Duration BUILD = Duration.ofMinutes(12);
    static final Duration T = Duration.ofSeconds(60);
    static final Path HOME = AgentProcess.HOME;
    static final Path PACKAGER = HOME.resolve("bin/outpost-packager");
    static final Path ECHO = Path.of(System.getProperty("plugin.echo.jar")).toAbsolutePath().normalize();
    static final String NAME = "outpost-acme";
    static final String VERSION = "1.0.0";
    static final String TAR = NAME + "-" + VERSION + ".tar.gz";
    static final String DEB = NAME + "_" + VERSION + "_amd64.deb";

    @TempDir
    static Path shared;
    static ServerProcess server;
    static Path config;
    static Path built;

    @TempDir
    Path dir;

    /** The packager config of the shared distribution, into the output folder given. */
    static String config(String output, String runtime, String plugins) throws IOException {
        return "{\n  \"name\": \"" + NAME + "\", \"version\": \"" + VERSION + "\", \"output\": \"" + output + "\",\n"
            + "  \"formats\": [\"tar.gz\", \"deb\"], \"runtime\": \"" + runtime + "\",\n"
            + "  \"plugins\": {" + plugins + "},\n"
            + "  \"agent\": {\"server_url\": \"" + server.url() + "\", \"server_ca\": \"" + server.dir.resolve("ca.pem") + "\","
            + " \"transport\": \"websocket\", \"plugins\": {\"deny\": [\"com.forbidden.*\"]}}\n}\n";
    }

    static final String PLUGINS = "\"plugin.disk\": \"none\", \"plugin.timezone\": \"builtin\", \"plugin.echo\": {\"file\": \"" + ECHO + "\"}";

    static HostCommand.Result packager(Path config, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PACKAGER.toString(), "-c", config.toString()));
        cmd.addAll(List.of(extra));
        return HostCommand.of(cmd).run(BUILD);
    }

    @BeforeAll
    static void packageOnce() throws Exception {
        assertThat(HOME.resolve("packager/target/outpost-packager.jar")).as("the packager (mvn package)").exists();
        server = ServerProcess.start(shared.resolve("server"), 0);
        config = AgentProcess.write(shared.resolve("packager.json"), config("out", "jlink", PLUGINS));
        HostCommand.Result r = packager(config);
        assertThat(r.exitCode()).as(r.both()).isZero();
        System.out.println("packaged (jlink) in " + r.elapsed().toSeconds() + " s:\n" + r.stderr());
        // progress for the slow steps, each with its time
        assertThat(r.stderr()).contains("resolve: every bundle resolves (").contains("jlink: ").contains("archive: " + TAR);
        built = shared.resolve("out");
        assertThat(r.stdout().lines()).containsExactly(built.resolve(TAR).toString(), built.resolve(DEB).toString());
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) server.close();
    }

    @Test
    void theTarballInstalledWithInstallShRunsOnItsPrivateRuntimeJoinsTheServerAndServesJustItsPlugins() throws Exception {
        Path unpacked = Files.createDirectories(dir.resolve("unpacked"));
        HostCommand.of("tar", "xzf", built.resolve(TAR).toString(), "-C", unpacked.toString()).runOk(T);
        Path dist = unpacked.resolve(NAME + "-" + VERSION);
        Path root = Files.createDirectories(dir.resolve("root"));
        HostCommand.Result install = HostCommand.of(dist.resolve("install.sh").toString(), "--root", root.toString(), "--skip-deps",
            "--no-start", "-y", "--token-file", server.dir.resolve("enrollment.token").toString()).run(T);
        assertThat(install.exitCode()).as(install.both()).isZero();
        assertThat(install.stderr()).contains("server " + server.url()).contains("jre/");

        // the packaged default config, completed with the token; the CA the distribution brought
        JsonObject cfg = JsonParser.parseString(Files.readString(root.resolve("etc/outpost/config.json"))).getAsJsonObject();
        assertThat(cfg.keySet()).containsExactly("server_url", "server_ca", "enrollment_token", "transport", "check_in_interval", "plugins");
        assertThat(cfg.get("server_url").getAsString()).isEqualTo(server.url());
        assertThat(cfg.get("enrollment_token").getAsString()).isEqualTo(Files.readString(server.dir.resolve("enrollment.token")).trim());
        assertThat(cfg.getAsJsonObject("plugins").toString()).isEqualTo("{\"deny\":[\"com.forbidden.*\"]}");
        assertThat(root.resolve("etc/outpost/server-ca.pem")).hasSameBinaryContentAs(server.dir.resolve("ca.pem"));
        assertThat(root.resolve("opt/outpost/jre/bin/java")).isExecutable();
        assertThat(root.resolve("opt/outpost/jre/lib/server/classes.jsa")).as("the base archive install.sh writes").isNotEmptyFile();
        // the class list the distribution ships beside the jar, and the archives `outpost cds` made from it at install
        assertThat(root.resolve("opt/outpost/lib/outpost.classlist")).hasSameBinaryContentAs(HOME.resolve("dist/outpost.classlist"));
        try (Stream<Path> lib = Files.list(root.resolve("opt/outpost/lib"))) {
            assertThat(lib.map(p -> p.getFileName().toString()).toList()).as("/opt/outpost/lib").hasSize(5)
                .contains("outpost.jar", "outpost.classlist").anyMatch(n -> n.matches("outpost-[0-9-]+-jdk\\.jsa"))
                .anyMatch(n -> n.matches("outpost-[0-9-]+[0-9]\\.jsa")).anyMatch(n -> n.matches("outpost-jvm-[0-9-]+\\.trim"));
        }

        Mount[] mounts = Mount.installedAt(root, dir);
        // no JAVA_HOME (the launcher would prefer it): the host's Java plays no part
        Path classLog = dir.resolve("classes.log");
        List<String> cmd = HostCommand.of("env", "-u", "JAVA_HOME", "OUTPOST_JAVA_OPTS=-Xlog:class+load:file=" + classLog,
            "/opt/outpost/bin/outpost", "run").in(mounts).commandLine();
        try (AgentProcess agent = AgentProcess.startCommand(cmd)) {
            agent.awaitStderr("ready: agent", T);
            String agentId = server.awaitAgent(T, true);
            // every exec in the chain replaced the process: this is the JVM, started from the private runtime
            String argv0 = Files.readString(Path.of("/proc/" + agent.pid() + "/cmdline")).split("\0")[0];
            assertThat(Path.of(argv0).normalize()).isEqualTo(Path.of("/opt/outpost/jre/bin/java"));

            List<JsonObject> said = server.send(T, agentId, "echo.say", "{\"message\": \"packaged\"}");
            assertThat(said).singleElement().satisfies(r -> {
                assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
                assertThat(r.getAsJsonObject("data").get("message").getAsString()).isEqualTo("packaged");
            });
            List<JsonObject> zone = server.send(T, agentId, "timezone.get");
            assertThat(zone.get(0).get("status").getAsString()).as(zone.toString()).isEqualTo("succeeded");
            List<JsonObject> disk = server.send(T, agentId, "disk.list");
            assertThat(disk).singleElement().satisfies(r -> {
                assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("rejected");
                assertThat(r.get("errorCode").getAsString()).isEqualTo("unknown_action");
                // the list the agent knows, after the action asked for (which names disk. itself)
                String known = r.get("error").getAsString().replaceFirst("^.*known actions: ", "");
                assertThat(known).contains("echo.say").contains("timezone.get").doesNotContain("disk.");
            });
        }
        // the connection's TLS and HTTP client classes came from the static archive made at install, on the private runtime
        String loaded = Files.readString(classLog);
        for (String c : List.of("sun.security.ssl.SSLSocketImpl", "jdk.internal.net.http.HttpClientImpl")) {
            assertThat(loaded).as(c).containsPattern("(?m)\\] " + java.util.regex.Pattern.quote(c) + " source: shared objects file$");
        }
    }

    /** Every path under the root but the private runtime's files and dpkg's database, as "mode owner:group [-> target]". */
    private static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = "/" + root.relativize(p);
                if (p.equals(root) || rel.startsWith("/var/lib/dpkg") || rel.startsWith("/opt/outpost/jre/")) continue;
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                String kind = a.isSymbolicLink() ? "l" : a.isDirectory() ? "d" : "-";
                String what = kind + PosixFilePermissions.toString(a.permissions()) + " " + a.owner().getName() + ":" + a.group().getName();
                if (a.isSymbolicLink()) what += " -> " + Files.readSymbolicLink(p);
                out.put(rel, what);
            }
        }
        return out;
    }

    private static HostCommand dpkg(Path root, String... args) {
        List<String> cmd = new ArrayList<>(List.of("dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends"));
        cmd.addAll(List.of(args));
        return HostCommand.of(cmd);
    }

    @Test
    void theDebInstallsIntoAScratchRootWithItsFilesAndModesKeepsConfigAndDataOnRemoveAndPurgeRemovesThem() throws Exception {
        Path deb = built.resolve(DEB);
        HostCommand.Result fields = HostCommand.of("dpkg-deb", "--field", deb.toString(), "Package", "Architecture", "Depends", "Provides").runOk(T);
        assertThat(fields.stdout()).contains("Package: " + NAME).contains("Architecture: amd64")
            .contains("Depends: bash, coreutils, findutils, util-linux\n").contains("Provides: outpost-agent");
        // the control archive: the three maintainer scripts executable (dpkg-deb marks them *), the CA a conffile
        String info = HostCommand.of("dpkg-deb", "--info", deb.toString()).runOk(T).stdout();
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertThat(info).as(script).containsPattern("\\*\\s+" + script + "\\s+#!/bin/sh");
        }
        assertThat(HostCommand.of("dpkg-deb", "--info", deb.toString(), "conffiles").runOk(T).stdout()).isEqualTo("/etc/outpost/server-ca.pem\n");
        // the data archive: every entry root's, whoever built it, the launcher executable
        List<String> contents = HostCommand.of("dpkg-deb", "--contents", deb.toString()).runOk(T).stdout().lines().toList();
        assertThat(contents).isNotEmpty().allSatisfy(l -> assertThat(l.split("\\s+")[1]).as(l).isEqualTo("root/root"));
        assertThat(contents).anyMatch(l -> l.startsWith("-rwxr-xr-x root/root") && l.endsWith(" ./opt/outpost/bin/outpost"));
        // what `apt install ./outpost-acme_1.0.0_amd64.deb` would do on this host, simulated (nothing changes)
        HostCommand.Result apt = HostCommand.of("apt-get", "install", "--simulate", "--no-install-recommends", deb.toString()).run(T);
        assertThat(apt.exitCode()).as(apt.both()).isZero();
        assertThat(apt.stdout()).contains("Inst " + NAME + " (" + VERSION);

        // a scratch root with an empty dpkg database: the host's is never touched
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("var/lib/dpkg/info"));
        Files.createDirectories(root.resolve("var/lib/dpkg/updates"));
        Files.writeString(root.resolve("var/lib/dpkg/status"), "");
        Path token = AgentProcess.write(dir.resolve("token"), "deb-token-42\n");
        HostCommand.Result install = dpkg(root, "-i", deb.toString()).env("OUTPOST_TOKEN_FILE", token.toString()).run(T);
        assertThat(install.exitCode()).as(install.both()).isZero();

        String d755 = "drwxr-xr-x root:root";
        String f644 = "-rw-r--r-- root:root";
        Map<String, String> expected = new TreeMap<>();
        for (String d : List.of("/etc", "/etc/systemd", "/etc/systemd/system", "/etc/systemd/system/multi-user.target.wants", "/lib",
            "/lib/systemd", "/lib/systemd/system", "/opt", "/opt/outpost", "/opt/outpost/bin", "/opt/outpost/lib", "/opt/outpost/jre",
            "/var", "/var/lib", "/var/log", "/var/lib/systemd", "/var/lib/systemd/deb-systemd-helper-enabled",
            "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants")) {
            expected.put(d, d755);
        }
        expected.put("/etc/outpost", "drwx------ root:root");
        expected.put("/etc/outpost/config.json", "-rw------- root:root");
        expected.put("/etc/outpost/scripts.d", "drwx------ root:root");
        expected.put("/etc/outpost/server-ca.pem", f644);
        expected.put("/etc/systemd/system/multi-user.target.wants/outpost.service", "lrwxrwxrwx root:root -> /lib/systemd/system/outpost.service");
        expected.put("/lib/systemd/system/outpost.service", f644);
        expected.put("/opt/outpost/README.md", f644);
        expected.put("/opt/outpost/bin/outpost", "-rwxr-xr-x root:root");
        expected.put("/opt/outpost/config.default.json", f644);
        expected.put("/opt/outpost/distribution.json", f644);
        expected.put("/opt/outpost/lib/outpost.jar", f644);
        expected.put("/opt/outpost/lib/outpost.classlist", f644);
        expected.put("/var/lib/outpost", "drwx------ root:root");
        expected.put("/var/log/outpost", "drwxr-x--- root:root");
        expected.put("/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/outpost.service", f644);
        expected.put("/var/lib/systemd/deb-systemd-helper-enabled/outpost.service.dsh-also", f644);
        assertThat(tree(root)).isEqualTo(expected);
        assertThat(root.resolve("opt/outpost/jre/bin/java")).isExecutable();
        assertThat(root.resolve("opt/outpost/jre/lib/server/classes.jsa")).as("written by the postinst").isNotEmptyFile();
        assertThat(root.resolve("opt/outpost/lib/outpost.jar")).hasSameBinaryContentAs(unpackedJar());
        assertThat(root.resolve("etc/outpost/server-ca.pem")).hasSameBinaryContentAs(server.dir.resolve("ca.pem"));
        JsonObject cfg = JsonParser.parseString(Files.readString(root.resolve("etc/outpost/config.json"))).getAsJsonObject();
        assertThat(cfg.get("enrollment_token").getAsString()).isEqualTo("deb-token-42");
        assertThat(cfg.get("server_url").getAsString()).isEqualTo(server.url());
        assertThat(dpkg(root, "--status", NAME).runOk(T).stdout()).contains("Status: install ok installed");

        // what the agent and the operator leave: a store, credentials, an edited config, a script, a log
        String edited = "{\"server_url\": \"https://other.example.test\", \"enrollment_token\": \"x\", \"log_level\": \"debug\"}\n";
        AgentProcess.write(root.resolve("etc/outpost/config.json"), edited);
        AgentProcess.write(root.resolve("var/lib/outpost/commands.db"), "store");
        AgentProcess.write(root.resolve("var/lib/outpost/credentials.json"), "{}");
        AgentProcess.write(root.resolve("etc/outpost/scripts.d/mine.sh"), "#!/bin/sh\n");
        AgentProcess.write(root.resolve("var/log/outpost/agent.log"), "a line\n");

        HostCommand.Result remove = dpkg(root, "--remove", NAME).run(T);
        assertThat(remove.exitCode()).as(remove.both()).isZero();
        assertThat(root.resolve("opt/outpost")).doesNotExist();
        assertThat(root.resolve("lib/systemd/system/outpost.service")).doesNotExist();
        assertThat(root.resolve("etc/outpost/config.json")).hasContent(edited.trim());
        assertThat(root.resolve("etc/outpost/server-ca.pem")).as("a conffile").exists();
        assertThat(root.resolve("var/lib/outpost/commands.db")).hasContent("store");
        assertThat(root.resolve("var/lib/outpost/credentials.json")).exists();
        assertThat(root.resolve("var/log/outpost/agent.log")).exists();

        // installed again: the config stays as the operator left it
        assertThat(dpkg(root, "-i", deb.toString()).run(T).exitCode()).isZero();
        assertThat(root.resolve("etc/outpost/config.json")).hasContent(edited.trim());
        assertThat(root.resolve("etc/systemd/system/multi-user.target.wants/outpost.service")).isSymbolicLink();

        HostCommand.Result purge = dpkg(root, "--purge", NAME).run(T);
        assertThat(purge.exitCode()).as(purge.both()).isZero();
        for (String gone : List.of("opt/outpost", "etc/outpost", "var/lib/outpost", "var/log/outpost", "lib/systemd/system/outpost.service",
            "etc/systemd/system/multi-user.target.wants/outpost.service")) {
            assertThat(root.resolve(gone)).as(gone).doesNotExist();
        }
        assertThat(dpkg(root, "--status", NAME).run(T).exitCode()).as("dpkg knows nothing of it").isNotZero();
    }

    private static Path unpackedJar() throws Exception {
        Path x = shared.resolve("jar-from-tar");
        if (!Files.exists(x)) {
            Files.createDirectories(x);
            HostCommand.of("tar", "xzf", built.resolve(TAR).toString(), "-C", x.toString(), NAME + "-" + VERSION + "/lib/outpost.jar").runOk(T);
        }
        return x.resolve(NAME + "-" + VERSION + "/lib/outpost.jar");
    }

    @Test
    void theSameConfigBuildsByteIdenticalArchives() throws Exception {
        Path again = AgentProcess.write(dir.resolve("packager.json"), Files.readString(config).replace("\"output\": \"out\"",
            "\"output\": \"" + dir.resolve("again") + "\""));

        HostCommand.Result r = packager(again);

        assertThat(r.exitCode()).as(r.both()).isZero();
        assertThat(dir.resolve("again").resolve(TAR)).hasSameBinaryContentAs(built.resolve(TAR));
        assertThat(dir.resolve("again").resolve(DEB)).hasSameBinaryContentAs(built.resolve(DEB));
        System.out.printf("with the private runtime: %s %.1f MiB, %s %.1f MiB%n", TAR, Files.size(built.resolve(TAR)) / 1048576.0,
            DEB, Files.size(built.resolve(DEB)) / 1048576.0);
    }

    @Test
    void withoutAPrivateRuntimeTheDistributionRunsOnTheHostsJavaAndSaysSo() throws Exception {
        Path cfg = AgentProcess.write(dir.resolve("packager.json"), config(dir.resolve("system").toString(), "system", PLUGINS));

        HostCommand.Result r = packager(cfg);

        assertThat(r.exitCode()).as(r.both()).isZero();
        Path tar = dir.resolve("system").resolve(TAR);
        Path deb = dir.resolve("system").resolve(NAME + "_" + VERSION + "_all.deb");
        String listing = HostCommand.of("tar", "tzf", tar.toString()).runOk(T).stdout();
        assertThat(listing).contains(NAME + "-" + VERSION + "/lib/outpost.jar").doesNotContain("/jre/");
        assertThat(HostCommand.of("dpkg-deb", "--field", deb.toString(), "Depends").runOk(T).stdout())
            .contains("default-jre-headless (>= 2:1.17) | java17-runtime-headless");
        System.out.printf("without it: %s %.1f MiB, %s %.1f MiB%n", TAR, Files.size(tar) / 1048576.0, deb.getFileName(),
            Files.size(deb) / 1048576.0);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '^', value = {
        "an unknown key | \"plugins\": {}, \"plugin\": {} | config key 'plugin' in CONFIG is unknown (known: agent, formats, jdk,",
        "an unknown built-in plugin | \"plugins\": {\"plugin.nonesuch\": \"builtin\"} | config key 'plugins.plugin.nonesuch' in CONFIG is \"builtin\" but this Outpost build has no built-in plugin of that name (built-in: ",
        "a plugin left out that is not there | \"plugins\": {\"plugin.dsik\": \"none\"} | config key 'plugins.plugin.dsik' in CONFIG is \"none\", but there is no plugin of that name to leave out (in the runtime: plugin.backup, plugin.dataset, plugin.disk, plugin.files, plugin.health, plugin.package, plugin.script;",
        "the agent's core left out | \"plugins\": {\"agent.transport\": \"none\"} | config key 'plugins.agent.transport' in CONFIG names a bundle of the agent's core, not a plugin",
        "a bad checksum | \"plugins\": {\"plugin.echo\": {\"file\": \"ECHO\", \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\"}} | config key 'plugins.plugin.echo.sha256' in CONFIG does not match the jar: plugins.plugin.echo (file ECHO) has sha256 ",
        "an unresolvable plugin | \"plugins\": {\"plugin.echo\": {\"file\": \"UNRESOLVABLE\"}} | plugins.plugin.echo (file UNRESOLVABLE) cannot be resolved: missing requirement osgi.wiring.package; (&(osgi.wiring.package=org.example.missing)(version>=1.0.0)(!(version>=2.0.0)))",
    })
    void aBadConfigFailsNamingTheProblemAndBuildsNothing(String what, String plugins, String message) throws Exception {
        Path unresolvable = PluginJars.variant(Files.createDirectories(dir.resolve("jars")), "2.0.1", "org.example.missing;version=\"[1.0,2.0)\"");
        Path out = dir.resolve("out");
        String json = config(out.toString(), "system", "").replace("\"plugins\": {},", plugins.replace("ECHO", ECHO.toString())
            .replace("UNRESOLVABLE", unresolvable.toString()) + ",");
        Path cfg = AgentProcess.write(dir.resolve("packager.json"), json);

        HostCommand.Result r = packager(cfg);

        assertThat(r.exitCode()).as(what + "\n" + r.both()).isEqualTo(2);
        assertThat(r.stderr()).as(what).contains(message.replace("CONFIG", cfg.toString()).replace("ECHO", ECHO.toString())
            .replace("UNRESOLVABLE", unresolvable.toString()));
        assertThat(out).as("nothing built").doesNotExist();
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void thePackagersScriptsAreShellcheckClean() throws Exception {
        Path scripts = Files.createDirectories(dir.resolve("deb"));
        HostCommand.of("dpkg-deb", "--control", built.resolve(DEB).toString(), scripts.toString()).runOk(T);
        HostCommand.Result r = HostCommand.of("shellcheck", PACKAGER.toString(), HOME.resolve("dist/install.sh").toString(),
            scripts.resolve("postinst").toString(), scripts.resolve("prerm").toString(), scripts.resolve("postrm").toString()).run(T);
        assertThat(r.exitCode()).as("shellcheck (Debian package shellcheck)\n%s", r.both()).isZero();
        assertThat(Files.readString(scripts.resolve("postinst"), StandardCharsets.UTF_8)).startsWith("#!/bin/sh\n");
    }
}
