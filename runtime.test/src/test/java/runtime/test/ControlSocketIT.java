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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The control socket of an agent started from an installed tree (install.sh --root) against the reference server:
 * {@code outpost status} and {@code outpost shell} answer over it, a user other than root is refused, no network port
 * is opened, the log level changes without a restart, and {@code status} of a stopped agent answers from its store.
 */
class ControlSocketIT {
    static final Duration T = Duration.ofSeconds(90);
    /** nobody on Debian, Ubuntu and RHEL alike. */
    static final String NOBODY = "65534";

    @TempDir
    static Path dir;
    static Path root;
    static Path launcher;
    static ServerProcess server;

    @BeforeAll
    static void installAndStartTheServer() throws Exception {
        // every directory down to the tree may be entered by anyone: what keeps another user out must be the agent's
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        server = ServerProcess.start(dir.resolve("server"), 0);
        root = Files.createDirectories(dir.resolve("root"));
        Path token = AgentProcess.write(dir.resolve("token"), Files.readString(server.dir.resolve("enrollment.token")));
        HostCommand.of(AgentProcess.HOME.resolve("dist/install.sh").toString(), "--root", root.toString(), "--skip-deps",
            "--no-start", "-y", "--server", server.url(), "--token-file", token.toString()).runOk(T);
        launcher = root.resolve("opt/outpost/bin/outpost");
        assertThat(launcher).isExecutable();
    }

    @AfterAll
    static void stopTheServer() throws Exception {
        if (server != null) server.close();
    }

    /** An agent of the installed tree with its own data, log and run dirs under the tree (no host path is used). */
    private static final class Agent implements AutoCloseable {
        final Path data, log, run, config;
        final AgentProcess process;

        Agent(String name) throws Exception {
            Path base = Files.createDirectories(root.resolve("agents"));
            data = base.resolve(name + "/data");
            log = base.resolve(name + "/log");
            run = base.resolve(name + "/run/outpost");
            // no periodic health events: the event backlog a status shows is then what the test made
            config = AgentProcess.write(base.resolve(name + "/config.json"), server.agentConfig("websocket",
                "\"log_dir\": \"" + log + "\", \"run_dir\": \"" + run + "\", \"health\": {\"interval_seconds\": 0}"));
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
            process = AgentProcess.startCommand(List.of(launcher.toString(), "run", "--config", config.toString(), "--data-dir",
                data.toString()));
            process.awaitStderr(" ready: agent ", T);
        }

        HostCommand.Result outpost(String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
            cmd.addAll(List.of(args));
            cmd.addAll(List.of("--data-dir", data.toString()));
            return HostCommand.of(cmd).run(T);
        }

        /** `outpost shell --data-dir D COMMAND` (the options before the command). */
        HostCommand.Result shell(String command) throws Exception {
            return HostCommand.of(launcher.toString(), "shell", "--data-dir", data.toString(), command).run(T);
        }

        void stop() throws Exception {
            process.process.destroy(); // SIGTERM, as systemd stops it
            assertThat(process.process.waitFor(60, TimeUnit.SECONDS)).as("the agent stopped on SIGTERM").isTrue();
        }

        @Override
        public void close() throws Exception {
            process.close();
        }
    }

    @Test
    void statusAndShellAnswerOverTheSocketOfTheRunningAgent() throws Exception {
        try (Agent agent = new Agent("a")) {
            String agentId = server.awaitAgent(T, true);

            HostCommand.Result status = agent.outpost("status");

            assertThat(status.exitCode()).as(status.both()).isZero();
            Map<String, String> fields = fields(status.stdout());
            assertThat(fields).containsEntry("agent", agentId).containsEntry("mode", "run").containsEntry("server", server.url())
                .containsEntry("transport", "websocket").containsEntry("outbox", "0 results not yet acknowledged by the server")
                .containsEntry("events", "0 events not yet acknowledged by the server").containsEntry("log level", "info")
                .containsEntry("data dir", agent.data.toString()).containsEntry("config", agent.config.toString())
                .containsKeys("commands", "last error", "version");
            assertThat(fields.get("state")).startsWith("running since ").endsWith(", pid " + agent.process.pid());
            assertThat(fields.get("connection")).startsWith("connected to wss://").contains(" since ");
            assertThat(plugins(status.stdout())).anyMatch(l -> l.matches("plugin\\.disk \\d+\\.\\d+\\.\\d+\\S* active"));
            assertThat(status.stderr()).isEmpty();
            System.out.printf("outpost status answered in %d ms%n", status.elapsed().toMillis());

            // a command through the server, then the shell sees it in the agent's store
            String id = "88888888-0000-4000-8000-000000000001";
            server.send(Duration.ofSeconds(30), agentId, "agent.ping", "{\"echo\": \"via server\"}", "--id", id);
            HostCommand.Result commands = agent.shell("agent:commands -n 5");
            assertThat(commands.exitCode()).as(commands.both()).isZero();
            assertThat(commands.stdout()).startsWith("ID ").containsPattern(id + "\\s+succeeded\\s+agent\\.ping\\s+\\S+\\s+server");

            JsonObject json = JsonParser.parseString(agent.outpost("status", "--json").stdout()).getAsJsonObject();
            assertThat(json.get("agentId").getAsString()).isEqualTo(agentId);
            assertThat(json.get("state").getAsString()).isEqualTo("running");
            assertThat(json.get("pid").getAsLong()).isEqualTo(agent.process.pid());
            assertThat(json.get("version").getAsString()).matches("\\d+\\.\\d+\\.\\d+.*");
            assertThat(json.getAsJsonObject("commands").get("succeeded").getAsLong()).isEqualTo(1);
            assertThat(json.get("outbox").getAsInt()).isZero();
            assertThat(json.get("events").getAsInt()).isZero();
            assertThat(json.getAsJsonArray("plugins").asList()).extracting(p -> p.getAsJsonObject().get("bsn").getAsString())
                .contains("plugin.disk");

            // an interactive session: one Gogo session for all lines, an error answered and the session going on
            HostCommand.Result session = HostCommand.of(launcher.toString(), "shell", "--data-dir", agent.data.toString())
                .stdin("agent:loglevel\nnot:acommand\nagent:exec agent.ping '{\"echo\": 7}'\nexit\nagent:status\n").run(T);
            assertThat(session.exitCode()).as(session.both()).isZero();
            assertThat(session.stdout()).startsWith("log level info\n").contains("\"echo\": 7")
                .doesNotContainPattern("(?m)^agent\\s+" + agentId); // nothing after exit
            assertThat(session.stderr()).contains("error: Command not found: not:acommand");

            HostCommand.Result wrong = agent.shell("not:acommand");
            assertThat(wrong.exitCode()).as(wrong.both()).isEqualTo(1);
            assertThat(wrong.stderr()).isEqualTo("outpost: Command not found: not:acommand\n");
        }
    }

    @Test
    void theSocketIsRootsOnlyAndTheAgentListensOnNoNetworkPort() throws Exception {
        try (Agent agent = new Agent("b")) {
            Path socket = agent.run.resolve("control.sock");
            PosixFileAttributes s = Files.readAttributes(socket, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            assertThat(s.isOther()).as("a socket").isTrue();
            assertThat(PosixFilePermissions.toString(s.permissions())).isEqualTo("rw-------");
            assertThat(s.owner().getName()).isEqualTo("root");
            PosixFileAttributes d = Files.readAttributes(agent.run, PosixFileAttributes.class);
            assertThat(PosixFilePermissions.toString(d.permissions())).isEqualTo("rwx------");
            assertThat(Files.readSymbolicLink(agent.data.resolve("control.sock"))).isEqualTo(socket);

            // another user: through the launcher (the data dir's link), and straight at the socket, which that user
            // can otherwise reach (every directory above the run dir is open to all)
            for (List<String> args : List.of(List.of(launcher.toString(), "status", "--data-dir", agent.data.toString()),
                    List.of(launcher.toString(), "shell", "--data-dir", agent.data.toString(), "agent:status"),
                    List.of("java", "-cp", root.resolve("opt/outpost/lib/outpost.jar").toString(), "agent.client.ControlClient",
                        socket.toString(), "status"))) {
                List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
                cmd.addAll(args);
                HostCommand.Result r = HostCommand.of(cmd).env("HOME", "/").run(T);
                assertThat(r.exitCode()).as("%s\n%s", args, r.both()).isEqualTo(1);
                assertThat(r.stderr()).as("%s", args).contains("permission denied: the control socket ").contains("is for root");
                assertThat(r.stdout()).as("%s", args).isEmpty();
            }

            // no TCP or UDP socket of the agent is bound for others to reach; its Unix socket is the control socket
            long pid = agent.process.pid();
            Set<String> inodes = socketInodes(pid);
            assertThat(inodes).as("the agent's sockets").isNotEmpty();
            for (String table : List.of("tcp", "tcp6")) {
                for (String[] row : table(pid, table)) {
                    boolean listening = row[3].equals("0A");
                    assertThat(listening && inodes.contains(row[9])).as("the agent listens on TCP %s", row[1]).isFalse();
                }
            }
            for (String table : List.of("udp", "udp6", "raw", "raw6")) {
                for (String[] row : table(pid, table)) assertThat(inodes).as("the agent has a %s socket %s", table, row[1]).doesNotContain(row[9]);
            }
            List<String> unix = Files.readAllLines(Path.of("/proc/" + pid + "/net/unix"));
            assertThat(unix).anyMatch(l -> l.endsWith(" " + socket) && inodes.contains(l.trim().split("\\s+")[6]));
        }
    }

    @Test
    void theLogLevelChangesThroughTheSocketWithoutARestart() throws Exception {
        try (Agent agent = new Agent("c")) {
            Path log = agent.log.resolve("agent.log");
            assertThat(agent.shell("agent:exec agent.ping").exitCode()).isZero();
            assertThat(Files.readString(log)).as("debug lines at level info").doesNotContain(" FINE ");

            HostCommand.Result louder = agent.shell("agent:loglevel debug");

            assertThat(louder.exitCode()).as(louder.both()).isZero();
            assertThat(louder.stdout()).isEqualTo("log level debug (was info)\n");
            assertThat(agent.shell("agent:exec agent.ping").exitCode()).isZero();
            await(() -> Files.readString(log).contains(" FINE agent.core.dispatcher: command "), "a debug line in " + log);
            assertThat(agent.shell("agent:loglevel").stdout()).isEqualTo("log level debug\n");
            assertThat(fields(agent.outpost("status").stdout())).containsEntry("log level", "debug");
            // the same process all along, and the level is the journal's too (stderr)
            assertThat(agent.process.process.isAlive()).isTrue();
            assertThat(agent.process.stderr()).contains(" FINE agent.core.dispatcher: command ");

            HostCommand.Result bad = agent.shell("agent:loglevel loud");
            assertThat(bad.exitCode()).isEqualTo(1);
            assertThat(bad.stderr()).isEqualTo("outpost: log level must be one of error, warn, info, debug, trace, got 'loud'\n");
        }
    }

    @Test
    void statusOfAStoppedAgentAnswersFromItsStoreAndConfigAndChangesNothing() throws Exception {
        String agentId;
        Agent agent = new Agent("d");
        try (agent) {
            agentId = server.awaitAgent(T, true);
            assertThat(agent.shell("agent:exec agent.ping").exitCode()).isZero();
            assertThat(agent.shell("agent:exec nothing.here").exitCode()).isZero(); // rejected, and answered
            agent.stop();
        }
        assertThat(agent.run.resolve("control.sock")).as("the socket after a clean stop").doesNotExist();
        Map<String, String> before = listing(agent.data);

        HostCommand.Result status = agent.outpost("status", "--config", agent.config.toString());

        assertThat(status.exitCode()).as(status.both()).isEqualTo(3);
        Map<String, String> fields = fields(status.stdout());
        assertThat(fields).containsEntry("agent", agentId).containsEntry("mode", "run").containsEntry("server", server.url())
            .containsEntry("commands", "succeeded 1, rejected 1").containsEntry("outbox", "0 results not yet acknowledged by the server")
            .containsEntry("config", agent.config.toString());
        assertThat(fields.get("state")).startsWith("stopped since ").endsWith(", last pid " + agent.process.pid());
        assertThat(fields.get("connection")).startsWith("none: the agent is stopped (last: connected to wss://");
        assertThat(plugins(status.stdout())).anyMatch(l -> l.matches("plugin\\.disk \\S+ active"))
            .anyMatch(l -> l.startsWith("(as of "));
        assertThat(status.stderr()).as("a status is all that is printed").isEmpty();
        JsonObject json = JsonParser.parseString(agent.outpost("status", "--json", "--config", agent.config.toString()).stdout())
            .getAsJsonObject();
        assertThat(json.get("state").getAsString()).isEqualTo("stopped");
        assertThat(json.getAsJsonObject("commands").get("rejected").getAsLong()).isEqualTo(1);
        System.out.printf("outpost status of a stopped agent answered in %d ms%n", status.elapsed().toMillis());

        HostCommand.Result shell = agent.shell("agent:status");
        assertThat(shell.exitCode()).as(shell.both()).isEqualTo(1);
        assertThat(shell.stderr()).startsWith("outpost: no agent answers on " + agent.data.resolve("control.sock"));

        // read only: the data dir as the agent left it, and the agent starts again at once on it
        assertThat(listing(agent.data)).isEqualTo(before);
        try (Agent again = new Agent("d")) {
            assertThat(fields(again.outpost("status").stdout()).get("commands")).isEqualTo("succeeded 1, rejected 1");
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** The "name  value" lines of a status; a value that goes on over several lines is its first line. */
    static Map<String, String> fields(String text) {
        Map<String, String> out = new TreeMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith(" ")) continue;
            String[] kv = line.split(" {2,}", 2);
            out.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        return out;
    }

    /** The lines of the status's plugins field: the first beside its name, the rest indented under it. */
    static List<String> plugins(String text) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String line : text.split("\n")) {
            if (line.startsWith("plugins ")) {
                in = true;
                out.add(line.substring("plugins".length()).trim());
            } else if (in && line.startsWith(" ")) {
                out.add(line.trim());
            } else if (in) {
                break;
            }
        }
        return out;
    }

    /** Every file and directory under the data dir with its size and modification time (the framework's aside). */
    private static Map<String, String> listing(Path data) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(data)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (data.relativize(p).startsWith("framework") || data.relativize(p).startsWith("tmp")) continue;
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                out.put(data.relativize(p).toString(), a.isDirectory() ? "dir" : a.size() + " " + a.lastModifiedTime());
            }
        }
        return out;
    }

    private static Set<String> socketInodes(long pid) throws IOException {
        Set<String> out = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) out.add(target.substring(8, target.length() - 1));
                } catch (IOException closedMeanwhile) {
                    // a descriptor closed while listed
                }
            }
        }
        return out;
    }

    /** Rows of /proc/PID/net/TABLE, split into fields (1: local address, 3: state, 9: inode). */
    private static List<String[]> table(long pid, String table) throws IOException {
        Path p = Path.of("/proc/" + pid + "/net/" + table);
        if (!Files.exists(p)) return List.of();
        List<String> lines = Files.readAllLines(p);
        List<String[]> out = new ArrayList<>();
        for (String l : lines.subList(1, lines.size())) out.add(l.trim().split("\\s+"));
        return out;
    }

    @FunctionalInterface
    interface Condition {
        boolean holds() throws Exception;
    }

    static void await(Condition c, String what) throws Exception {
        long end = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < end) {
            if (c.holds()) return;
            Thread.sleep(50);
        }
        throw new AssertionError("not within " + T + ": " + what);
    }
}
