package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import agent.api.AgentPaths;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;
import plugin.dataset.internal.DatasetInstaller;
import server.cli.OutpostCtl;

/**
 * plugin.dataset against the reference server: a data set uploaded and pushed with outpostctl is installed by the
 * agent's plugin from the server (through its signed URL: the plugin runs here without an agent to fetch the pushed
 * relative path for it), over TLS that trusts the server's CA, and a partial download is resumed with the server's own
 * Range support.
 */
class DatasetFromServerTest {
    @TempDir
    Path dir;

    private static String run(Path cwd, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s (package tar): %s", cmd[0], out).isZero();
        return out;
    }

    private static Outcome install(JsonObject params, Path caPem, Path dataDir) throws Exception {
        DatasetInstaller d = new DatasetInstaller();
        Field paths = DatasetInstaller.class.getDeclaredField("paths"); // a DS reference: set as the agent would inject it
        paths.setAccessible(true);
        paths.set(d, new AgentPaths() {
            @Override
            public Path dataDir() { return dataDir; }

            @Override
            public Path pluginDir(String name) {
                try {
                    return Files.createDirectories(dataDir.resolve("plugins-data").resolve(name));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }

            @Override
            public Path scriptsDir() { return dataDir.resolve("scripts"); }

            @Override
            public Path runDir() { return dataDir.resolve("run"); }
        });
        Map<String, Object> p = new java.util.LinkedHashMap<>();
        for (String k : params.keySet()) {
            p.put(k, params.get(k).isJsonPrimitive() && params.get(k).getAsJsonPrimitive().isBoolean() ? params.get(k).getAsBoolean()
                : params.get(k).getAsString());
        }
        return TestContext.forAction("dataset.install").params(p).setting("ca_file", caPem.toString()).setting("retry_delay_ms", 10).run(d);
    }

    @Test
    void aDataSetPushedWithOutpostctlIsInstalledByThePluginFromTheServer() throws Exception {
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("tables"));
        byte[] blob = new byte[2_000_000];
        new Random(11).nextBytes(blob);
        Files.write(src.resolve("tables/blob.bin"), blob);
        Files.writeString(src.resolve("README"), "reference data\n");
        run(dir, "tar", "-czf", dir.resolve("ref.tar.gz").toString(), "-C", src.toString(), ".");
        byte[] tgz = Files.readAllBytes(dir.resolve("ref.tar.gz"));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(tgz));

        try (TestServer s = TestServer.start(dir.resolve("server"))) {
            TestServer.Agent agent = s.enroll("dataset-e2e");
            Path target = dir.resolve("host/srv/data/ref");
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = OutpostCtl.run(new String[] {"--server-dir", s.dir.toString(), "dataset", "push", agent.agentId(), "ref", "1",
                dir.resolve("ref.tar.gz").toString(), target.toString()}, new PrintWriter(out, true), new PrintWriter(err, true));
            assertThat(code).as(err.toString()).isZero();
            String id = JsonParser.parseString(out.toString().strip()).getAsJsonObject().get("id").getAsString();
            JsonObject params = s.commandView(id).getAsJsonObject("params");
            assertThat(params.get("sha256").getAsString()).isEqualTo(sha);
            // docs/protocol.md §7.1: a relative url, which the agent fetches with its own credentials; this plugin is
            // run here without an agent, so it is given the signed URL that fetchers without an agent token use
            assertThat(params.get("url").getAsString()).isEqualTo("/agent/v1/datasets/" + sha + "/ref.tar.gz");
            String signed = s.operatorPost("/api/v1/datasets/" + sha + "/url", "{}").object().get("path").getAsString();
            params.addProperty("url", s.base.resolve(signed).toString());

            // the agent died after half the file: its part is there, without validators
            Path part = Files.createDirectories(target.resolveSibling(".ref.outpost")).resolve(".download-" + sha + ".part");
            Files.write(part, java.util.Arrays.copyOf(tgz, tgz.length / 2));
            Outcome o = install(params, s.dir.resolve("ca.pem"), dir.resolve("agent"));
            assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
            assertThat(o.output()).contains("(Range: bytes=" + tgz.length / 2 + "-)");
            assertThat(o.dataAsMap()).containsEntry("resumedFrom", (long) (tgz.length / 2)).containsEntry("format", "tar.gz");
            assertThat(Files.readAllBytes(target.resolve("tables/blob.bin"))).isEqualTo(blob);
            assertThat(Files.readString(target.resolve("README"))).isEqualTo("reference data\n");
            assertThat((String) o.dataAsMap().get("url")).as("the signature stays out of records and messages").endsWith("ref.tar.gz?…");
            assertThat(o.output()).doesNotContain("sig=");
        }
    }
}
