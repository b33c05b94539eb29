package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** The reference server (bin/outpost-server) on loopback, and bin/outpostctl against it. */
final class ServerProcess implements AutoCloseable {
    static final Path SERVER = AgentProcess.HOME.resolve("bin/outpost-server");
    static final Path CTL = AgentProcess.HOME.resolve("bin/outpostctl");

    final Path dir;
    final AgentProcess process;
    /** Extra outpostctl options, e.g. a client certificate for a server that requires one. */
    final List<String> ctlOptions = new ArrayList<>();

    private ServerProcess(Path dir, AgentProcess process) {
        this.dir = dir;
        this.process = process;
    }

    /** Starts the server on a free port (or the given one) and waits until it wrote its URL. */
    static ServerProcess start(Path dir, int port, String... extra) throws Exception {
        assertThat(AgentProcess.HOME.resolve("server/target/outpost-server.jar")).as("the server jar (mvn package)").exists();
        Files.deleteIfExists(dir.resolve("server.url"));
        // polling agents check in every 2 s (the default 30 s would make each poll test wait most of a minute)
        List<String> args = new ArrayList<>(List.of(SERVER.toString(), "--data-dir", dir.toString(), "--port", "" + port,
            "--check-in-interval", "2"));
        args.addAll(List.of(extra));
        AgentProcess p = AgentProcess.startCommand(args);
        ServerProcess s = new ServerProcess(dir, p);
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(dir.resolve("server.url")) && System.nanoTime() < end) {
            assertThat(p.process.isAlive()).as("server died: %s", p.stderr()).isTrue();
            Thread.sleep(50);
        }
        assertThat(dir.resolve("server.url")).as("server wrote server.url; stderr: %s", p.stderr()).exists();
        return s;
    }

    String url() throws IOException { return Files.readString(dir.resolve("server.url")).trim(); }

    int port() throws IOException { return java.net.URI.create(url()).getPort(); }

    /** An agent config that joins this server. */
    String agentConfig(String transport, String extra) throws IOException {
        return "{\"server_url\": \"" + url() + "\", \"server_ca\": \"" + dir.resolve("ca.pem") + "\","
            + " \"enrollment_token\": \"" + Files.readString(dir.resolve("enrollment.token")).trim() + "\","
            + " \"transport\": \"" + transport + "\", \"check_in_interval\": 5, \"max_backoff_seconds\": 2"
            + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    /** Runs bin/outpostctl --server-dir DIR ARGS and returns it finished. */
    AgentProcess ctl(Duration limit, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(CTL.toString(), "--server-dir", dir.toString()));
        cmd.addAll(ctlOptions);
        cmd.addAll(List.of(args));
        AgentProcess p = AgentProcess.startCommand(cmd);
        p.process.getOutputStream().close();
        return p.awaitExit(limit, "outpostctl " + List.of(args));
    }

    JsonArray agents() throws Exception {
        AgentProcess p = ctl(Duration.ofSeconds(30), "agents");
        assertThat(p.exitCode()).as(p.stderr()).isZero();
        return JsonParser.parseString(p.stdout()).getAsJsonArray();
    }

    /** Waits until an agent is listed as connected (WebSocket) or has been seen (poll); returns its id. */
    String awaitAgent(Duration limit, boolean connected) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            for (JsonElement e : agents()) {
                JsonObject a = e.getAsJsonObject();
                boolean ok = !connected || (a.has("connected") && a.get("connected").getAsBoolean());
                if (ok && a.has("lastSeen") && !a.get("lastSeen").isJsonNull()) return a.get("agentId").getAsString();
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no agent " + (connected ? "connected" : "seen") + " within " + limit + ": " + agents());
    }

    /** outpostctl send ... --wait: the result lines, parsed. */
    List<JsonObject> send(Duration wait, String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of("send"));
        a.addAll(List.of(args));
        a.addAll(List.of("--wait", "" + wait.toSeconds()));
        AgentProcess p = ctl(wait.plusSeconds(30), a.toArray(new String[0]));
        List<JsonObject> out = new ArrayList<>();
        for (String line : p.stdout().split("\n")) {
            if (!line.isBlank()) out.add(JsonParser.parseString(line).getAsJsonObject());
        }
        return out;
    }

    JsonObject command(String id) throws Exception {
        AgentProcess p = ctl(Duration.ofSeconds(30), "command", id);
        assertThat(p.exitCode()).as(p.stderr()).isZero();
        return JsonParser.parseString(p.stdout()).getAsJsonObject();
    }

    void stop() throws Exception {
        process.process.destroy();
        assertThat(process.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    }

    @Override
    public void close() throws Exception {
        process.close();
    }
}
