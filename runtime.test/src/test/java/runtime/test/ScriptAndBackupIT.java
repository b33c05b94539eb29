package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

/**
 * plugin.script and plugin.backup in the exported agent's default runtime, driven through the reference server: a
 * scripts-directory script's output and exit code in the result, scripts refused by the host's consent and by the
 * directory's trust rule with their error codes, and a backup restored byte for byte (contents, modes, owners, mtimes,
 * a symlink, an empty directory) into a fresh directory, with a dry run of a restore changing nothing.
 *
 * <p>Not here: {@code backup.create {"destination": "server"}}, which needs an upload channel agent.api does not have.
 */
class ScriptAndBackupIT {
    static final Duration T = Duration.ofSeconds(60);
    /** The variables a script may see: the plugin's clean environment, and what bash sets for itself. */
    static final Set<String> CLEAN_ENV = Set.of("PATH", "LANG", "HOME", "USER", "LOGNAME", "GREETING", "OUTPOST_COMMAND_ID",
        "PWD", "SHLVL", "_");

    @TempDir
    Path dir;

    private AgentProcess agent(ServerProcess server, Path scriptsDir) throws Exception {
        String extra = "\"scripts_dir\": \"" + scriptsDir + "\","
            + " \"plugins\": {\"settings\": {\"script\": {\"run_as\": [\"nobody\"]}}}";
        Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket", extra));
        return AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString());
    }

    private static Path script(Path scriptsDir, String name, String text, String mode) throws Exception {
        Path f = Files.writeString(scriptsDir.resolve(name), text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    private static JsonObject one(List<JsonObject> results) {
        assertThat(results).as("one result").hasSize(1);
        return results.get(0);
    }

    @Test
    void scriptsRunWithTheirOutputAndExitCodeAndTheHostsRulesRefuseTheRest() throws Exception {
        Path scriptsDir = Files.createDirectory(dir.resolve("scripts.d"));
        Files.setPosixFilePermissions(scriptsDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        script(scriptsDir, "greet", """
            #!/bin/bash
            # description: greets, reads its input, shows its environment
            # arg: who   whom to greet
            echo "$GREETING $1"
            read -r line; echo "stdin: $line"
            env | cut -d= -f1 | sed 's/^/env: /'
            exit "${2:-0}"
            """, "rwxr-xr-x");
        script(scriptsDir, "loose", "#!/bin/sh\necho should never run\n", "rwxrwxrwx");
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             AgentProcess agent = agent(server, scriptsDir)) {
            String agentId = server.awaitAgent(T, true);

            JsonObject ok = one(server.send(T, agentId, "script.run", "{\"name\": \"greet\", \"args\": [\"world\"],"
                + " \"env\": {\"GREETING\": \"hello\"}, \"stdin\": \"from the server\\n\"}"));
            assertThat(ok.get("status").getAsString()).as(ok.toString()).isEqualTo("succeeded");
            assertThat(ok.getAsJsonObject("data").get("exitCode").getAsInt()).isZero();
            assertThat(ok.get("exitCode").getAsInt()).isZero();
            String out = ok.get("output").getAsString();
            assertThat(out).contains("hello world\n").contains("stdin: from the server\n");
            // none of the agent's own environment reaches a script
            Set<String> seen = out.lines().filter(l -> l.startsWith("env: ")).map(l -> l.substring(5)).collect(Collectors.toSet());
            assertThat(seen).contains("PATH", "GREETING", "OUTPOST_COMMAND_ID").isSubsetOf(CLEAN_ENV);

            // a declared argument count is checked; an exit code other than 0 fails the command and is in the result
            JsonObject failed = one(server.send(T, agentId, "script.run", "{\"name\": \"greet\", \"args\": [\"x\", \"7\"],"
                + " \"stdin\": \"\"}"));
            assertThat(failed.get("status").getAsString()).as(failed.toString()).isEqualTo("rejected");
            assertThat(failed.get("errorCode").getAsString()).isEqualTo("invalid_param");
            JsonObject seven = one(server.send(T, agentId, "script.run", "{\"script\": \"echo before; exit 7\"}"));
            assertThat(seven.get("status").getAsString()).as(seven.toString()).isEqualTo("failed");
            assertThat(seven.get("errorCode").getAsString()).isEqualTo("nonzero_exit");
            assertThat(seven.get("exitCode").getAsInt()).isEqualTo(7);
            assertThat(seven.get("error").getAsString()).isEqualTo("the script exited with code 7");
            assertThat(seven.get("output").getAsString()).isEqualTo("before\n");

            // the host's consent: plugins.settings.script.run_as allows nobody only
            JsonObject asRoot = one(server.send(T, agentId, "script.run", "{\"script\": \"id -u\", \"runAs\": \"root\"}"));
            assertThat(asRoot.get("status").getAsString()).as(asRoot.toString()).isEqualTo("rejected");
            assertThat(asRoot.get("errorCode").getAsString()).isEqualTo("refused");
            assertThat(asRoot.get("error").getAsString()).contains("user 'root' is not allowed on this host")
                .contains("plugins.settings.script.run_as");
            JsonObject asNobody = one(server.send(T, agentId, "script.run", "{\"script\": \"id -un\", \"runAs\": \"nobody\"}"));
            assertThat(asNobody.get("status").getAsString()).as(asNobody.toString()).isEqualTo("succeeded");
            assertThat(asNobody.get("output").getAsString()).isEqualTo("nobody\n");

            // the directory's trust rule: a world-writable script is anyone's code
            JsonObject loose = one(server.send(T, agentId, "script.run", "{\"name\": \"loose\"}"));
            assertThat(loose.get("status").getAsString()).as(loose.toString()).isEqualTo("rejected");
            assertThat(loose.get("errorCode").getAsString()).isEqualTo("refused");
            assertThat(loose.get("error").getAsString()).contains("world-writable").contains("anyone who can write it");
            assertThat(loose.get("output").getAsString()).doesNotContain("should never run");

            JsonObject list = one(server.send(T, agentId, "script.list"));
            assertThat(list.get("status").getAsString()).as(list.toString()).isEqualTo("succeeded");
            assertThat(list.getAsJsonObject("data").toString()).contains("greets, reads its input, shows its environment");
        }
    }

    @Test
    void aBackupRestoresByteForByteIntoAFreshDirectoryAndADryRunChangesNothing() throws Exception {
        Path src = sourceTree(dir.resolve("src"));
        Map<String, String> before = describe(src);
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             AgentProcess agent = agent(server, Files.createDirectory(dir.resolve("scripts.d")))) {
            String agentId = server.awaitAgent(T, true);

            JsonObject created = one(server.send(T, agentId, "backup.create", "{\"paths\": [\"" + src + "\"], \"name\": \"it\","
                + " \"compression\": \"gzip\"}"));
            assertThat(created.get("status").getAsString()).as(created.toString()).isEqualTo("succeeded");
            JsonObject c = created.getAsJsonObject("data");
            Path archive = Path.of(c.get("archive").getAsString());
            assertThat(archive).exists().hasParent(dir.resolve("agent/backups"));
            assertThat(c.get("files").getAsLong()).isEqualTo(before.size());
            JsonObject verified = one(server.send(T, agentId, "backup.verify", "{\"archive\": \"" + archive + "\"}"));
            assertThat(verified.get("status").getAsString()).as(verified.toString()).isEqualTo("succeeded");

            // a dry run into a fresh directory says what it would write and writes nothing
            Path dryTarget = dir.resolve("dry");
            JsonObject dry = one(server.send(T, agentId, "backup.restore", "{\"archive\": \"" + archive + "\","
                + " \"target\": \"" + dryTarget + "\"}", "--dry-run"));
            assertThat(dry.get("status").getAsString()).as(dry.toString()).isEqualTo("succeeded");
            assertThat(dry.getAsJsonObject("data").get("changed").getAsBoolean()).isTrue();
            assertThat(dry.getAsJsonObject("data").get("files").getAsLong()).isEqualTo(before.size());
            assertThat(dry.getAsJsonObject("data").get("entries").toString()).contains(src.toString().substring(1) + "/bin/run.sh");
            assertThat(dryTarget).doesNotExist();

            Path target = dir.resolve("restored");
            JsonObject restored = one(server.send(T, agentId, "backup.restore", "{\"archive\": \"" + archive + "\","
                + " \"target\": \"" + target + "\"}"));
            assertThat(restored.get("status").getAsString()).as(restored.toString()).isEqualTo("succeeded");
            Path copy = target.resolve(src.toString().substring(1));
            assertThat(describe(copy)).isEqualTo(before);

            // a dry run over the restored tree with overwrite: it names the file it would replace and replaces nothing
            Path changed = copy.resolve("etc/app.conf");
            Files.writeString(changed, "edited after the restore\n");
            Map<String, String> edited = describe(copy);
            JsonObject dryOver = one(server.send(T, agentId, "backup.restore", "{\"archive\": \"" + archive + "\","
                + " \"target\": \"" + target + "\", \"overwrite\": true}", "--dry-run"));
            assertThat(dryOver.get("status").getAsString()).as(dryOver.toString()).isEqualTo("succeeded");
            assertThat(dryOver.getAsJsonObject("data").get("wouldOverwrite").toString())
                .contains(src.toString().substring(1) + "/etc/app.conf");
            assertThat(describe(copy)).isEqualTo(edited);
            assertThat(Files.readString(changed)).isEqualTo("edited after the restore\n");
        }
    }

    /** Files of several modes and owners, a symlink, an empty directory, fixed mtimes. */
    static Path sourceTree(Path src) throws Exception {
        Files.createDirectories(src.resolve("etc"));
        Files.createDirectories(src.resolve("bin"));
        Files.createDirectories(src.resolve("var/empty"));
        Path conf = Files.writeString(src.resolve("etc/app.conf"), "listen = 8080\n");
        Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-r-----"));
        Path secret = Files.write(src.resolve("etc/secret.key"), new byte[] {0, 1, 2, (byte) 0xff, '\n', 0});
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Files.setAttribute(secret, "unix:uid", 65534, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(secret, "unix:gid", 65534, LinkOption.NOFOLLOW_LINKS);
        Path run = Files.writeString(src.resolve("bin/run.sh"), "#!/bin/sh\nexec true\n");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-x--x"));
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new java.util.Random(16).nextBytes(big);
        Files.write(src.resolve("var/data.bin"), big);
        Files.setPosixFilePermissions(src.resolve("var/empty"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.createSymbolicLink(src.resolve("etc/current.conf"), Path.of("app.conf"));
        FileTime t = FileTime.from(Instant.parse("2024-02-29T12:34:56Z"));
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                if (!Files.isSymbolicLink(p)) Files.setLastModifiedTime(p, t);
            }
        }
        return src;
    }

    /** Every entry under root by relative name: type, mode, owner, mtime, and the content's bytes or the link's target. */
    static Map<String, String> describe(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
                String what;
                if (Files.isSymbolicLink(p)) {
                    what = "link " + Files.readSymbolicLink(p);
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    what = "dir";
                } else {
                    what = "file " + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(p))) + " " + new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1).length();
                }
                String mtime = Files.isSymbolicLink(p) ? "" : " mtime " + a.get("lastModifiedTime");
                out.put(root.relativize(p).toString(), what + " mode " + Integer.toOctalString((Integer) a.get("mode"))
                    + " owner " + a.get("uid") + ":" + a.get("gid") + mtime);
            }
        }
        return out;
    }
}
