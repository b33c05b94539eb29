package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * plugin.install / upgrade / remove in the real runtime. Each step is a separate offline run, so every state is
 * also checked across a restart of the framework.
 */
class PluginLifecycleIT {
    static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Map<String, JsonObject> run(String... commands) throws Exception {
        StringBuilder tasks = new StringBuilder("{\"commands\": [");
        for (int i = 0; i < commands.length; i++) {
            tasks.append(i == 0 ? "" : ",").append(commands[i]);
        }
        Path file = AgentProcess.write(dir.resolve("tasks-" + UUID.randomUUID() + ".json"), tasks.append("]}").toString());
        AgentProcess a = AgentProcess.run(T, "offline", "--tasks", file.toString(), "--data-dir", dir.resolve("agent").toString());
        Map<String, JsonObject> out = new LinkedHashMap<>();
        for (JsonElement e : JsonParser.parseString(a.stdout()).getAsJsonObject().getAsJsonArray("results")) {
            out.put(e.getAsJsonObject().get("id").getAsString(), e.getAsJsonObject());
        }
        assertThat(out).as("results of %s; stderr: %s", (Object) commands, a.stderr()).hasSize(commands.length);
        return out;
    }

    private static String cmd(String id, String action, String params) {
        return "{\"id\": \"" + id + "\", \"action\": \"" + action + "\", \"params\": " + params + "}";
    }

    private static String jarParams(Path jar) throws Exception {
        return "{\"url\": \"" + jar.toUri() + "\", \"sha256\": \"" + sha256(jar) + "\"}";
    }

    private static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    private Path variant(String version, String extraImport) throws Exception {
        return PluginJars.variant(dir, version, extraImport);
    }

    @Test
    void pluginsAreInstalledUpgradedRolledBackAndRemovedWhileTheAgentRuns() throws Exception {
        Path v1 = Path.of(System.getProperty("plugin.echo.jar"));
        String built = PluginJars.bundleVersion(v1);
        String second = PluginJars.above(v1, 2);
        Path v2 = variant(second, null);
        Path broken = variant(PluginJars.above(v1, 3), "does.not.exist;version=\"[1,2)\"");
        Path notAJar = AgentProcess.write(dir.resolve("plain.txt"), "not even a zip");
        Path notABundle = dir.resolve("plain.jar");
        Manifest plain = new Manifest();
        plain.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (OutputStream os = Files.newOutputStream(notABundle); JarOutputStream jos = new JarOutputStream(os, plain)) {
            jos.putNextEntry(new JarEntry("hello.txt"));
            jos.closeEntry();
        }
        String say = "{\"message\": \"hi\"}";

        Map<String, JsonObject> r = run(cmd("i1", "plugin.install", jarParams(v1)));
        assertThat(r.get("i1").get("status").getAsString()).as(r.get("i1").toString()).isEqualTo("succeeded");
        assertThat(r.get("i1").getAsJsonObject("data").getAsJsonArray("actions").toString()).contains("echo.say");
        // the installed plugin survives the restart between runs
        r = run(cmd("s2", "echo.say", say), cmd("l1", "plugin.list", "{}"));
        assertThat(r.get("s2").getAsJsonObject("data").get("plugin").getAsString()).isEqualTo("plugin.echo " + built);
        assertThat(r.get("l1").get("data").toString()).contains("\"bsn\":\"plugin.echo\"").contains("\"installedAtRuntime\":true");

        String wrongSha = "{\"url\": \"" + v2.toUri() + "\", \"sha256\": \"" + "0".repeat(64) + "\"}";
        r = run(cmd("i2", "plugin.install", jarParams(v1)), cmd("i3", "plugin.install", wrongSha),
            cmd("i4", "plugin.install", jarParams(notAJar)), cmd("i5", "plugin.install", jarParams(notABundle)),
            cmd("x1", "plugin.remove", "{\"bsn\": \"agent.core\"}"),
            cmd("u1", "plugin.upgrade", jarParams(v2)));
        assertThat(r.get("i2").getAsJsonObject("data").get("changed").getAsBoolean()).isFalse();
        assertThat(r.get("i3").get("error").getAsString()).contains("sha256 mismatch").contains("nothing was installed");
        assertThat(r.get("i4").get("error").getAsString()).contains("is not a jar");
        assertThat(r.get("x1").get("error").getAsString()).contains("part of the agent's core");
        assertThat(r.get("i5").get("error").getAsString()).contains("is not an OSGi bundle: no Bundle-SymbolicName");
        for (String refused : new String[] {"i3", "i4", "i5", "x1"}) {
            assertThat(r.get(refused).get("status").getAsString()).as(refused).isEqualTo("rejected");
            assertThat(r.get(refused).get("errorCode").getAsString()).as(refused).isEqualTo("refused");
        }
        assertThat(r.get("u1").get("status").getAsString()).as(r.get("u1").toString()).isEqualTo("succeeded");
        assertThat(r.get("u1").getAsJsonObject("data").get("to").getAsString()).isEqualTo(second);

        r = run(cmd("s3", "echo.say", say));
        assertThat(r.get("s3").getAsJsonObject("data").get("plugin").getAsString()).isEqualTo("plugin.echo " + second);
        r = run(cmd("u2", "plugin.upgrade", jarParams(broken)));
        assertThat(r.get("u2").get("status").getAsString()).isEqualTo("failed");
        assertThat(r.get("u2").get("errorCode").getAsString()).isEqualTo("failed");
        assertThat(r.get("u2").get("error").getAsString()).contains(second + " is back").contains("does.not.exist");
        r = run(cmd("s4", "echo.say", say));
        assertThat(r.get("s4").get("status").getAsString()).as(r.get("s4").toString()).isEqualTo("succeeded");
        assertThat(r.get("s4").getAsJsonObject("data").get("plugin").getAsString()).isEqualTo("plugin.echo " + second);

        r = run(cmd("d1", "plugin.upgrade", jarParams(v1)), cmd("x2", "plugin.remove", "{\"bsn\": \"plugin.echo\"}"));
        assertThat(r.get("d1").get("error").getAsString()).contains("older than the installed " + second).contains("allowDowngrade");
        assertThat(r.get("d1").get("status").getAsString()).isEqualTo("rejected");
        assertThat(r.get("d1").get("errorCode").getAsString()).isEqualTo("refused");
        assertThat(r.get("x2").get("status").getAsString()).isEqualTo("succeeded");
        r = run(cmd("s5", "echo.say", say));
        assertThat(r.get("s5").get("status").getAsString()).isEqualTo("rejected");
        assertThat(r.get("s5").get("errorCode").getAsString()).isEqualTo("unknown_action");
    }

    @Test
    void aPluginThatCameWithTheAgentIsUpgradedRolledBackAndKeptAcrossRestarts() throws Exception {
        Path disk = Path.of(System.getProperty("plugin.disk.jar"));
        String newerVersion = PluginJars.above(disk, 0);
        Path newer = PluginJars.variant(disk, dir, newerVersion, null);
        Path broken = PluginJars.variant(disk, dir, PluginJars.above(disk, 1), "does.not.exist;version=\"[1,2)\"");
        String list = "{}";

        Map<String, JsonObject> r = run(cmd("u1", "plugin.upgrade", jarParams(newer)), cmd("b1", "plugin.upgrade", jarParams(broken)));
        assertThat(r.get("u1").get("status").getAsString()).as(r.get("u1").toString()).isEqualTo("succeeded");
        assertThat(r.get("u1").getAsJsonObject("data").get("from").getAsString()).isEqualTo(PluginJars.bundleVersion(disk));
        assertThat(r.get("b1").get("status").getAsString()).isEqualTo("failed");
        assertThat(r.get("b1").get("error").getAsString()).contains(newerVersion + " is back").contains("does.not.exist");

        // the launcher starts the agent with its built-in plugin.disk embedded: the upgraded one must stay
        r = run(cmd("l1", "plugin.list", "{}"), cmd("d1", "disk.list", list));
        assertThat(r.get("l1").get("data").toString()).contains("{\"bsn\":\"plugin.disk\",\"version\":\"" + newerVersion + "\",\"state\":\"active\"");
        assertThat(r.get("d1").get("status").getAsString()).as(r.get("d1").toString()).isEqualTo("succeeded");
    }

    @Test
    void withSignaturesRequiredOnlyJarsSignedByTheTrustStoreAreInstalled() throws Exception {
        Path ks = dir.resolve("signer.p12");
        jdkTool("keytool", "-genkeypair", "-alias", "ops", "-keyalg", "EC", "-dname", "CN=ops,O=Outpost test", "-validity",
            "2", "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
        Path trust = dir.resolve("trust.pem");
        jdkTool("keytool", "-exportcert", "-rfc", "-alias", "ops", "-keystore", ks.toString(), "-storepass", "changeit",
            "-file", trust.toString());
        Path unsigned = Path.of(System.getProperty("plugin.echo.jar"));
        Path signed = dir.resolve("plugin.echo-signed.jar");
        jdkTool("jarsigner", "-keystore", ks.toString(), "-storepass", "changeit", "-signedjar", signed.toString(),
            unsigned.toString(), "ops");
        Path config = AgentProcess.write(dir.resolve("agent.json"), "{\"plugins\": {\"require_signed\": true,"
            + " \"trust_store\": \"" + trust + "\"}}");

        // run one at a time so that e1 runs after the install
        Map<String, JsonObject> r = new LinkedHashMap<>();
        for (String c : new String[] {cmd("n1", "plugin.install", jarParams(unsigned)), cmd("s1", "plugin.install", jarParams(signed)),
            cmd("e1", "echo.say", "{\"message\": \"signed\"}")}) {
            Path file = AgentProcess.write(dir.resolve("tasks-" + UUID.randomUUID() + ".json"), "{\"commands\": [" + c + "]}");
            AgentProcess a = AgentProcess.run(T, "offline", "--config", config.toString(), "--tasks", file.toString(),
                "--data-dir", dir.resolve("agent").toString());
            JsonObject res = JsonParser.parseString(a.stdout()).getAsJsonObject().getAsJsonArray("results").get(0).getAsJsonObject();
            r.put(res.get("id").getAsString(), res);
        }
        assertThat(r.get("n1").get("status").getAsString()).isEqualTo("rejected");
        assertThat(r.get("n1").get("error").getAsString()).contains("is not signed").contains("'plugins.require_signed' is true");
        assertThat(r.get("s1").get("status").getAsString()).as(r.get("s1").toString()).isEqualTo("succeeded");
        assertThat(r.get("e1").getAsJsonObject("data").get("message").getAsString()).isEqualTo("signed");

        Path noTrust = AgentProcess.write(dir.resolve("bad.json"), "{\"plugins\": {\"require_signed\": true}}");
        AgentProcess bad = AgentProcess.run(T, "offline", "--config", noTrust.toString(), "--tasks",
            AgentProcess.write(dir.resolve("none.json"), "{\"commands\": []}").toString(), "--data-dir", dir.resolve("agent2").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.stderr()).contains("config key 'plugins.require_signed' is true but 'plugins.trust_store' is not set");
    }

    private static void jdkTool(String... argv) throws Exception {
        argv[0] = Path.of(System.getProperty("java.home"), "bin", argv[0]).toString();
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", argv), out).isZero();
    }
}
