package server.bench;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.cli.ServerClient;

/**
 * How long a pushed plugin takes to serve: from {@code plugin.install} (then {@code plugin.upgrade}) sent through the
 * server to the first successful command of its action (answered by the new version), on a real connected agent.
 * The jar is uploaded beforehand, as an operator does; the agent downloads it from the server.
 * <p>Usage: {@code java -cp outpost-server.jar server.bench.PluginRoundTrip SERVER_DIR PLUGIN_JAR ACTION [ROUNDS]};
 * the plugin's ACTION must answer {@code data.plugin} = "BSN VERSION" (plugin.echo's {@code echo.say} does).
 */
public final class PluginRoundTrip {
    private PluginRoundTrip() {}

    public static void main(String[] args) throws Exception {
        ServerClient api = ServerClient.fromServerDir(Path.of(args[0]));
        Path v1 = Path.of(args[1]);
        String action = args[2];
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        String agent = null;
        for (JsonElement a : api.get("/api/v1/agents").getAsJsonArray()) {
            if (a.getAsJsonObject().get("connected").getAsBoolean()) agent = a.getAsJsonObject().get("agentId").getAsString();
        }
        if (agent == null) throw new IllegalStateException("no agent is connected to the server in " + args[0]);
        Path v2 = withVersion(v1, "99.0.0");
        JsonObject up1 = api.postBytes("/api/v1/bundles", "application/java-archive", Files.readAllBytes(v1)).getAsJsonObject();
        JsonObject up2 = api.postBytes("/api/v1/bundles", "application/java-archive", Files.readAllBytes(v2)).getAsJsonObject();
        String bsn = up1.get("bsn").getAsString();

        long[] install = new long[rounds];
        long[] upgrade = new long[rounds];
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            expect(api, agent, "plugin.install", bundle(up1), "succeeded");
            awaitServedBy(api, agent, action, bsn + " " + up1.get("version").getAsString());
            install[i] = System.nanoTime() - t0;

            t0 = System.nanoTime();
            expect(api, agent, "plugin.upgrade", bundle(up2), "succeeded");
            awaitServedBy(api, agent, action, bsn + " 99.0.0");
            upgrade[i] = System.nanoTime() - t0;

            JsonObject rm = new JsonObject();
            rm.addProperty("bsn", bsn);
            expect(api, agent, "plugin.remove", rm, "succeeded");
        }
        Files.deleteIfExists(v2);
        System.out.printf("plugin.install → first %s answered (%d rounds): median %.0f ms, max %.0f ms%n", action, rounds,
            median(install), max(install));
        System.out.printf("plugin.upgrade → first %s answered by the new version: median %.0f ms, max %.0f ms%n", action,
            median(upgrade), max(upgrade));
    }

    private static JsonObject bundle(JsonObject uploaded) {
        JsonObject p = new JsonObject();
        p.addProperty("url", uploaded.get("url").getAsString());
        p.addProperty("sha256", uploaded.get("sha256").getAsString());
        return p;
    }

    /** Sends the action until a result says the expected version answered (earlier ones are rejected or old). */
    private static void awaitServedBy(ServerClient api, String agent, String action, String plugin) throws Exception {
        JsonObject params = new JsonObject();
        params.addProperty("message", "bench");
        for (int attempt = 0; attempt < 2000; attempt++) {
            JsonObject r = await(api, send(api, agent, action, params));
            if ("succeeded".equals(r.get("status").getAsString())
                && plugin.equals(r.getAsJsonObject("data").get("plugin").getAsString())) {
                return;
            }
        }
        throw new IllegalStateException(plugin + " never answered " + action);
    }

    private static void expect(ServerClient api, String agent, String action, JsonObject params, String status) throws Exception {
        JsonObject r = await(api, send(api, agent, action, params));
        if (!status.equals(r.get("status").getAsString())) throw new IllegalStateException(action + " ended " + r);
    }

    private static String send(ServerClient api, String agent, String action, JsonObject params) throws Exception {
        JsonObject c = new JsonObject();
        c.addProperty("agentId", agent);
        c.addProperty("action", action);
        c.add("params", params);
        return api.post("/api/v1/commands", c).getAsJsonObject().getAsJsonArray("commands").get(0).getAsJsonObject()
            .get("id").getAsString();
    }

    private static JsonObject await(ServerClient api, String id) throws Exception {
        JsonObject q = new JsonObject();
        com.google.gson.JsonArray ids = new com.google.gson.JsonArray();
        ids.add(id);
        q.add("ids", ids);
        long end = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < end) {
            List<JsonElement> rs = api.post("/api/v1/results/query", q).getAsJsonObject().getAsJsonArray("results").asList();
            if (!rs.isEmpty()) return rs.get(0).getAsJsonObject();
            Thread.sleep(2);
        }
        throw new IllegalStateException("no result for " + id + " within 60 s");
    }

    /** The same jar under another Bundle-Version: the "new release" of the plugin. */
    private static Path withVersion(Path src, String version) throws Exception {
        Path out = Files.createTempFile("plugin-bench-", ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(src))) {
            Manifest mf = new Manifest(in.getManifest());
            mf.getMainAttributes().putValue("Bundle-Version", version);
            try (OutputStream os = Files.newOutputStream(out); JarOutputStream jos = new JarOutputStream(os, mf)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    jos.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(jos);
                    jos.closeEntry();
                }
            }
        }
        return out;
    }

    private static double median(long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return s[s.length / 2] / 1e6;
    }

    private static double max(long[] nanos) {
        return Arrays.stream(nanos).max().orElse(0) / 1e6;
    }
}
