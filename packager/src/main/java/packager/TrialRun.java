package packager;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Starts the packaged agent for real before anything is archived: a copy of the distribution, on its own Java (the
 * private runtime, after the step the install runs first: its base class-data archive), in offline mode with the
 * default config, asked for {@code plugin.list}. Every bundle must be active and every plugin must serve actions: a
 * module missing from the private runtime, a component that cannot activate or a config the agent refuses stops the
 * build here, not on a host.
 */
final class TrialRun {
    private static final String LIST_ID = "00000000-0000-4000-8000-00000000000a";

    private TrialRun() {}

    /**
     * @param staged  the distribution folder (left as it is: the trial runs on a copy)
     * @param jdk     the JDK for a distribution on the system's Java
     * @param privateRuntime whether the distribution brings jre/
     * @param bundles the runtime's bundles
     * @param work    a scratch folder
     * @throws PackagerException naming what did not come up
     */
    static void run(Path staged, Jdk jdk, boolean privateRuntime, List<BundleJar> bundles, Path work, Progress progress)
            throws PackagerException {
        Path copy = work.resolve("dist");
        Path data = work.resolve("data");
        try {
            Distribution.copyTree(staged, copy);
            if (privateRuntime) {
                // what install.sh and the postinst do first: the archive the agent's own class-data archive builds on
                Tool.of(copy.resolve("jre/bin/java").toString(), "-Xshare:dump").runOk(Duration.ofMinutes(5),
                    "the private runtime's base class-data archive (java -Xshare:dump)");
            }
            JsonObject config = JsonParser.parseString(Files.readString(copy.resolve("config.json"))).getAsJsonObject();
            if (config.has("server_ca")) config.addProperty("server_ca", copy.resolve("server-ca.pem").toString());
            Path configFile = work.resolve("config.json");
            Files.writeString(configFile, Distribution.JSON.toJson(config), StandardCharsets.UTF_8);
            Path tasks = work.resolve("tasks.json");
            Files.writeString(tasks, "{\"commands\": [{\"id\": \"" + LIST_ID + "\", \"action\": \"plugin.list\"}]}");
            Path report = work.resolve("report.json");
            Tool t = Tool.of(copy.resolve("bin/outpost").toString(), "offline", "--tasks", tasks.toString(), "--report", report.toString(),
                "--config", configFile.toString(), "--data-dir", data.toString());
            if (privateRuntime) {
                t.unset("JAVA_HOME");
            } else {
                t.env("JAVA_HOME", jdk.home().toString());
            }
            progress.detail("run " + String.join(" ", t.argv()));
            Tool.Result r = t.run(Duration.ofMinutes(3));
            if (r.exitCode() != 0 || !Files.exists(report)) {
                throw PackagerException.build("the packaged agent did not run (exit " + r.exitCode() + "):\n" + tail(r.both(), 40));
            }
            List<String> problems = check(Files.readString(report), bundles);
            if (!problems.isEmpty()) {
                throw PackagerException.build("the packaged agent started, but not every bundle came up:\n  " + String.join("\n  ", problems)
                    + "\nthe agent's log:\n" + tail(r.stderr(), 40));
            }
            for (String line : r.stderr().split("\n")) if (line.contains("ready: agent")) progress.detail(line);
        } catch (IOException | RuntimeException e) {
            throw PackagerException.build("the trial run of the packaged agent failed: " + e, e);
        }
    }

    /** @return what is wrong with the plugin.list answer, one line each */
    static List<String> check(String reportJson, List<BundleJar> bundles) {
        List<String> problems = new ArrayList<>();
        JsonObject report = JsonParser.parseString(reportJson).getAsJsonObject();
        JsonObject result = null;
        for (JsonElement e : report.getAsJsonArray("results")) {
            if (LIST_ID.equals(e.getAsJsonObject().get("id").getAsString())) result = e.getAsJsonObject();
        }
        if (result == null || !"succeeded".equals(result.get("status").getAsString())) {
            problems.add("plugin.list did not succeed: " + result);
            return problems;
        }
        Map<String, JsonObject> seen = new HashMap<>();
        for (JsonElement e : result.getAsJsonArray("data")) seen.put(e.getAsJsonObject().get("bsn").getAsString(), e.getAsJsonObject());
        for (BundleJar b : bundles) {
            JsonObject p = seen.get(b.bsn());
            if (p == null) {
                problems.add(b.bsn() + " is not installed (" + b.origin() + ")");
            } else if (!"active".equals(p.get("state").getAsString())) {
                problems.add(b.bsn() + " is " + p.get("state").getAsString() + (p.has("error") ? ": " + p.get("error").getAsString() : "")
                    + " (" + b.origin() + ")");
            } else if (b.plugin() && ((JsonArray) p.get("actions")).isEmpty()) {
                problems.add(b.bsn() + " is active but serves no actions: its components did not activate (" + b.origin() + ")");
            }
        }
        return problems;
    }

    private static String tail(String text, int lines) {
        String[] l = text.split("\n");
        return String.join("\n", java.util.Arrays.asList(l).subList(Math.max(0, l.length - lines), l.length));
    }
}
