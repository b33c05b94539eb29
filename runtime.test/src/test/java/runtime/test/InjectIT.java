package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * {@code outpost inject}: an offline report uploaded with the agent's credentials to the reference server, twice,
 * beside the running agent; the server stores each result once.
 */
class InjectIT {
    static final Duration T = Duration.ofSeconds(90);
    static final String[] IDS = {"99999999-0000-4000-8000-000000000001", "99999999-0000-4000-8000-000000000002",
        "99999999-0000-4000-8000-000000000003"};
    static final String EVENT = "99999999-0000-4000-8000-0000000000e1";

    @TempDir
    Path dir;

    private static HostCommand.Result outpost(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(AgentProcess.LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        return HostCommand.of(cmd).run(T);
    }

    /** Result (or event) ids the server holds for the agent, each with how many times it is stored. */
    private static Map<String, Integer> stored(ServerProcess server, String what, String agentId) throws Exception {
        AgentProcess p = server.ctl(T, what, "--agent", agentId);
        assertThat(p.exitCode()).as(p.stderr()).isZero();
        Map<String, Integer> out = new TreeMap<>();
        for (String line : p.stdout().split("\n")) {
            if (line.isBlank()) continue;
            out.merge(JsonParser.parseString(line).getAsJsonObject().get("id").getAsString(), 1, Integer::sum);
        }
        return out;
    }

    @Test
    void aReportInjectedTwiceIsStoredOnceBesideTheRunningAgent() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Path data = dir.resolve("data");
            Path config = AgentProcess.write(dir.resolve("config.json"), server.agentConfig("websocket", ""));
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
            Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": ["
                + "{\"id\": \"" + IDS[0] + "\", \"action\": \"agent.ping\", \"params\": {\"echo\": \"one\"}},"
                + "{\"id\": \"" + IDS[1] + "\", \"action\": \"agent.ping\", \"params\": {\"echo\": \"two\"}},"
                + "{\"id\": \"" + IDS[2] + "\", \"action\": \"no.such\"}]}");
            Path report = dir.resolve("report.json");
            HostCommand.Result offline = outpost("offline", "--tasks", tasks.toString(), "--report", report.toString(),
                "--config", config.toString(), "--data-dir", data.toString());
            assertThat(offline.exitCode()).as(offline.both()).isEqualTo(1); // one was rejected
            // an event in the report as well (§8), as a plugin emitting one in offline mode would leave it
            JsonObject doc = JsonParser.parseString(Files.readString(report)).getAsJsonObject();
            assertThat(doc.getAsJsonArray("results")).hasSize(3);
            JsonObject event = JsonParser.parseString("{\"id\": \"" + EVENT + "\", \"kind\": \"test.injected\", \"time\": \""
                + Instant.now() + "\", \"data\": {\"n\": 1}}").getAsJsonObject();
            JsonArray events = doc.has("events") ? doc.getAsJsonArray("events") : new JsonArray();
            events.add(event);
            doc.add("events", events);
            Files.writeString(report, doc.toString());

            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", data.toString())) {
                String agentId = server.awaitAgent(T, true);

                HostCommand.Result first = outpost("inject", "--report", report.toString(), "--config", config.toString(),
                    "--data-dir", data.toString());
                HostCommand.Result second = outpost("inject", "--report", report.toString(), "--config", config.toString(),
                    "--data-dir", data.toString());

                for (HostCommand.Result r : List.of(first, second)) {
                    assertThat(r.exitCode()).as(r.both()).isZero();
                    assertThat(r.stdout()).isEqualTo("uploaded " + report + " to " + server.url() + " as agent " + agentId
                        + ": 3 results, all acknowledged; " + events.size() + " events, all acknowledged\n");
                    assertThat(r.stderr()).isEmpty();
                }
                assertThat(stored(server, "results", agentId)).containsExactly(Map.entry(IDS[0], 1), Map.entry(IDS[1], 1),
                    Map.entry(IDS[2], 1));
                assertThat(stored(server, "events", agentId)).containsEntry(EVENT, 1);
                // the agent went on as it was: inject took no lock and left its connection alone
                assertThat(agent.process.isAlive()).isTrue();
                assertThat(agent.stderr()).doesNotContain("connection lost");
                System.out.printf("inject took %d ms, again %d ms%n", first.elapsed().toMillis(), second.elapsed().toMillis());
            }
        }
    }

    @Test
    void aFileThatIsNotAReportIsRefusedNamingTheFieldAndNothingIsSent() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Path config = AgentProcess.write(dir.resolve("config.json"), server.agentConfig("websocket", ""));
            Path bad = AgentProcess.write(dir.resolve("bad.json"), "{\"agentId\": \"x\", \"results\": [{\"status\": \"succeeded\"}]}");

            HostCommand.Result r = outpost("inject", "--report", bad.toString(), "--config", config.toString(), "--data-dir",
                dir.resolve("data").toString());

            assertThat(r.exitCode()).as(r.both()).isEqualTo(2);
            assertThat(r.stderr()).isEqualTo("outpost: report " + bad + ": results[0].id must be a non-empty string\n");
            assertThat(server.agents()).as("enrolled by a refused report").isEmpty();

            Path missing = dir.resolve("no-such-report.json");
            HostCommand.Result gone = outpost("inject", "--report", missing.toString(), "--config", config.toString(), "--data-dir",
                dir.resolve("data").toString());
            assertThat(gone.exitCode()).as(gone.both()).isEqualTo(2);
            assertThat(gone.stderr()).isEqualTo("outpost: cannot read report " + missing + ": no such file\n");

            Path text = AgentProcess.write(dir.resolve("notes.txt"), "results: none\n");
            HostCommand.Result notJson = outpost("inject", "--report", text.toString(), "--config", config.toString(), "--data-dir",
                dir.resolve("data").toString());
            assertThat(notJson.exitCode()).as(notJson.both()).isEqualTo(2);
            assertThat(notJson.stderr()).startsWith("outpost: report " + text + ": not valid JSON: ").doesNotContain("Exception")
                .hasLineCount(1);
            assertThat(server.agents()).as("enrolled by a refused report").isEmpty();

            HostCommand.Result none = outpost("inject", "--config", config.toString());
            assertThat(none.exitCode()).isEqualTo(2);
            assertThat(none.stderr()).startsWith("outpost: inject needs --report FILE\n");
        }
    }
}
