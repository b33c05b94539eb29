package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;

import com.google.gson.JsonObject;

import server.cli.ServerClient;
import server.pki.Pem;
import server.pki.Pki;

/** The exported agent against the reference server on loopback, with the TLS material the server made. */
class ServerEndToEndIT {
    static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private AgentProcess agent(ServerProcess server, String transport, String name) throws Exception {
        Path config = AgentProcess.write(dir.resolve(name + ".json"), server.agentConfig(transport, ""));
        return AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve(name).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "poll"})
    void commandsAndResultsFlowOverTheTransport(String transport) throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             AgentProcess agent = agent(server, transport, "agent")) {
            String agentId = server.awaitAgent(T, transport.equals("websocket"));
            assertThat(Files.getPosixFilePermissions(dir.resolve("agent/credentials.json")))
                .extracting(Object::toString).containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");

            List<JsonObject> ping = server.send(T, agentId, "agent.ping", "{\"echo\": {\"n\": 1}}");
            assertThat(ping).singleElement().satisfies(r -> {
                assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded");
                assertThat(r.getAsJsonObject("data").getAsJsonObject("echo").get("n").getAsInt()).isEqualTo(1);
            });
            List<JsonObject> info = server.send(T, agentId, "agent.info");
            assertThat(info.get(0).getAsJsonObject("data").get("mode").getAsString()).isEqualTo("run");
            List<JsonObject> unknown = server.send(T, agentId, "nope.nothing");
            assertThat(unknown.get(0).get("status").getAsString()).isEqualTo("rejected");
            assertThat(unknown.get(0).get("errorCode").getAsString()).isEqualTo("unknown_action");
            assertThat(unknown.get(0).get("error").getAsString()).contains("known actions: agent.info, agent.ping");
        }
    }

    @Test
    void aPluginPushedThroughTheServerIsInstalledUpgradedAndRemovedOnARunningAgent() throws Exception {
        Path v1 = Path.of(System.getProperty("plugin.echo.jar"));
        String second = PluginJars.above(v1, 2);
        Path v2 = PluginJars.variant(dir, second, null);
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             AgentProcess agent = agent(server, "websocket", "agent")) {
            String agentId = server.awaitAgent(T, true);
            List<JsonObject> installed = pluginPush(server, agentId, "install", v1.toString());
            assertThat(installed.get(0).get("status").getAsString()).as(installed.toString()).isEqualTo("succeeded");
            assertThat(installed.get(0).getAsJsonObject("data").getAsJsonArray("actions").toString()).contains("echo.say");
            List<JsonObject> said = server.send(T, agentId, "echo.say", "{\"message\": \"pushed\"}");
            assertThat(said.get(0).getAsJsonObject("data").get("message").getAsString()).isEqualTo("pushed");
            // capabilities: the server learns the new plugin list without a reconnect
            long end = System.nanoTime() + T.toNanos();
            while (!server.agents().toString().contains("echo.say") && System.nanoTime() < end) Thread.sleep(200);
            assertThat(server.agents().toString()).contains("plugin.echo").contains("echo.say");

            // commands for the plugin keep arriving while it is upgraded: none may be lost, rejected or fail
            ServerClient api = ServerClient.fromServerDir(dir.resolve("server"));
            List<String> during = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            java.util.concurrent.atomic.AtomicBoolean upgrading = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread sender = new Thread(() -> {
                try {
                    while (upgrading.get()) {
                        during.add(post(api, agentId, "echo.say", "{\"message\": \"during\"}"));
                        Thread.sleep(5);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            sender.start();
            assertThat(pluginPush(server, agentId, "upgrade", v2.toString()).get(0).get("status").getAsString()).isEqualTo("succeeded");
            upgrading.set(false);
            sender.join();
            assertThat(during).hasSizeGreaterThan(10);
            List<JsonObject> results = awaitResults(api, during);
            assertThat(results).hasSameSizeAs(during)
                .allSatisfy(r -> assertThat(r.get("status").getAsString()).as(r.toString()).isEqualTo("succeeded"));
            assertThat(server.send(T, agentId, "echo.say", "{\"message\": \"v2\"}").get(0).getAsJsonObject("data")
                .get("plugin").getAsString()).isEqualTo("plugin.echo " + second);

            // a broken upgrade (an import nothing exports) is rolled back: the second version keeps answering
            List<JsonObject> broken = pluginPush(server, agentId, "upgrade", PluginJars.variant(dir, PluginJars.above(v1, 3),
                "does.not.exist;version=\"[1,2)\"").toString());
            assertThat(broken.get(0).get("status").getAsString()).isEqualTo("failed");
            assertThat(broken.get(0).get("error").getAsString()).contains(second + " is back").contains("does.not.exist");
            assertThat(server.send(T, agentId, "echo.say", "{\"message\": \"still\"}").get(0).getAsJsonObject("data")
                .get("plugin").getAsString()).isEqualTo("plugin.echo " + second);
        }
        // the installed state survives a restart of the agent, and the server hears it in the hello
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             AgentProcess agent = agent(server, "websocket", "agent")) {
            String agentId = server.awaitAgent(T, true);
            assertThat(server.send(T, agentId, "echo.say", "{\"message\": \"after restart\"}").get(0)
                .getAsJsonObject("data").get("plugin").getAsString()).isEqualTo("plugin.echo " + second);
            assertThat(server.agents().toString()).contains("plugin.echo");

            assertThat(pluginPush(server, agentId, "remove", "plugin.echo").get(0).get("status").getAsString()).isEqualTo("succeeded");
            assertThat(server.send(T, agentId, "echo.say", "{}").get(0).get("status").getAsString()).isEqualTo("rejected");
        }
    }

    private static List<JsonObject> awaitResults(ServerClient api, List<String> ids) throws Exception {
        JsonObject q = new JsonObject();
        com.google.gson.JsonArray a = new com.google.gson.JsonArray();
        ids.forEach(a::add);
        q.add("ids", a);
        List<JsonObject> out = new java.util.ArrayList<>();
        long end = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < end) {
            out.clear();
            api.post("/api/v1/results/query", q).getAsJsonObject().getAsJsonArray("results")
                .forEach(r -> out.add(r.getAsJsonObject()));
            if (out.size() == ids.size()) break;
            Thread.sleep(200);
        }
        return out;
    }

    private static String post(ServerClient api, String agentId, String action, String params) throws Exception {
        JsonObject c = new JsonObject();
        c.addProperty("agentId", agentId);
        c.addProperty("action", action);
        c.add("params", com.google.gson.JsonParser.parseString(params));
        return api.post("/api/v1/commands", c).getAsJsonObject().getAsJsonArray("commands").get(0).getAsJsonObject()
            .get("id").getAsString();
    }

    private static List<JsonObject> pluginPush(ServerProcess server, String agentId, String op, String what) throws Exception {
        AgentProcess p = server.ctl(T.plusSeconds(30), "plugin", "push", agentId, op, what, "--wait", "" + T.toSeconds());
        List<JsonObject> out = new java.util.ArrayList<>();
        for (String line : p.stdout().split("\n")) {
            if (line.startsWith("{")) out.add(com.google.gson.JsonParser.parseString(line).getAsJsonObject());
        }
        assertThat(out).as("outpostctl plugin push %s %s: %s %s", op, what, p.stdout(), p.stderr()).isNotEmpty();
        return out;
    }

    @Test
    void oneShotModeChecksInRunsWhatItGotDeliversAndExits() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            Path config = AgentProcess.write(dir.resolve("once.json"), server.agentConfig("websocket", ""));
            String[] once = {"once", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString(), "--wait", "1"};
            AgentProcess first = AgentProcess.run(T, once); // enrols; nothing to do yet
            assertThat(first.exitCode()).as(first.stderr()).isZero();
            assertThat(first.stderr()).contains("everything delivered");
            String agentId = server.awaitAgent(T, false);

            String id = UUID.randomUUID().toString();
            server.ctl(T, "send", agentId, "agent.ping", "{\"echo\": \"cron\", \"sleepMs\": 500}", "--id", id, "--wait", "1");
            AgentProcess second = AgentProcess.run(T, once);
            assertThat(second.exitCode()).as(second.stderr()).isZero();
            JsonObject result = awaitResult(server, id);
            assertThat(result.get("status").getAsString()).isEqualTo("succeeded");
            assertThat(result.getAsJsonObject("data").get("echo").getAsString()).isEqualTo("cron");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "poll"})
    void theAgentReachesTheServerThroughAnHttpsProxy(String transport) throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             ConnectProxy proxy = new ConnectProxy()) {
            Path config = AgentProcess.write(dir.resolve("agent.json"),
                server.agentConfig(transport, "\"https_proxy\": \"" + proxy.url() + "\""));
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString())) {
                String agentId = server.awaitAgent(T, transport.equals("websocket"));
                assertThat(server.send(T, agentId, "agent.ping", "{\"echo\": \"via proxy\"}").get(0).get("status").getAsString())
                    .isEqualTo("succeeded");
                String target = "127.0.0.1:" + server.port();
                assertThat(proxy.connects).isNotEmpty().allMatch(target::equals);
                // nothing went around it: with the proxy gone, the agent loses the server
                int mark = agent.stderrMark();
                proxy.close();
                agent.awaitStderr(transport.equals("websocket") ? "connection lost" : "check-in at " + server.url() + " failed", T, mark);
            }
        }
    }

    @Test
    void aCommandLostInTransitAndThenCancelledEndsCancelledWithoutRunning() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             ConnectProxy network = new ConnectProxy()) {
            Path config = AgentProcess.write(dir.resolve("agent.json"),
                server.agentConfig("websocket", "\"https_proxy\": \"" + network.url() + "\""));
            String id = UUID.randomUUID().toString();
            String agentId;
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString())) {
                agentId = server.awaitAgent(T, true);
                network.freeze(); // the server still thinks the agent is connected: what it sends now is lost
                server.ctl(T, "send", agentId, "agent.ping", "{\"sleepMs\": 120000}", "--id", id, "--wait", "1");
                assertThat(server.command(id).get("state").getAsString()).isEqualTo("dispatched");
                server.ctl(T, "cancel", id);
                agent.process.destroyForcibly();
                assertThat(agent.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            }
            try (AgentProcess again = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString())) {
                // after its hello the server sends the command again, then its cancel
                JsonObject result = awaitResult(server, id);
                assertThat(result.get("status").getAsString()).as(result.toString()).isEqualTo("cancelled");
            assertThat(result.get("errorCode").getAsString()).isEqualTo("cancelled");
                assertThat(result.get("errorCode").getAsString()).isEqualTo("cancelled");
                assertThat(result.get("startedAt")).as("it never started: %s", result).satisfiesAnyOf(
                    v -> assertThat(v).isNull(), v -> assertThat(v.isJsonNull()).isTrue());
            }
        }
    }

    @Test
    void aPollingAgentWhoseTokenIsRefusedWaitsTheLongestBackoffAndSaysWhy() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            try (AgentProcess agent = agent(server, "poll", "agent")) {
                server.awaitAgent(T, false);
            }
            Path credentials = dir.resolve("agent/credentials.json");
            JsonObject c = com.google.gson.JsonParser.parseString(Files.readString(credentials)).getAsJsonObject();
            c.addProperty("agentToken", "a-token-the-server-never-issued");
            Files.writeString(credentials, c.toString());
            try (AgentProcess again = agent(server, "poll", "agent")) {
                // max_backoff_seconds is 2 in these tests: the cap at once, not the 1 s a first failure waits
                String refused = "refused the agent's credentials (HTTP 401); retrying in 2 s";
                again.awaitStderr(refused, T);
                long first = System.nanoTime();
                again.awaitStderrCount(refused, 3, T);
                assertThat(Duration.ofNanos(System.nanoTime() - first)).as("bounded: one try per 2 s; stderr:%n%s", again.stderr())
                    .isGreaterThan(Duration.ofMillis(3500));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "poll"})
    void aRunningCommandCancelledThroughTheServerEndsCancelledOnTheAgent(String transport) throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             AgentProcess agent = agent(server, transport, "agent")) {
            String agentId = server.awaitAgent(T, transport.equals("websocket"));
            String id = UUID.randomUUID().toString();
            long t0 = System.nanoTime();
            server.ctl(T, "send", agentId, "agent.ping", "{\"sleepMs\": 120000}", "--id", id, "--wait", "1");
            awaitState(server, id, "accepted");
            // on the agent, not a queued command the server cancels by itself
            assertThat(server.command(id).get("state").getAsString()).isEqualTo("accepted");
            server.ctl(T, "cancel", id);
            JsonObject result = awaitResult(server, id);
            assertThat(result.get("status").getAsString()).as(result.toString()).isEqualTo("cancelled");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("stopped, not run to its end").isLessThan(Duration.ofSeconds(60));
            // the agent goes on
            assertThat(server.send(T, agentId, "agent.ping").get(0).get("status").getAsString()).isEqualTo("succeeded");
        }
    }

    @Test
    void anAgentKilledWhileACommandRunsReportsItInterruptedAfterRestartAndNeverRunsItAgain() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            String id = UUID.randomUUID().toString();
            String agentId;
            try (AgentProcess agent = agent(server, "websocket", "agent")) {
                agentId = server.awaitAgent(T, true);
                server.ctl(T, "send", agentId, "agent.ping", "{\"sleepMs\": 60000}", "--id", id, "--wait", "1");
                // it runs once the agent has accepted it
                awaitState(server, id, "accepted");
                assertThat(server.command(id).get("state").getAsString()).isEqualTo("accepted");
                agent.process.destroyForcibly(); // SIGKILL
                assertThat(agent.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
            }
            try (AgentProcess again = agent(server, "websocket", "agent")) {
                JsonObject result = awaitResult(server, id);
                assertThat(result.get("status").getAsString()).isEqualTo("interrupted");
                assertThat(result.get("errorCode").getAsString()).isEqualTo("interrupted");
                assertThat(result.get("error").getAsString()).contains("restarted");
                // the agent re-sends what it recorded before it answers new commands: once a ping is answered, a second
                // result for the killed command would be in; the first stays
                List<JsonObject> ping = server.send(T, agentId, "agent.ping");
                assertThat(ping.get(0).get("status").getAsString()).isEqualTo("succeeded");
                assertThat(awaitResult(server, id).get("finishedAt")).isEqualTo(result.get("finishedAt"));
            }
        }
    }

    @Test
    void resultsFinishedWhileTheServerIsDownArriveExactlyOnceAfterItReturns() throws Exception {
        Path serverDir = dir.resolve("server");
        ServerProcess server = ServerProcess.start(serverDir, 0);
        int port = server.port();
        String id = UUID.randomUUID().toString();
        try (AgentProcess agent = agent(server, "websocket", "agent")) {
            String agentId = server.awaitAgent(T, true);
            server.ctl(T, "send", agentId, "agent.ping", "{\"sleepMs\": 3000, \"echo\": \"late\"}", "--id", id, "--wait", "1");
            awaitState(server, id, "accepted");
            server.stop();
            agent.awaitStderr("connection lost", T);
            // the command finishes while nobody listens: its result is recorded, not delivered
            AgentStore.awaitFinished(dir.resolve("agent"), id, T);
            try (ServerProcess back = ServerProcess.start(serverDir, port)) {
                JsonObject result = awaitResult(back, id);
                assertThat(result.get("status").getAsString()).isEqualTo("succeeded");
                assertThat(result.getAsJsonObject("data").get("echo").getAsString()).isEqualTo("late");
                AgentProcess results = back.ctl(T, "results", "--agent", agentId);
                assertThat(results.stdout().split(id, -1)).as("the result is stored once: %s", results.stdout()).hasSize(2);
            }
        } finally {
            server.close();
        }
    }

    @Test
    void aBadEnrolmentTokenIsRefusedWithAClearErrorAndABoundedRetry() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            String cfg = server.agentConfig("websocket", "").replaceAll("\"enrollment_token\": \"[^\"]*\"",
                "\"enrollment_token\": \"not-the-token\"");
            Path config = AgentProcess.write(dir.resolve("bad.json"), cfg);
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent").toString())) {
                agent.awaitStderr("enrolment refused", T);
                agent.awaitStderr("check 'enrollment_token'; retrying in 2 s", T);
                assertThat(dir.resolve("agent/credentials.json")).doesNotExist();
                assertThat(server.agents()).isEmpty();
            }
        }
    }

    @Test
    void theWrongCaIsRefusedWithAClearErrorAndABoundedRetry() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
             ServerProcess other = ServerProcess.start(dir.resolve("other"), 0)) {
            String cfg = server.agentConfig("websocket", "").replace(dir.resolve("server/ca.pem").toString(),
                dir.resolve("other/ca.pem").toString());
            Path config = AgentProcess.write(dir.resolve("wrong-ca.json"), cfg);
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("agent").toString())) {
                agent.awaitStderr("TLS handshake failed", T);
                agent.awaitStderr("retrying in", T);
                assertThat(server.agents()).isEmpty();
                assertThat(agent.process.isAlive()).isTrue();
            }
        }
    }

    @Test
    void aServerCertificateForAnotherNameIsRefused() throws Exception {
        Path sd = dir.resolve("server");
        ServerProcess.start(sd, 0).stop(); // makes the CA
        X509Certificate ca = Pem.readCertificates(sd.resolve("ca.pem")).get(0);
        KeyPair kp = Pki.ecKeyPair();
        X509Certificate leaf = Pki.leafCertificate(ca, Pem.readPrivateKey(sd.resolve("ca-key.pem")), kp.getPublic(),
            new X500Name("CN=outpost.invalid"), List.of(new GeneralName(GeneralName.dNSName, "outpost.invalid")),
            KeyPurposeId.id_kp_serverAuth);
        Files.writeString(sd.resolve("server.pem"), Pem.toPem(leaf) + Pem.toPem(ca));
        Pki.writeSecret(sd.resolve("server-key.pem"), pkcs8(kp.getPrivate()));
        try (ServerProcess server = ServerProcess.start(sd, 0);
             AgentProcess agent = agent(server, "websocket", "agent")) {
            agent.awaitStderr("No subject alternative names matching IP address 127.0.0.1", T);
            agent.awaitStderr("retrying in", T);
            assertThat(dir.resolve("agent/credentials.json")).as("enrolment never reached the server").doesNotExist();
        }
    }

    @Test
    void aServerThatRequiresAClientCertificateRefusesAnAgentWithoutOneAndAcceptsOneWithIt() throws Exception {
        KeyPair caKp = Pki.ecKeyPair();
        X509Certificate clientCa = Pki.caCertificate(new X500Name("CN=test client CA"), caKp);
        KeyPair kp = Pki.ecKeyPair();
        X509Certificate client = Pki.leafCertificate(clientCa, caKp.getPrivate(), kp.getPublic(), new X500Name("CN=agent-1"),
            List.of(), KeyPurposeId.id_kp_clientAuth);
        Path caFile = AgentProcess.write(dir.resolve("client-ca.pem"), Pem.toPem(clientCa));
        Path certFile = AgentProcess.write(dir.resolve("client.pem"), Pem.toPem(client));
        Path keyFile = AgentProcess.write(dir.resolve("client-key.pem"), pkcs8(kp.getPrivate()));
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0, "--client-ca", caFile.toString())) {
            server.ctlOptions.addAll(List.of("--cert", certFile.toString(), "--key", keyFile.toString()));
            try (AgentProcess without = agent(server, "websocket", "without")) {
                without.awaitStderr("TLS handshake failed", T);
                without.awaitStderr("retrying in", T);
                assertThat(server.agents()).isEmpty();
            }
            Path config = AgentProcess.write(dir.resolve("with.json"), server.agentConfig("websocket",
                "\"client_cert\": \"" + certFile + "\", \"client_key\": \"" + keyFile + "\""));
            try (AgentProcess with = AgentProcess.start("run", "--config", config.toString(), "--data-dir",
                    dir.resolve("with").toString())) {
                String agentId = server.awaitAgent(T, true);
                assertThat(server.send(T, agentId, "agent.ping").get(0).get("status").getAsString()).isEqualTo("succeeded");
            }
        }
    }

    private static String pkcs8(PrivateKey key) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
            + "\n-----END PRIVATE KEY-----\n";
    }

    /** Waits up to T for the server to record the command in this state; the caller asserts what it needs. */
    private static void awaitState(ServerProcess server, String id, String state) throws Exception {
        long end = System.nanoTime() + T.toNanos();
        while (!state.equals(server.command(id).get("state").getAsString()) && System.nanoTime() < end) {
            Thread.sleep(100);
        }
    }

    private static JsonObject awaitResult(ServerProcess server, String id) throws Exception {
        long end = System.nanoTime() + T.toNanos();
        while (System.nanoTime() < end) {
            JsonObject c = server.command(id);
            if (c.has("result") && c.get("result").isJsonObject()) return c.getAsJsonObject("result");
            Thread.sleep(200);
        }
        throw new AssertionError("no result for " + id + " within " + T + ": " + server.command(id));
    }
}
