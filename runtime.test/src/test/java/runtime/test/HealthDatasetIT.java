package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * plugin.health and plugin.dataset in the exported agent against the reference server, as an operator sees them through
 * outpostctl: a filesystem filling past its threshold opens an alert in {@code outpostctl health} and emptying it closes
 * it; {@code outpostctl inventory --refresh} shows this host; {@code outpostctl dataset push} installs a data set the
 * server serves, byte for byte, and a second push changes nothing.
 */
class HealthDatasetIT {
    static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out.strip();
    }

    private static JsonObject json(AgentProcess p) {
        assertThat(p.stdout()).as(p.stderr()).isNotBlank();
        return JsonParser.parseString(p.stdout()).getAsJsonObject();
    }

    /** Polls {@code outpostctl health AGENT} until the answer satisfies the condition; returns that answer. */
    private static JsonObject awaitHealth(ServerProcess server, String agentId, String what, Predicate<JsonObject> condition) throws Exception {
        long end = System.nanoTime() + T.toNanos();
        JsonObject h = null;
        while (System.nanoTime() < end) {
            AgentProcess p = server.ctl(Duration.ofSeconds(30), "health", agentId);
            if (p.exitCode() == 0) {
                h = json(p);
                if (condition.test(h)) return h;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("outpostctl health " + agentId + " never showed " + what + "; last: " + h);
    }

    private static boolean alertOpenFor(JsonObject health, String mountPoint) {
        for (JsonElement a : health.getAsJsonArray("openAlerts")) {
            JsonObject o = a.getAsJsonObject();
            if (o.get("alert").getAsString().equals("filesystem_used_percent") && mountPoint.equals(o.get("subject").getAsString())) return true;
        }
        return false;
    }

    @Test
    void aFillingFilesystemOpensAnAlertThatClosesWhenItIsEmptiedAndTheInventoryDescribesThisHost() throws Exception {
        // a small ext4 of our own, so that the test decides how full it is
        Path image = dir.resolve("fs.img");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(16L << 20);
        }
        run("mkfs.ext4", "-q", "-F", "-m", "0", image.toString());
        run("mount", "-o", "loop", image.toString(), mnt.toString());
        ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
        try {
            Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket",
                "\"health\": {\"interval_seconds\": 1, \"thresholds\": {\"filesystem_used_percent\": {\"value\": 80, \"clear\": 50}}}"));
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString())) {
                String agentId = server.awaitAgent(T, true);
                JsonObject first = awaitHealth(server, agentId, "a snapshot listing " + mnt, h -> h.get("snapshot").isJsonObject()
                    && h.toString().contains("\"" + mnt + "\""));
                assertThat(alertOpenFor(first, mnt.toString())).as("an empty filesystem has no alert: " + first).isFalse();

                // past 80 % used
                FileStore store = Files.getFileStore(mnt);
                long fill = store.getUsableSpace() - store.getTotalSpace() / 20;
                Path big = mnt.resolve("big");
                try (OutputStream out = Files.newOutputStream(big)) {
                    byte[] block = new byte[1 << 16];
                    for (long w = 0; w < fill; w += block.length) out.write(block, 0, (int) Math.min(block.length, fill - w));
                }
                run("sync", "-f", big.toString());
                JsonObject firing = awaitHealth(server, agentId, "an open alert for " + mnt, h -> alertOpenFor(h, mnt.toString()));
                JsonObject alert = null;
                for (JsonElement a : firing.getAsJsonArray("openAlerts")) if (mnt.toString().equals(a.getAsJsonObject().get("subject").getAsString())) alert = a.getAsJsonObject();
                assertThat(alert.get("value").getAsDouble()).isGreaterThanOrEqualTo(80.0);
                assertThat(alert.get("threshold").getAsDouble()).isEqualTo(80.0);

                Files.delete(big);
                run("sync", "-f", mnt.toString());
                awaitHealth(server, agentId, "the alert for " + mnt + " closed", h -> !alertOpenFor(h, mnt.toString()));
                AgentProcess events = server.ctl(T, "events", "--agent", agentId, "--kind", "alert", "--limit", "10000");
                assertThat(events.exitCode()).as(events.stderr()).isZero();
                List<String> states = new ArrayList<>();
                for (String line : events.stdout().split("\n")) {
                    if (!line.startsWith("{")) continue;
                    JsonObject d = JsonParser.parseString(line).getAsJsonObject().getAsJsonObject("data");
                    if (mnt.toString().equals(d.get("subject").getAsString())) states.add(d.get("state").getAsString());
                }
                assertThat(states).as("one firing and one cleared, no flapping").containsExactly("firing", "cleared");

                AgentProcess inv = server.ctl(T.plusSeconds(30), "inventory", "--refresh", agentId, "--wait", "" + T.toSeconds());
                assertThat(inv.exitCode()).as(inv.stderr()).isZero();
                String inventory = json(inv).getAsJsonObject("inventory").toString();
                assertThat(inventory).contains("\"" + run("uname", "-r") + "\"").contains("\"" + run("hostname") + "\"");
            }
        } finally {
            server.close();
            new ProcessBuilder("umount", "-l", mnt.toString()).inheritIO().start().waitFor();
        }
    }

    @Test
    void aDataSetPushedFromTheServerIsInstalledByteForByteAndASecondPushChangesNothing() throws Exception {
        Path content = Files.createDirectories(dir.resolve("content/models"));
        Files.writeString(content.resolve("a.txt"), "alpha\n");
        byte[] binary = new byte[300_000];
        new java.util.Random(7).nextBytes(binary);
        Files.write(content.resolve("b.bin"), binary);
        Path archive = dir.resolve("models-1.0.tar.gz");
        run("tar", "-czf", archive.toString(), "-C", dir.resolve("content").toString(), "models");
        Path target = dir.resolve("srv/models");
        Files.createDirectories(target.getParent());

        ServerProcess server = ServerProcess.start(dir.resolve("server"), 0);
        try {
            Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket",
                "\"health\": {\"interval_seconds\": 0}, \"plugins\": {\"settings\": {\"dataset\": {\"ca_file\": \"" + dir.resolve("server/ca.pem") + "\"}}}"));
            try (AgentProcess agent = AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString())) {
                String agentId = server.awaitAgent(T, true);
                AgentProcess dry = server.ctl(T.plusSeconds(30), "dataset", "push", agentId, "models", "1.0", archive.toString(), target.toString(),
                    "--dry-run", "--wait", "" + T.toSeconds());
                assertThat(dry.stdout()).as(dry.stderr()).contains("\"status\":\"succeeded\"");
                assertThat(Files.exists(target)).as("a dry run changes nothing").isFalse();

                AgentProcess push = server.ctl(T.plusSeconds(30), "dataset", "push", agentId, "models", "1.0", archive.toString(), target.toString(),
                    "--wait", "" + T.toSeconds());
                assertThat(push.stdout()).as(push.stderr()).contains("\"status\":\"succeeded\"").contains("\"changed\":true");
                assertThat(Files.readString(target.resolve("models/a.txt"))).isEqualTo("alpha\n");
                assertThat(Files.readAllBytes(target.resolve("models/b.bin"))).isEqualTo(binary);

                AgentProcess again = server.ctl(T.plusSeconds(30), "dataset", "push", agentId, "models", "1.0", archive.toString(), target.toString(),
                    "--wait", "" + T.toSeconds());
                assertThat(again.stdout()).as(again.stderr()).contains("\"status\":\"succeeded\"").contains("\"changed\":false");

                List<JsonObject> list = server.send(T, agentId, "dataset.list");
                assertThat(list.get(0).get("status").getAsString()).as(list.toString()).isEqualTo("succeeded");
                assertThat(list.get(0).toString()).contains("\"models\"").contains("\"1.0\"");
            }
        } finally {
            server.close();
        }
    }
}
