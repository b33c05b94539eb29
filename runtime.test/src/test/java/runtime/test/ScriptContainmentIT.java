package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/**
 * plugin.script's promise that a timeout or a cancel kills the whole process tree of a script, in the exported agent
 * through the reference server: a child, a child that called setsid, a double-forked setsid grandchild (re-parented
 * away from the tree) and one that also cleared its environment, all gone once the result is in, and the result in
 * once. Three ways to stop it: the command's own timeout (protocol §6: {@code timed_out}), the script's
 * {@code timeoutSeconds} param (the plugin's limit, also {@code timed_out}), and a cancel from the server ({@code cancelled}).
 */
class ScriptContainmentIT {
    static final Duration T = Duration.ofSeconds(60);
    /** The roles of the script's processes; each carries the run's marker and its role in its command line. */
    static final List<String> ROLES = List.of("script", "child", "setsid", "grandchild", "scrubbed");

    /**
     * $1 is the marker. {@code exec -a} names a process: its argv[0], which /proc shows. The script itself has the marker
     * as its argument. Each detaches further: a plain background child; one that calls setsid (its own session and
     * process group); one double-forked under setsid, whose parent is gone at once; and the same with an empty
     * environment (no OUTPOST_COMMAND_ID for the plugin's sweep: the agent's per-command cgroup must get it).
     */
    static final String RUNAWAY = String.join("\n",
        "M=$1",
        "(exec -a \"$M-child\" sleep 600) &",
        "setsid bash -c 'exec -a \"$0\" sleep 600' \"$M-setsid\" &",
        "(setsid bash -c 'exec -a \"$0\" sleep 600' \"$M-grandchild\" &)",
        "(setsid env -i /bin/bash -c 'exec -a \"$0\" sleep 600' \"$M-scrubbed\" &)",
        "echo started",
        "wait",
        "");

    @TempDir
    Path dir;

    /** @param timeoutSeconds the script's own limit, null for none */
    private static String params(String marker, Integer timeoutSeconds) {
        JsonObject p = new JsonObject();
        p.addProperty("script", RUNAWAY);
        JsonArray args = new JsonArray();
        args.add(marker);
        p.add("args", args);
        if (timeoutSeconds != null) p.addProperty("timeoutSeconds", timeoutSeconds);
        return p.toString();
    }

    private static String marker() {
        return "outpost-it-" + UUID.randomUUID();
    }

    @Test
    void aTimeoutOrACancelLeavesNoProcessOfTheScriptsTreeAndItsResultArrivesOnce() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket", ""));
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent").toString())) {
                String agentId = server.awaitAgent(T, true);
                Operator op = new Operator(server.dir);

                // the command's timeout, which the agent enforces
                String m1 = marker();
                String byCommand = op.send(agentId, "script.run", params(m1, null), 3);
                awaitTree(m1, true);
                JsonObject r1 = op.awaitResult(byCommand, T);
                assertThat(r1.get("status").getAsString()).as(r1.toString()).isEqualTo("timed_out");
                assertThat(r1.get("errorCode").getAsString()).as(r1.toString()).isEqualTo("timed_out");
                awaitTree(m1, false);

                // the script's own limit, which the plugin enforces
                String m2 = marker();
                String byParam = op.send(agentId, "script.run", params(m2, 3), null);
                awaitTree(m2, true);
                JsonObject r2 = op.awaitResult(byParam, T);
                assertThat(r2.get("status").getAsString()).as(r2.toString()).isEqualTo("timed_out");
                assertThat(r2.get("errorCode").getAsString()).as(r2.toString()).isEqualTo("timed_out");
                assertThat(r2.get("error").getAsString()).contains("longer than its limit of 3 s (param timeoutSeconds)");
                awaitTree(m2, false);

                // a cancel from the server while it runs
                String m3 = marker();
                String cancelled = op.send(agentId, "script.run", params(m3, null), null);
                awaitTree(m3, true);
                op.cancel(cancelled);
                JsonObject r3 = op.awaitResult(cancelled, T);
                assertThat(r3.get("status").getAsString()).as(r3.toString()).isEqualTo("cancelled");
                assertThat(r3.get("errorCode").getAsString()).as(r3.toString()).isEqualTo("cancelled");
                awaitTree(m3, false);

                for (JsonObject r : List.of(r1, r2, r3)) {
                    assertThat(r.get("output").getAsString()).as("it ran: %s", r).startsWith("started\n");
                }
                // a new command is answered after whatever the agent still had to send: a second result would be in
                JsonObject ping = op.awaitResult(op.send(agentId, "agent.ping", "{}", null), T);
                assertThat(ping.get("status").getAsString()).as(ping.toString()).isEqualTo("succeeded");
                List<String> ids = List.of(byCommand, byParam, cancelled);
                assertThat(op.results(ids)).as("one result per command on the server").hasSize(3)
                    .extracting(o -> o.get("id").getAsString()).containsExactlyInAnyOrderElementsOf(ids);
                assertThat(op.awaitResult(byCommand, T)).isEqualTo(r1);
                assertThat(op.awaitResult(byParam, T)).isEqualTo(r2);
                assertThat(op.awaitResult(cancelled, T)).isEqualTo(r3);
            }
        }
    }

    /** Waits (bounded) until every role of the run is running, or none is left; fails naming the processes otherwise. */
    private static void awaitTree(String marker, boolean running) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<String> seen;
        do {
            seen = processes(marker);
            List<String> now = seen;
            boolean done = running ? ROLES.stream().allMatch(role -> now.stream().anyMatch(c -> hasRole(c, marker, role)))
                : seen.isEmpty();
            if (done) return;
            Thread.sleep(50);
        } while (System.nanoTime() < end);
        String scrubbed = marker + "-scrubbed ";
        boolean onlyScrubbed = !running && seen.stream().allMatch(c -> c.startsWith(scrubbed));
        throw new AssertionError((running ? "not every process of the script started: " : "left after the result: ") + seen
            + (onlyScrubbed ? " (no OUTPOST_COMMAND_ID for plugin.script's sweep: only the agent's cgroup per command, which"
            + " needs a writable cgroup v2 with cgroup.kill, reaches it; see the agent's log for 'killed as a process tree')" : ""));
    }

    private static boolean hasRole(String cmdline, String marker, String role) {
        return role.equals("script") ? cmdline.startsWith("/bin/bash ") && cmdline.endsWith(" " + marker)
            : cmdline.startsWith(marker + "-" + role + " ");
    }

    /** The command lines (arguments joined by spaces) of the host's live processes that carry the marker, from /proc. */
    private static List<String> processes(String marker) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                String cmdline;
                try {
                    cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').strip();
                } catch (IOException gone) {
                    continue;
                }
                // a zombie has an empty command line: dead, waiting only for its parent to reap it
                if (cmdline.contains(marker)) out.add(cmdline);
            }
        }
        return out;
    }
}
