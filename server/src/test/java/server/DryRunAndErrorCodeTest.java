package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.TestServer.Response;
import server.TestServer.WsAgent;
import server.cli.OutpostCtl;

/** Issue 15: dry runs go to the agent in the command (both transports); errorCode comes back unchanged everywhere. */
class DryRunAndErrorCodeTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("dry-agent");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    int ctl(StringWriter out, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--server-dir";
        all[1] = dir.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return OutpostCtl.run(all, new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));
    }

    @Test
    void aDryRunGoesInTheCommandFrameOverBothTransportsAndARealRunDoesNotSayIt() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId(), 1 << 20);
            Response rs = s.operatorPost("/api/v1/commands",
                "{\"agentId\":\"dry-agent\",\"action\":\"disk.extend\",\"params\":{\"device\":\"/dev/vdb\"},\"dryRun\":true}");
            assertThat(rs.status()).as(rs.body()).isEqualTo(201);
            JsonObject dry = a.expect("command");
            assertThat(dry.get("dryRun").getAsBoolean()).isTrue();
            String id = dry.get("id").getAsString();
            assertThat(s.commandView(id).get("dryRun").getAsBoolean()).isTrue();

            s.command(agent.agentId(), "disk.extend", "{\"device\":\"/dev/vdb\"}");
            JsonObject real = a.expect("command");
            assertThat(real.has("dryRun")).as("the frame an older agent knows: " + real).isFalse();
            assertThat(s.commandView(real.get("id").getAsString()).get("dryRun").getAsBoolean()).isFalse();

            // outpostctl send --dry-run, to one agent and in a batch of all
            StringWriter out = new StringWriter();
            assertThat(ctl(out, "send", "dry-agent", "timezone.set", "{\"zone\":\"UTC\"}", "--dry-run")).isZero();
            assertThat(a.expect("command").get("dryRun").getAsBoolean()).isTrue();
            assertThat(ctl(new StringWriter(), "send", "--all", "timezone.set", "{\"zone\":\"UTC\"}", "--dry-run")).isZero();
            assertThat(a.expect("command").get("dryRun").getAsBoolean()).isTrue();
        }
        // over polling: the check-in answer's command says it too
        s.post("/agent/v1/checkin", agent.token(), "{\"hello\":{\"protocol\":1,\"maxFrameBytes\":1048576,\"features\":[\"dryRun\"]}}");
        String id = s.operatorPost("/api/v1/commands", "{\"commands\":[{\"agentId\":\"dry-agent\",\"action\":\"disk.initialize\","
            + "\"params\":{},\"dryRun\":true}]}").object().getAsJsonArray("commands").get(0).getAsJsonObject().get("id").getAsString();
        // (the commands the WebSocket agent never accepted come again before it)
        JsonObject polled = s.post("/agent/v1/checkin", agent.token(), "{}").object().getAsJsonArray("commands").asList().stream()
            .map(c -> c.getAsJsonObject()).filter(c -> c.get("id").getAsString().equals(id)).findFirst().orElseThrow();
        assertThat(polled.get("dryRun").getAsBoolean()).isTrue();
        // the same id as a real run is another command
        Response conflict = s.operatorPost("/api/v1/commands", "{\"agentId\":\"dry-agent\",\"action\":\"disk.initialize\",\"id\":\"" + id + "\"}");
        assertThat(conflict.status()).isEqualTo(409);
    }

    @Test
    void aDryRunIsRefusedForAnAgentThatDoesNotKnowDryRuns() throws Exception {
        // enrolled, never connected: nothing says it knows dry runs
        Response never = s.operatorPost("/api/v1/commands", "{\"agentId\":\"dry-agent\",\"action\":\"disk.extend\",\"dryRun\":true}");
        assertThat(never.status()).as(never.body()).isEqualTo(409);
        assertThat(never.object().get("error").getAsString()).contains("dryRun: agent 'dry-agent' has not said it knows dry runs")
            .contains("would run the command for real");
        // its hello predates dry runs (no dryRun among its features): an older agent ignores dryRun, so it is refused
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            Response old = s.operatorPost("/api/v1/commands", "{\"all\":true,\"action\":\"disk.extend\",\"dryRun\":true}");
            assertThat(old.status()).as(old.body()).isEqualTo(409);
            assertThat(old.object().get("error").getAsString()).contains("last hello's features do not list dryRun");
            Response bad = s.operatorPost("/api/v1/commands", "{\"agentId\":\"dry-agent\",\"action\":\"disk.extend\",\"dryRun\":\"yes\"}");
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.object().get("error").getAsString()).contains("dryRun must be true or false");
        }
    }

    @Test
    void errorCodeIsKeptWhereverResultsAppear() throws Exception {
        String ws;
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId(), 1 << 20);
            CompletableFuture<Void> answered = CompletableFuture.runAsync(() -> {
                try {
                    String id = a.expect("command").get("id").getAsString();
                    a.send("{\"type\":\"result\",\"id\":\"" + id + "\",\"status\":\"rejected\",\"output\":\"\",\"outputTruncated\":false,"
                        + "\"error\":\"unknown action 'nope.x'; known actions: agent.ping\",\"errorCode\":\"unknown_action\"}");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            StringWriter out = new StringWriter();
            assertThat(ctl(out, "send", "dry-agent", "nope.x", "--wait", "10")).isEqualTo(1);
            answered.get(10, TimeUnit.SECONDS);
            JsonObject line = JsonParser.parseString(out.toString().strip()).getAsJsonObject();
            assertThat(line.get("errorCode").getAsString()).isEqualTo("unknown_action");
            ws = line.get("id").getAsString();
        }
        String polled = s.command(agent.agentId(), "agent.ping", "{}");
        s.post("/agent/v1/checkin", agent.token(), "{\"results\":[{\"id\":\"" + polled + "\",\"status\":\"timed_out\",\"output\":\"\","
            + "\"outputTruncated\":false,\"error\":\"timed out after 5 s\",\"errorCode\":\"timed_out\"}]}");
        s.post("/agent/v1/reports", agent.token(), "{\"results\":[{\"id\":\"offline-1\",\"status\":\"failed\",\"output\":\"\","
            + "\"error\":\"exit 3\",\"errorCode\":\"nonzero_exit\",\"exitCode\":3}]}");

        assertThat(s.commandView(ws).getAsJsonObject("result").get("errorCode").getAsString()).isEqualTo("unknown_action");
        assertThat(s.commandView(polled).getAsJsonObject("result").get("errorCode").getAsString()).isEqualTo("timed_out");
        assertThat(s.operatorPost("/api/v1/results/query", "{\"ids\":[\"" + polled + "\"]}").object().getAsJsonArray("results").get(0)
            .getAsJsonObject().get("errorCode").getAsString()).isEqualTo("timed_out");
        StringWriter listed = new StringWriter();
        assertThat(ctl(listed, "results", "--agent", "dry-agent")).isZero();
        assertThat(listed.toString().lines().map(l -> JsonParser.parseString(l).getAsJsonObject().get("errorCode").getAsString()))
            .containsExactly("nonzero_exit", "timed_out", "unknown_action");
    }
}
