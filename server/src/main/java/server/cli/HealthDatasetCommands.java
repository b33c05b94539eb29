package server.cli;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.google.gson.JsonObject;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import server.DatasetRepository;

/** {@code outpostctl health}, {@code inventory} and {@code dataset}: plugin.health's and plugin.dataset's views of a fleet. */
final class HealthDatasetCommands {
    private HealthDatasetCommands() {}

    @Command(name = "health", description = {"An agent's latest health snapshot and its open alerts (JSON): health AGENT.",
        "From the agent's health and alert events (plugin.health sends one every health.interval_seconds)."})
    static final class Health implements Callable<Integer> {
        @Mixin OutpostCtl.Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;
        @Parameters(paramLabel = "AGENT") String agent;

        @Override
        public Integer call() throws IOException {
            JsonObject h = conn.client(spec).get("/api/v1/agents/" + OutpostCtl.encode(agent) + "/health").getAsJsonObject();
            OutpostCtl.printJson(spec, h);
            if (h.get("snapshot").isJsonNull()) {
                spec.commandLine().getErr().println("outpostctl: agent " + agent + " has sent no health event yet (its health.interval_seconds"
                    + " may be 0); for a snapshot now: outpostctl send " + agent + " health.report --wait 30");
                return 1;
            }
            return 0;
        }
    }

    @Command(name = "inventory", description = {"An agent's latest inventory (JSON): inventory AGENT.",
        "The data of its latest succeeded health.inventory; --refresh asks for a new one first."})
    static final class Inventory implements Callable<Integer> {
        @Mixin OutpostCtl.Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;
        @Parameters(paramLabel = "AGENT") String agent;
        @Option(names = "--refresh", description = "send health.inventory to the agent and wait for it (see --wait)") boolean refresh;
        @Option(names = "--wait", paramLabel = "SECONDS", description = "with --refresh: how long to wait, default 60") int wait = 60;

        @Override
        public Integer call() throws IOException, InterruptedException {
            ServerClient client = conn.client(spec);
            if (refresh) {
                java.io.StringWriter results = new java.io.StringWriter();
                CommandLine quiet = new CommandLine(CommandLine.Model.CommandSpec.create()); // its result line is not the output
                quiet.setOut(new java.io.PrintWriter(results));
                quiet.setErr(spec.commandLine().getErr());
                int rc = OutpostCtl.sendAndWait(quiet.getCommandSpec(), client, agent, "health.inventory", new JsonObject(), null, null, null, false, wait);
                if (rc != 0) {
                    spec.commandLine().getErr().println("outpostctl: health.inventory did not succeed on " + agent + ": " + results.toString().strip());
                    return 1;
                }
            }
            JsonObject inv = client.get("/api/v1/agents/" + OutpostCtl.encode(agent) + "/inventory").getAsJsonObject();
            OutpostCtl.printJson(spec, inv);
            if (inv.get("inventory").isJsonNull()) {
                spec.commandLine().getErr().println("outpostctl: no inventory from agent " + agent + " yet: outpostctl inventory --refresh " + agent);
                return 1;
            }
            return 0;
        }
    }

    @Command(name = "dataset", description = "Data sets: upload, list, push to agents (plugin.dataset).",
        subcommands = {Dataset.Upload.class, Dataset.ListAll.class, Dataset.Push.class})
    static final class Dataset {
        @Command(name = "upload", description = "Upload a data set file; prints {sha256, name, size, uploadedAt}. Stored by sha256.")
        static final class Upload implements Callable<Integer> {
            @Mixin OutpostCtl.Connection conn;
            @Spec CommandLine.Model.CommandSpec spec;
            @Parameters(paramLabel = "FILE") Path file;
            @Option(names = "--name", paramLabel = "N", description = "the file name agents see (its suffix names the format); default FILE's") String name;

            @Override
            public Integer call() throws IOException {
                if (!Files.isRegularFile(file)) throw new OutpostCtl.ConfigError("'" + file + "' is not a file");
                String n = name != null ? name : file.getFileName().toString();
                OutpostCtl.printJson(spec, conn.client(spec).postFile("/api/v1/datasets?name=" + URLEncoder.encode(n, StandardCharsets.UTF_8),
                    "application/octet-stream", file));
                return 0;
            }
        }

        @Command(name = "list", description = "The uploaded data sets (JSON).")
        static final class ListAll implements Callable<Integer> {
            @Mixin OutpostCtl.Connection conn;
            @Spec CommandLine.Model.CommandSpec spec;

            @Override
            public Integer call() throws IOException {
                OutpostCtl.printJson(spec, conn.client(spec).get("/api/v1/datasets"));
                return 0;
            }
        }

        @Command(name = "push", description = {
            "Install a data set on agents: push AGENT|--all NAME VERSION SHA256 TARGET (dataset.install).",
            "SHA256 is an uploaded data set's (or give a FILE: it is uploaded first). The command's url is the relative path",
            "/agent/v1/datasets/SHA256/NAME: agents fetch it from this server with their own credentials. (For a fetcher without",
            "an agent token, POST /api/v1/datasets/SHA256/url gives a signed URL valid for 7 days.)"})
        static final class Push implements Callable<Integer> {
            @Mixin OutpostCtl.Connection conn;
            @Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--all", description = "every enrolled agent") boolean all;
            @Option(names = "--format", paramLabel = "F", description = "auto (default), tar, tar.gz, tar.zst, zip or file") String format;
            @Option(names = "--keep-previous", description = "keep the version installed before") boolean keepPrevious;
            @Option(names = "--dry-run", description = "only say what the agents would change (docs/protocol.md dryRun)") boolean dryRun;
            @Option(names = "--wait", paramLabel = "SECONDS", description = "wait up to this long for the results") Integer wait;
            @Option(names = "--timeout", paramLabel = "S", description = "timeoutSeconds of the command") Integer timeout;
            @Parameters(paramLabel = "ARGS", description = "AGENT NAME VERSION SHA256 TARGET, or with --all: NAME VERSION SHA256 TARGET")
            List<String> args = new ArrayList<>();

            @Override
            public Integer call() throws IOException, InterruptedException {
                int need = all ? 4 : 5;
                if (args.size() != need) {
                    throw new ParameterException(spec.commandLine(), "usage: dataset push AGENT|--all NAME VERSION SHA256|FILE TARGET");
                }
                String agent = all ? null : args.get(0);
                int i = all ? 0 : 1;
                ServerClient client = conn.client(spec);
                String sha = args.get(i + 2);
                if (!DatasetRepository.isSha256(sha)) {
                    Path f = Path.of(sha);
                    if (!Files.isRegularFile(f)) {
                        throw new ParameterException(spec.commandLine(), "'" + sha + "' is neither a sha256 of an uploaded data set nor a file");
                    }
                    sha = client.postFile("/api/v1/datasets?name=" + URLEncoder.encode(f.getFileName().toString(), StandardCharsets.UTF_8),
                        "application/octet-stream", f).getAsJsonObject().get("sha256").getAsString();
                }
                // a relative url: the agent fetches it from its server with its own credentials (docs/protocol.md §7.1)
                String agentPath = client.get("/api/v1/datasets/" + sha).getAsJsonObject().get("agentPath").getAsString();
                JsonObject params = new JsonObject();
                params.addProperty("name", args.get(i));
                params.addProperty("version", args.get(i + 1));
                params.addProperty("url", agentPath);
                params.addProperty("sha256", sha);
                params.addProperty("target", args.get(i + 3));
                if (format != null) params.addProperty("format", format);
                if (keepPrevious) params.addProperty("keepPrevious", true);
                return OutpostCtl.sendAndWait(spec, client, agent, "dataset.install", params, null, timeout, null, dryRun, wait);
            }
        }
    }
}
