package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;
import static runtime.test.OfflineAgent.cmd;
import static runtime.test.OfflineAgent.status;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.google.gson.JsonObject;

/** Issue 23, the agent's own items (8, 10, 12, 14, 19), against the exported agent. */
class AgentHardeningIT {
    static final Duration T = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private String[] runArgs(ServerProcess server, String transport) throws Exception {
        Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig(transport, ""));
        return new String[] {"run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString()};
    }

    /**
     * Item 8: System.exit(0) in a handler ends the agent with 70 (a service manager restarts it) and a line naming the
     * bundle; after the restart the command is reported interrupted.
     */
    @Test
    void systemExitInAHandlerEndsTheAgentNonZeroNamingTheBundleAndTheCommandIsInterrupted() throws Exception {
        Path exit = FixturePlugins.systemExit().build(dir.resolve("jars"));
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Operator op = new Operator(server.dir);
            String[] run = runArgs(server, "websocket");
            String agentId;
            String id;
            try (AgentProcess agent = AgentProcess.start(run)) {
                agentId = server.awaitAgent(T, true);
                JsonObject installed = server.pluginPush(T, agentId, "install", exit.toString()).get(0);
                assertThat(status(installed)).as(installed.toString()).isEqualTo("succeeded");

                id = op.send(agentId, "exit.now", "{}", null);
                assertThat(agent.process.waitFor(T.toSeconds(), TimeUnit.SECONDS)).as("the agent ended").isTrue();
                Thread.sleep(200); // the pumps read the last lines
                assertThat(agent.exitCode()).as("exit code; stderr:%n%s", agent.stderr()).isEqualTo(70);
                assertThat(agent.stderr()).contains("System.exit was called by fixture.exit.ExitHandler.handle")
                    .contains("in bundle fixture.exit 1.0.0");
            }
            try (AgentProcess again = AgentProcess.start(run)) {
                JsonObject r = op.awaitResult(id, T);
                assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("interrupted");
                assertThat(r.has("startedAt") && !r.get("startedAt").isJsonNull()).as(r.toString()).isTrue();
            }
        }
    }

    /**
     * Item 10: an emptied or deleted commands.db of an agent that ran is refused (exit 2) naming the file and
     * --reset-store; --reset-store starts over and records it.
     */
    @Test
    void aMissingOrEmptyStoreOfAnAgentThatRanIsRefusedUntilResetExplicitly() throws Exception {
        OfflineAgent agent = new OfflineAgent(dir, "agent");
        assertThat(status(agent.one("p1", "agent.ping", "{}"))).isEqualTo("succeeded");
        Path db = agent.data.resolve("commands.db");
        assertThat(db).exists();
        Path tasks = AgentProcess.write(dir.resolve("again.json"), "{\"commands\": [" + cmd("p1", "agent.ping", "{}") + "]}");

        Files.write(db, new byte[0]); // emptied
        assertRefused(tasks, agent.data, db);
        Files.delete(db); // deleted
        for (String side : new String[] {"-wal", "-shm"}) Files.deleteIfExists(agent.data.resolve("commands.db" + side));
        assertRefused(tasks, agent.data, db);

        AgentProcess reset = AgentProcess.run(T, "offline", "--tasks", tasks.toString(), "--data-dir", agent.data.toString(),
            "--reset-store");
        assertThat(reset.exitCode()).as(reset.stderr()).isZero();
        assertThat(reset.stderr()).contains("--reset-store");
        Path log = agent.data.resolve("store-resets.log");
        assertThat(log).as("the reset is recorded").exists();
        assertThat(Files.readString(log)).contains(db.toString()).contains("--reset-store");
        // and from now on the new store is the record: no refusal
        assertThat(status(agent.one("p2", "agent.ping", "{}"))).isEqualTo("succeeded");
    }

    private static void assertRefused(Path tasks, Path data, Path db) throws Exception {
        AgentProcess a = AgentProcess.run(T, "offline", "--tasks", tasks.toString(), "--data-dir", data.toString());
        assertThat(a.exitCode()).as("exit code; stderr:%n%s", a.stderr()).isEqualTo(2);
        assertThat(a.stderr()).contains(db.toString()).contains("--reset-store");
        assertThat(a.stdout()).as("nothing ran, no report").isEmpty();
    }

    /**
     * Item 12: a command whose shell detaches children (a double fork and a setsid) times out with its startedAt, every
     * process it started is gone, its handler is not wedged (the agent's one worker runs the next command), and the
     * agent then stops as promptly as after a command that ended by itself.
     */
    @Test
    void everyProcessOfATimedOutCommandDiesWithItHoweverItDetaches() throws Exception {
        Path exec = FixturePlugins.exec().build(dir.resolve("jars"));
        // durations no other process on this machine uses: how the test finds the command's processes
        String n = Integer.toString(100000 + ThreadLocalRandom.current().nextInt(900000));
        String doubleFork = "313." + n, setsid = "314." + n, main = "400." + n;
        String script = "(sleep " + doubleFork + " &); setsid sleep " + setsid + " & sleep " + main;
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Operator op = new Operator(server.dir);
            // one worker: a handler wedged by a child holding its output would keep every later command waiting
            Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket",
                "\"max_concurrent_commands\": 1"));
            String[] run = {"run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString()};
            String agentId;
            try (AgentProcess agent = AgentProcess.start(run)) {
                agentId = server.awaitAgent(T, true);
                JsonObject installed = server.pluginPush(T, agentId, "install", exec.toString()).get(0);
                assertThat(status(installed)).as(installed.toString()).isEqualTo("succeeded");
                stop(agent); // the runs compared below differ only in their command: neither installs
            }

            Duration stopAfterTimeout;
            try (AgentProcess agent = AgentProcess.start(run)) {
                agent.awaitStderr("connected to", T);
                String id = op.send(agentId, "exec.run", "{\"argv\": [\"sh\", \"-c\", \"" + script + "\"]}", 3);
                awaitProcesses(List.of(doubleFork, setsid), true);
                JsonObject r = op.awaitResult(id, T);
                assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("timed_out");
                assertThat(r.has("startedAt") && !r.get("startedAt").isJsonNull()).as("it ran, and says when: %s", r).isTrue();
                assertThat(r.get("error").getAsString()).as(r.toString()).contains("timed out after 3 s");
                awaitProcesses(List.of(doubleFork, setsid, main), false);
                JsonObject next = op.awaitResult(op.send(agentId, "agent.ping", "{}", null), Duration.ofSeconds(30));
                assertThat(next.get("status").getAsString()).as("the next command on the one worker: %s", next)
                    .isEqualTo("succeeded");

                stopAfterTimeout = stop(agent);
                assertThat(agent.stderr()).doesNotContain("did not stop within");
            }
            // the same agent after a command of the same plugin that ended by itself: how long a stop takes here now
            Duration stopAfterCommand;
            try (AgentProcess agent = AgentProcess.start(run)) {
                agent.awaitStderr("connected to", T);
                JsonObject r = op.awaitResult(op.send(agentId, "exec.run", "{\"argv\": [\"true\"]}", 3), T);
                assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
                stopAfterCommand = stop(agent);
            }
            System.out.println("item 12: the agent stopped " + stopAfterTimeout.toMillis() + " ms after SIGTERM, "
                + stopAfterCommand.toMillis() + " ms after a command that ended by itself");
            // before the fix the wedged handler held the stop for the dispatcher's 5 s wait on its workers
            assertThat(stopAfterTimeout).as("the stop after the timed-out command, against one after a command that ended"
                + " by itself (%s)", stopAfterCommand).isLessThan(stopAfterCommand.plusSeconds(3));
        }
    }

    /** SIGTERM, as a service manager stops the agent: @return how long until it ended */
    private static Duration stop(AgentProcess agent) throws InterruptedException {
        long t0 = System.nanoTime();
        agent.process.destroy();
        assertThat(agent.process.waitFor(60, TimeUnit.SECONDS)).as("the agent stopped on SIGTERM").isTrue();
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** Waits (bounded) until processes running {@code sleep D} for each D are all there, or all gone. */
    private static void awaitProcesses(List<String> durations, boolean present) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<String> wrong;
        do {
            List<String> running = sleeps();
            wrong = durations.stream().filter(d -> running.contains(d) != present).toList();
            if (wrong.isEmpty()) return;
            Thread.sleep(50);
        } while (System.nanoTime() < end);
        throw new AssertionError((present ? "never started: " : "still running after the command ended: ") + "sleep " + wrong);
    }

    /** The arguments of every {@code sleep X} process on the host, from /proc. */
    private static List<String> sleeps() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                byte[] raw;
                try {
                    raw = Files.readAllBytes(p.resolve("cmdline"));
                } catch (IOException gone) {
                    continue;
                }
                String[] argv = new String(raw, StandardCharsets.UTF_8).split("\0");
                if (argv.length == 2 && argv[0].endsWith("sleep")) out.add(argv[1]);
            }
        }
        return out;
    }

    /** Item 14: one-shot mode against a server that never answers gives up within --max-seconds and exits 1. */
    @ParameterizedTest
    @ValueSource(strings = {"websocket", "poll"})
    void oneShotModeGivesUpWithinMaxSecondsAgainstAServerThatNeverAnswers(String transport) throws Exception {
        // the kernel completes TCP handshakes into the backlog; nothing ever reads: TLS waits for an answer forever
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Path config = AgentProcess.write(dir.resolve("once.json"), "{\"server_url\": \"https://127.0.0.1:"
                + silent.getLocalPort() + "\", \"enrollment_token\": \"never-used\", \"transport\": \"" + transport + "\"}");
            AgentProcess once = AgentProcess.run(Duration.ofSeconds(90), "once", "--config", config.toString(), "--data-dir",
                dir.resolve("agent").toString(), "--max-seconds", "10");
            assertThat(once.exitCode()).as("exit code; stderr:%n%s", once.stderr()).isEqualTo(1);
            // the bound counts from when the agent is ready (starting the JVM and framework comes before it, and takes
            // what the machine's load makes it): measured on the agent's own clock, from its log lines
            Duration took = Duration.between(logTime(once.stderr(), "INFO agent.core: ready: agent"),
                logTime(once.stderr(), "INFO agent.core: one-shot run incomplete after --max-seconds 10"));
            System.out.println("item 14 (" + transport + "): once --max-seconds 10 gave up " + took.toMillis() + " ms after ready");
            assertThat(took).as("gave up within the bound; stderr:%n%s", once.stderr()).isLessThan(Duration.ofSeconds(12));
        }
    }

    /**
     * Item 19, two more of the agent's parts: a config file other users can read that holds an enrolment token is
     * warned about (one that is 0600 is not), and starts that end in a SIGKILL leave no copies of SQLite's native
     * library behind in native/ (115 kills left 70 MB).
     */
    @Test
    void aReadableTokenIsWarnedAboutAndKilledStartsLeaveNoNativeLibraryCopies() throws Exception {
        Path config = AgentProcess.write(dir.resolve("agent.json"),
            "{\"server_url\": \"https://127.0.0.1:1\", \"enrollment_token\": \"a-token\"}");
        for (String mode : new String[] {"rw-r--r--", "rw-------", "rw-------"}) {
            Files.setPosixFilePermissions(config, java.nio.file.attribute.PosixFilePermissions.fromString(mode));
            try (AgentProcess a = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent").toString())) {
                a.awaitStderr("ready: agent", T);
                String warning = "config file " + config + " holds an enrolment token and can be read by other users";
                if (mode.equals("rw-r--r--")) assertThat(a.stderr()).contains(warning);
                else assertThat(a.stderr()).doesNotContain(warning);
                a.process.destroyForcibly();
                assertThat(a.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
        }
        try (Stream<Path> files = Files.list(dir.resolve("agent/native"))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("sqlite-") && n.endsWith(".so")))
                .as("native libraries left after three killed starts").hasSizeLessThanOrEqualTo(1);
        }
    }

    /** @return the time of the first log line containing the text (the agent's one line format starts with it) */
    private static java.time.Instant logTime(String log, String text) {
        String line = log.lines().filter(l -> l.contains(text)).findFirst()
            .orElseThrow(() -> new AssertionError("no log line with '" + text + "' in:\n" + log));
        return java.time.OffsetDateTime.parse(line.substring(0, line.indexOf(' ')),
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ")).toInstant();
    }

    /** Item 19, the agent's parts: the log file is log/agent.log; a key given twice in the config is an error naming it. */
    @Test
    void theLogIsAgentLogAndADuplicateConfigKeyIsAnErrorNamingIt() throws Exception {
        OfflineAgent agent = new OfflineAgent(dir, "agent");
        assertThat(status(agent.one("p1", "agent.ping", "{}"))).isEqualTo("succeeded");
        Path logDir = agent.data.resolve("log");
        assertThat(logDir.resolve("agent.log")).exists();
        assertThat(Files.readString(logDir.resolve("agent.log"))).contains("ready: agent");
        try (Stream<Path> files = Files.list(logDir)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("files in %s", logDir).doesNotContain("agent.log.0");
        }

        Path tasks = AgentProcess.write(dir.resolve("none.json"), "{\"commands\": []}");
        for (Map.Entry<String, String> c : Map.of(
                "{\"log_level\": \"info\",\n \"max_concurrent_commands\": 2,\n \"log_level\": \"fine\"}", "log_level",
                "{\"plugins\": {\"allow\": [\"a.*\"], \"allow\": [\"*\"]}}", "allow").entrySet()) {
            Path config = AgentProcess.write(dir.resolve("dup.json"), c.getKey());
            AgentProcess a = AgentProcess.run(T, "offline", "--config", config.toString(), "--tasks", tasks.toString(),
                "--data-dir", dir.resolve("dup").toString());
            assertThat(a.exitCode()).as("exit code for %s; stderr:%n%s", c.getKey(), a.stderr()).isEqualTo(2);
            assertThat(a.stderr()).contains("key '" + c.getValue() + "' appears twice");
        }
    }
}
