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

import server.TestServer.WsAgent;
import server.cli.OutpostCtl;

class OutpostCtlTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("ctl-agent");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    record Run(int code, String out, String err) {}

    Run ctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = OutpostCtl.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void sendWithWaitPrintsTheResultLineAndExitsZero() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            // the scripted agent answers the first command it gets
            CompletableFuture<Void> answered = CompletableFuture.runAsync(() -> {
                try {
                    JsonObject cmd = a.expect("command");
                    a.send("{\"type\":\"accepted\",\"id\":\"" + cmd.get("id").getAsString() + "\"}");
                    a.send(WsAgent.result(cmd.get("id").getAsString(), "succeeded"));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Run r = ctl("--server-dir", dir.toString(), "send", "ctl-agent", "agent.ping", "{\"echo\":42}", "--id", "ctl-1", "--wait", "10");
            answered.get(10, TimeUnit.SECONDS);
            assertThat(r.code()).as(r.err()).isZero();
            JsonObject line = JsonParser.parseString(r.out().strip()).getAsJsonObject();
            assertThat(line.get("id").getAsString()).isEqualTo("ctl-1");
            assertThat(line.get("agentId").getAsString()).isEqualTo("ctl-agent");
            assertThat(line.get("status").getAsString()).isEqualTo("succeeded");
            assertThat(line.has("receivedAt")).isFalse();

            Run shown = ctl("command", "ctl-1", "--server-dir", dir.toString());
            assertThat(shown.code()).isZero();
            assertThat(JsonParser.parseString(shown.out()).getAsJsonObject().get("state").getAsString()).isEqualTo("done");
        }
    }

    @Test
    void aFailedResultOrNoResultExitsOne() throws Exception {
        Run none = ctl("--server-dir", dir.toString(), "send", "ctl-agent", "agent.ping", "--wait", "1");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("no result within 1 s from agent ctl-agent");

        String id = s.command(agent.agentId(), "agent.ping", "{}");
        s.post("/agent/v1/checkin", agent.token(), "{\"results\":[" + WsAgent.result(id, "failed") + "]}");
        Run results = ctl("--server-dir", dir.toString(), "results", "--agent", "ctl-agent");
        assertThat(results.code()).isZero();
        assertThat(results.out()).contains("\"status\":\"failed\"");
    }

    @Test
    void sendAllWithWaitPrintsTheResultThatCameAndNamesTheAgentThatDidNot() throws Exception {
        s.enroll("ctl-agent-2");
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            CompletableFuture<Void> answered = CompletableFuture.runAsync(() -> {
                try {
                    a.send(WsAgent.result(a.expect("command").get("id").getAsString(), "succeeded"));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            long t0 = System.nanoTime();
            Run r = ctl("--server-dir", dir.toString(), "send", "--all", "agent.ping", "--wait", "2");
            answered.get(10, TimeUnit.SECONDS);
            assertThat(System.nanoTime() - t0).as("waited for the missing one").isGreaterThan(TimeUnit.MILLISECONDS.toNanos(1900));
            assertThat(r.code()).isEqualTo(1);
            assertThat(r.out().strip().lines()).hasSize(1);
            assertThat(JsonParser.parseString(r.out().strip()).getAsJsonObject().get("agentId").getAsString()).isEqualTo("ctl-agent");
            assertThat(r.err()).contains("no result within 2 s from agent ctl-agent-2");
        }
    }

    @Test
    void badUsageAndBadConfigurationExitTwo() {
        assertThat(ctl("--server-dir", dir.toString(), "send").code()).isEqualTo(2);
        assertThat(ctl("--server-dir", dir.toString(), "send", "ctl-agent", "agent.ping", "[1]").code()).isEqualTo(2);
        Run missing = ctl("--server-dir", dir.resolve("nowhere").toString(), "agents");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("server.url");
    }

    @Test
    void agentsListsAndPluginUploadStores() throws Exception {
        Run agents = ctl("--server", s.base.toString(), "--token-file", dir.resolve("operator.token").toString(),
            "--ca", dir.resolve("ca.pem").toString(), "agents");
        assertThat(agents.code()).as(agents.err()).isZero();
        assertThat(JsonParser.parseString(agents.out()).getAsJsonArray()).hasSize(1);

        Path jar = dir.resolve("example.jar");
        java.nio.file.Files.write(jar, OperatorApiTest.jar("plugin.example", "2.0.0"));
        Run up = ctl("--server-dir", dir.toString(), "plugin", "upload", jar.toString());
        assertThat(up.code()).as(up.err()).isZero();
        assertThat(JsonParser.parseString(up.out()).getAsJsonObject().get("bsn").getAsString()).isEqualTo("plugin.example");

        Run push = ctl("--server-dir", dir.toString(), "plugin", "push", "ctl-agent", "install", jar.toString());
        assertThat(push.code()).as(push.err()).isZero();
        String id = JsonParser.parseString(push.out().strip()).getAsJsonObject().get("id").getAsString();
        JsonObject params = s.commandView(id).getAsJsonObject("params");
        assertThat(params.get("url").getAsString()).startsWith("/agent/v1/bundles/");
        assertThat(params.get("sha256").getAsString()).hasSize(64);
        assertThat(params.get("start").getAsBoolean()).isTrue();
    }

    @Test
    void pluginAgentsShowsWhichAgentsRunWhichPluginVersions() throws Exception {
        TestServer.Agent other = s.enroll("ctl-agent-2");
        try (WsAgent a = s.connect(agent.token()); WsAgent b = s.connect(other.token())) {
            a.hello(agent.agentId());
            b.hello(other.agentId());
            // the second agent upgrades its plugin and reports it
            b.send("{\"type\":\"capabilities\",\"plugins\":[{\"bsn\":\"plugin.echo\",\"version\":\"0.2.0\","
                + "\"state\":\"active\",\"actions\":[\"echo.say\"]},{\"bsn\":\"com.google.gson\",\"version\":\"2.13.2\","
                + "\"state\":\"active\",\"actions\":[]}]}");
            TestServer.eventually("the capabilities stored", () -> String.valueOf(s.server.store().agent(other.agentId()).plugins()).contains("0.2.0"));
            Run r = ctl("--server-dir", dir.toString(), "plugin", "agents");
            assertThat(r.code()).as(r.err()).isZero();
            com.google.gson.JsonArray rows = JsonParser.parseString(r.out()).getAsJsonArray();
            assertThat(rows).hasSize(2);
            JsonObject v1 = rows.get(0).getAsJsonObject();
            JsonObject v2 = rows.get(1).getAsJsonObject();
            assertThat(v1.get("version").getAsString()).isEqualTo("0.1.0");
            assertThat(v1.getAsJsonArray("agents").get(0).getAsJsonObject().get("agentId").getAsString()).isEqualTo("ctl-agent");
            assertThat(v2.get("version").getAsString()).isEqualTo("0.2.0");
            assertThat(v2.getAsJsonArray("agents").get(0).getAsJsonObject().get("agentId").getAsString()).isEqualTo("ctl-agent-2");
            assertThat(r.out()).doesNotContain("com.google.gson");

            Run all = ctl("--server-dir", dir.toString(), "plugin", "agents", "--all");
            assertThat(all.out()).contains("com.google.gson");
            Run one = ctl("--server-dir", dir.toString(), "plugin", "agents", "com.google.gson");
            assertThat(JsonParser.parseString(one.out()).getAsJsonArray()).hasSize(1);
        }
    }

    @Test
    void aRemovedPluginIsNoLongerListedOnceItsRemovalSucceeded() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            Run push = ctl("--server-dir", dir.toString(), "plugin", "push", "ctl-agent", "remove", "plugin.echo");
            assertThat(push.code()).as(push.err()).isZero();
            String id = a.expect("command").get("id").getAsString();
            // as the agent does: its capabilities go out while the bundle stops (still listed, serving nothing),
            // then the result once it is uninstalled; no capabilities come after
            a.send("{\"type\":\"capabilities\",\"plugins\":[{\"bsn\":\"plugin.echo\",\"version\":\"0.1.0\",\"state\":\"resolved\","
                + "\"actions\":[]}]}");
            a.send("{\"type\":\"result\",\"id\":\"" + id + "\",\"status\":\"succeeded\",\"output\":\"\",\"outputTruncated\":false,"
                + "\"data\":{\"bsn\":\"plugin.echo\",\"version\":\"0.1.0\"}}");
            a.awaitFrame("ack");
            Run listed = ctl("--server-dir", dir.toString(), "plugin", "agents");
            assertThat(listed.code()).as(listed.err()).isZero();
            assertThat(listed.out()).doesNotContain("plugin.echo");
            assertThat(JsonParser.parseString(listed.out()).getAsJsonArray()).isEmpty();

            // an upgrade's result says the new version at once, too
            String up = s.command(agent.agentId(), "plugin.install", "{\"url\":\"/agent/v1/bundles/x\",\"sha256\":\"x\"}");
            assertThat(a.expect("command").get("id").getAsString()).isEqualTo(up);
            a.send("{\"type\":\"result\",\"id\":\"" + up + "\",\"status\":\"succeeded\",\"output\":\"\",\"outputTruncated\":false,"
                + "\"data\":{\"bsn\":\"plugin.other\",\"version\":\"1.2.0\",\"actions\":[\"other.do\"]}}");
            a.awaitFrame("ack");
            JsonObject row = JsonParser.parseString(ctl("--server-dir", dir.toString(), "plugin", "agents").out()).getAsJsonArray()
                .get(0).getAsJsonObject();
            assertThat(row.get("bsn").getAsString()).isEqualTo("plugin.other");
            assertThat(row.get("version").getAsString()).isEqualTo("1.2.0");
            assertThat(row.getAsJsonArray("agents").get(0).getAsJsonObject().get("state").getAsString()).isEqualTo("active");
        }
    }

    @Test
    void aMistypedCommandNamesTheNearestOneWithAShortUsage() {
        Run r = ctl("--server-dir", dir.toString(), "agnets");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("outpostctl: unknown command 'agnets'; did you mean 'outpostctl agents'?")
            .contains("usage: outpostctl").contains("events").contains("see 'outpostctl --help'")
            .doesNotContain("Unmatched argument").doesNotContain("--token-file");
        assertThat(r.err().lines()).hasSizeLessThanOrEqualTo(3);

        Run sub = ctl("--server-dir", dir.toString(), "plugin", "pussh", "x");
        assertThat(sub.code()).isEqualTo(2);
        assertThat(sub.err()).startsWith("outpostctl plugin: unknown command 'pussh'; did you mean 'outpostctl plugin push'?");

        Run far = ctl("frobnicate");
        assertThat(far.code()).isEqualTo(2);
        assertThat(far.err()).startsWith("outpostctl: unknown command 'frobnicate'\n").doesNotContain("did you mean");

        Run none = ctl();
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).startsWith("outpostctl: a command is missing").contains("usage: outpostctl");

        Run badOption = ctl("results", "--limt", "3");
        assertThat(badOption.code()).isEqualTo(2);
        assertThat(badOption.err()).startsWith("outpostctl results: unknown option '--limt'; did you mean '--limit'?").contains("usage: outpostctl results")
            .doesNotContain("only this agent's");
    }
}
