package server.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import server.BundleRepository;
import server.http.Json;
import server.pki.Pem;

/**
 * {@code outpostctl}: the operator CLI of the reference server. Exit codes: 0 success, 1 a command or request
 * failed, 2 bad usage or configuration.
 */
@Command(name = "outpostctl", mixinStandardHelpOptions = true, version = "outpostctl 0.1.0",
    description = "Operate an Outpost reference server: list agents, send commands and wait for results, upload plugins.",
    subcommands = {OutpostCtl.Agents.class, OutpostCtl.Send.class, OutpostCtl.ShowCommand.class, OutpostCtl.Cancel.class,
        OutpostCtl.Results.class, OutpostCtl.Events.class, OutpostCtl.Plugin.class, HealthDatasetCommands.Health.class,
        HealthDatasetCommands.Inventory.class, HealthDatasetCommands.Dataset.class, BackupCommands.Backups.class,
        CommandLine.HelpCommand.class},
    exitCodeOnInvalidInput = 2, exitCodeOnExecutionException = 1)
public final class OutpostCtl implements Callable<Integer> {
    /** Connection options given before the subcommand; those given after it win. */
    @Mixin Connection rootConnection;

    /** Bad configuration (a missing file, a wrong option combination): exit 2. */
    static final class ConfigError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ConfigError(String message) {
            super(message);
        }
    }

    /** Where the server is and the credentials to use; every subcommand takes these. */
    static final class Connection {
        @Option(names = "--server-dir", paramLabel = "D", description = "a local server's data dir: reads D/server.url, D/operator.token, D/ca.pem "
            + "(default when no --server: $OUTPOST_SERVER_DATA_DIR, else /var/lib/outpost-server)")
        Path serverDir;
        @Option(names = "--server", paramLabel = "URL", description = "the server's https URL (with --token-file and --ca)")
        URI server;
        @Option(names = "--token-file", paramLabel = "F", description = "file holding the operator token")
        Path tokenFile;
        @Option(names = "--ca", paramLabel = "F", description = "PEM CA certificate to trust for the server")
        Path ca;
        @Option(names = "--cert", paramLabel = "F", description = "PEM client certificate, for a server with --client-ca")
        Path cert;
        @Option(names = "--key", paramLabel = "F", description = "PEM private key of --cert")
        Path key;

        /** This subcommand's options, each falling back to the one given before the subcommand. */
        ServerClient client(CommandLine.Model.CommandSpec spec) {
            Connection root = ((OutpostCtl) spec.root().userObject()).rootConnection;
            Connection c = new Connection();
            c.serverDir = serverDir != null ? serverDir : root.serverDir;
            c.server = server != null ? server : root.server;
            c.tokenFile = tokenFile != null ? tokenFile : root.tokenFile;
            c.ca = ca != null ? ca : root.ca;
            c.cert = cert != null ? cert : root.cert;
            c.key = key != null ? key : root.key;
            return c.client();
        }

        private ServerClient client() {
            if ((cert == null) != (key == null)) throw new ConfigError("--cert and --key go together");
            try {
                if (server != null) {
                    if (serverDir != null) throw new ConfigError("give either --server-dir or --server, not both");
                    if (tokenFile == null || ca == null) throw new ConfigError("--server needs --token-file and --ca");
                    if (!"https".equals(server.getScheme())) throw new ConfigError("--server must be an https:// URL, got '" + server + "'");
                    return new ServerClient(server, ServerClient.readToken(tokenFile), Pem.clientContext(ca, cert, key));
                }
                Path dir = serverDir;
                if (dir == null) {
                    String env = System.getenv("OUTPOST_SERVER_DATA_DIR");
                    dir = Path.of(env == null || env.isBlank() ? "/var/lib/outpost-server" : env);
                }
                URI url = ServerClient.readUrl(dir.resolve("server.url"));
                String token = ServerClient.readToken(tokenFile != null ? tokenFile : dir.resolve("operator.token"));
                return new ServerClient(url, token, Pem.clientContext(ca != null ? ca : dir.resolve("ca.pem"), cert, key));
            } catch (IOException e) {
                throw new ConfigError(e.getMessage());
            }
        }
    }

    /** {@code outpostctl} without a command: a short usage, as for a wrong one. */
    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        err.println("outpostctl: a command is missing");
        shortUsage(spec.commandLine(), err);
        return 2;
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given output streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new OutpostCtl());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(OutpostCtl::badUsage);
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            if (ex instanceof ConfigError) {
                err.println("outpostctl: " + ex.getMessage());
                return 2;
            }
            if (ex instanceof IOException) {
                err.println("outpostctl: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    /**
     * Bad usage: one line saying what is wrong (for a mistyped command, the nearest one), the command's synopsis, and
     * where the whole help is; not picocli's "Unmatched arguments" followed by every option (issue 23, item 19).
     */
    static int badUsage(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        String name = cmd.getCommandSpec().qualifiedName();
        List<String> unmatched = ex instanceof CommandLine.UnmatchedArgumentException u ? u.getUnmatched() : List.of();
        boolean commandExpected = !cmd.getSubcommands().isEmpty() && cmd.getCommandSpec().positionalParameters().isEmpty();
        if (commandExpected && !unmatched.isEmpty() && !unmatched.get(0).startsWith("-")) {
            String typed = unmatched.get(0);
            String nearest = nearest(typed, cmd.getSubcommands().keySet());
            err.println(name + ": unknown command '" + typed + "'" + (nearest == null ? "" : "; did you mean '" + name + " " + nearest + "'?"));
        } else if (!unmatched.isEmpty() && unmatched.get(0).startsWith("--")) {
            String typed = unmatched.get(0).split("=", 2)[0];
            String nearest = nearest(typed, cmd.getCommandSpec().optionsMap().keySet());
            err.println(name + ": unknown option '" + typed + "'" + (nearest == null ? "" : "; did you mean '" + nearest + "'?"));
        } else {
            err.println(name + ": " + ex.getMessage());
        }
        shortUsage(cmd, err);
        return 2;
    }

    private static void shortUsage(CommandLine cmd, PrintWriter err) {
        String name = cmd.getCommandSpec().qualifiedName();
        if (!cmd.getSubcommands().isEmpty()) {
            List<String> names = new ArrayList<>(cmd.getSubcommands().keySet());
            names.remove("help");
            err.println("usage: " + name + " [connection options] COMMAND ...   commands: " + String.join(", ", names));
        } else {
            err.print("usage: " + cmd.getHelp().synopsis(0));
        }
        err.println("see '" + name + " --help' for more");
        err.flush();
    }

    /** The name nearest to {@code typed} (edit distance, a swap of two letters counting once), or null if none is near. */
    static String nearest(String typed, java.util.Collection<String> names) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String n : names) {
            if (n.equals("help")) continue;
            int d = distance(typed.toLowerCase(java.util.Locale.ROOT), n);
            if (d < bestDistance || d == bestDistance && n.startsWith(typed)) {
                best = n;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= Math.max(2, best.length() / 3) ? best : null;
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }

    static void printJson(CommandLine.Model.CommandSpec spec, JsonElement e) {
        spec.commandLine().getOut().println(Json.PRETTY.toJson(e));
    }

    // ---------------------------------------------------------------- agents

    @Command(name = "agents", description = "List the enrolled agents (JSON).")
    static final class Agents implements Callable<Integer> {
        @Mixin Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            printJson(spec, conn.client(spec).get("/api/v1/agents"));
            return 0;
        }
    }

    // ---------------------------------------------------------------- send

    @Command(name = "send", description = {
        "Send a command to one agent or to all: send AGENT ACTION [PARAMS-JSON] | send --all ACTION [PARAMS-JSON].",
        "Without --wait prints {id, agentId} per command; with --wait prints each result as one JSON line "
            + "(docs/protocol.md's result object with agentId) and exits 0 only if every result arrived and succeeded."})
    static final class Send implements Callable<Integer> {
        @Mixin Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--all", description = "every enrolled agent (one command id each)")
        boolean all;
        @Option(names = "--id", paramLabel = "ID", description = "the command id (single agent only; default: a new UUID). Sending the same id again is idempotent")
        String id;
        @Option(names = "--timeout", paramLabel = "S", description = "timeoutSeconds of the command")
        Integer timeout;
        @Option(names = "--expires-at", paramLabel = "TIME", description = "expiresAt of the command (RFC 3339)")
        String expiresAt;
        @Option(names = "--wait", paramLabel = "SECONDS", description = "wait up to this long for the results")
        Integer wait;
        @Option(names = "--dry-run", description = "ask what the command would do: the agent changes nothing (dryRun: true)")
        boolean dryRun;
        @Parameters(paramLabel = "ARGS", description = "AGENT ACTION [PARAMS-JSON], or with --all: ACTION [PARAMS-JSON]")
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() throws IOException, InterruptedException {
            int need = all ? 1 : 2;
            if (args.size() < need || args.size() > need + 1) {
                throw new ParameterException(spec.commandLine(), "expected AGENT ACTION [PARAMS-JSON] (with --all: ACTION [PARAMS-JSON]), got "
                    + args.size() + " arguments");
            }
            String agent = all ? null : args.get(0);
            String action = args.get(need - 1);
            JsonObject params = args.size() > need ? parseParams(spec, args.get(need)) : new JsonObject();
            return sendAndWait(spec, conn.client(spec), agent, action, params, id, timeout, expiresAt, dryRun, wait);
        }
    }

    static JsonObject parseParams(CommandLine.Model.CommandSpec spec, String text) {
        try {
            JsonElement e = Json.parse(text);
            if (!e.isJsonObject()) throw new ParameterException(spec.commandLine(), "PARAMS-JSON must be a JSON object, got " + text);
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ParameterException(spec.commandLine(), "PARAMS-JSON is not valid JSON: " + e.getMessage());
        }
    }

    /** The server holds a waiting request at most this long (its limit is 30 s); longer waits are several requests. */
    static final int WAIT_PER_REQUEST_SECONDS = 25;
    /** Ids per results query (the server takes up to 100,000). */
    static final int IDS_PER_QUERY = 50_000;

    /**
     * Creates the command(s); with {@code wait}, prints the results as JSON lines as they arrive. The server holds
     * each request until a result comes in ({@code ?wait=S&until=any}), so nothing here polls.
     */
    static int sendAndWait(CommandLine.Model.CommandSpec spec, ServerClient client, String agent, String action, JsonObject params,
                           String id, Integer timeout, String expiresAt, boolean dryRun, Integer wait)
        throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (wait != null && wait < 0) throw new ParameterException(spec.commandLine(), "--wait must be 0 or more seconds, got " + wait);
        if (agent == null && id != null) throw new ParameterException(spec.commandLine(), "--id goes with a single AGENT, not --all");
        JsonObject body = new JsonObject();
        if (agent == null) body.addProperty("all", true);
        else body.addProperty("agentId", agent);
        body.addProperty("action", action);
        body.add("params", params);
        if (timeout != null) body.addProperty("timeoutSeconds", timeout);
        if (id != null) body.addProperty("id", id);
        if (expiresAt != null) body.addProperty("expiresAt", expiresAt);
        if (dryRun) body.addProperty("dryRun", true);
        if (wait == null) {
            JsonArray commands = client.post("/api/v1/commands", body).getAsJsonObject().getAsJsonArray("commands");
            for (JsonElement c : commands) out.println(Json.GSON.toJson(c));
            return 0;
        }
        long deadline = System.nanoTime() + wait * 1_000_000_000L;
        JsonObject created = client.post("/api/v1/commands" + waitQuery(deadline), body).getAsJsonObject();
        Map<String, String> pending = new LinkedHashMap<>(); // command id -> agent id
        for (JsonElement c : created.getAsJsonArray("commands")) {
            pending.put(c.getAsJsonObject().get("id").getAsString(), c.getAsJsonObject().get("agentId").getAsString());
        }
        boolean allSucceeded = print(out, pending, created.getAsJsonArray("results"));
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
            List<String> ids = new ArrayList<>(pending.keySet());
            for (int from = 0; from < ids.size(); from += IDS_PER_QUERY) {
                JsonObject q = new JsonObject();
                JsonArray chunk = new JsonArray();
                ids.subList(from, Math.min(ids.size(), from + IDS_PER_QUERY)).forEach(chunk::add);
                q.add("ids", chunk);
                // only the last chunk waits: the others are read as they are now
                String query = from + IDS_PER_QUERY >= ids.size() ? waitQuery(deadline) : "";
                JsonArray results = client.post("/api/v1/results/query" + query, q).getAsJsonObject().getAsJsonArray("results");
                allSucceeded &= print(out, pending, results);
            }
        }
        if (!pending.isEmpty()) {
            int shown = 0;
            for (Map.Entry<String, String> e : pending.entrySet()) {
                if (shown++ == 20) {
                    err.println("outpostctl: ... and " + (pending.size() - 20) + " more without a result");
                    break;
                }
                err.println("outpostctl: no result within " + wait + " s from agent " + e.getValue() + " (command " + e.getKey() + ")");
            }
            return 1;
        }
        return allSucceeded ? 0 : 1;
    }

    /** {@code ?wait=S&until=any} for the time left before {@code deadline}, at most one request's worth. */
    private static String waitQuery(long deadline) {
        double left = Math.max(0, deadline - System.nanoTime()) / 1e9;
        return String.format(java.util.Locale.ROOT, "?wait=%.3f&until=any", Math.min(WAIT_PER_REQUEST_SECONDS, left));
    }

    /** Prints results as JSON lines (without receivedAt), crossing them off {@code pending}; false if one did not succeed. */
    private static boolean print(PrintWriter out, Map<String, String> pending, JsonArray results) {
        boolean allSucceeded = true;
        if (results == null) return true;
        for (JsonElement r : results) {
            JsonObject result = r.getAsJsonObject();
            result.remove("receivedAt");
            if (pending.remove(result.get("id").getAsString()) == null) continue;
            if (!"succeeded".equals(result.has("status") ? result.get("status").getAsString() : null)) allSucceeded = false;
            out.println(Json.GSON.toJson(result));
        }
        out.flush();
        return allSucceeded;
    }

    // ---------------------------------------------------------------- command, cancel, results

    @Command(name = "command", description = "Show a command: state, params and its result (JSON).")
    static final class ShowCommand implements Callable<Integer> {
        @Mixin Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() throws IOException {
            printJson(spec, conn.client(spec).get("/api/v1/commands/" + encode(id)));
            return 0;
        }
    }

    @Command(name = "cancel", description = "Cancel a command: a queued one at once, a running one on its agent (JSON of the command).")
    static final class Cancel implements Callable<Integer> {
        @Mixin Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() throws IOException {
            printJson(spec, conn.client(spec).post("/api/v1/commands/" + encode(id) + "/cancel", new JsonObject()));
            return 0;
        }
    }

    @Command(name = "results", description = "The newest results, one JSON line each (result object with agentId and receivedAt).")
    static final class Results implements Callable<Integer> {
        @Mixin Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--agent", paramLabel = "A", description = "only this agent's") String agent;
        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "at most N (default: ${DEFAULT-VALUE})") int limit;

        @Override
        public Integer call() throws IOException {
            String q = "/api/v1/results?limit=" + limit + (agent == null ? "" : "&agent=" + encode(agent));
            for (JsonElement r : conn.client(spec).get(q).getAsJsonArray()) spec.commandLine().getOut().println(Json.GSON.toJson(r));
            return 0;
        }
    }

    @Command(name = "events", description = {
        "Events the agents sent, one JSON line each (agentId, id, kind, time, data, receivedAt, seq), oldest first.",
        "With --follow, keeps printing new ones as they come until interrupted (Ctrl-C)."})
    static final class Events implements Callable<Integer> {
        /** Events asked for per request while following. */
        static final int PAGE = 1000;

        @Mixin Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--agent", paramLabel = "A", description = "only this agent's") String agent;
        @Option(names = "--kind", paramLabel = "K", description = "only events of this kind (health, alert, agent.events_dropped, ...)") String kind;
        @Option(names = "--since", paramLabel = "TIME", description = "only events from this time on (RFC 3339)") String since;
        @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "the newest N at first (default: ${DEFAULT-VALUE})") int limit;
        @Option(names = "--follow", description = "then print new events as they come, until interrupted") boolean follow;

        @Override
        public Integer call() throws IOException {
            ServerClient client = conn.client(spec);
            PrintWriter out = spec.commandLine().getOut();
            StringBuilder filters = new StringBuilder();
            if (agent != null) filters.append("&agent=").append(encode(agent));
            if (kind != null) filters.append("&kind=").append(encode(kind));
            if (since != null) filters.append("&since=").append(encode(since));
            JsonArray newest = client.get("/api/v1/events?limit=" + limit + filters).getAsJsonArray();
            long cursor = 0;
            for (int i = newest.size() - 1; i >= 0; i--) cursor = print(out, newest.get(i).getAsJsonObject(), cursor);
            out.flush();
            if (!follow) return 0;
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    // the server holds each request until an event comes, or 25 s: a long poll, not a busy loop
                    JsonArray next = client.get("/api/v1/events?after=" + cursor + "&wait=" + WAIT_PER_REQUEST_SECONDS
                        + "&limit=" + PAGE + filters).getAsJsonArray();
                    for (JsonElement e : next) cursor = print(out, e.getAsJsonObject(), cursor);
                    out.flush();
                }
            } catch (java.io.InterruptedIOException e) {
                // interrupted: the operator stopped following
            }
            return 0;
        }

        private static long print(PrintWriter out, JsonObject event, long cursor) {
            out.println(Json.GSON.toJson(event));
            JsonElement seq = event.get("seq");
            return seq != null && seq.isJsonPrimitive() ? Math.max(cursor, seq.getAsLong()) : cursor;
        }
    }

    static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    // ---------------------------------------------------------------- plugins

    @Command(name = "plugin", description = "Plugin bundles: upload, list, push to agents.",
        subcommands = {Plugin.Upload.class, Plugin.ListBundles.class, Plugin.Push.class, Plugin.Deployed.class})
    static final class Plugin {
        @Command(name = "upload", description = "Upload a plugin jar; prints {sha256, bsn, version, size, url}.")
        static final class Upload implements Callable<Integer> {
            @Mixin Connection conn;
            @Spec CommandLine.Model.CommandSpec spec;
            @Parameters(paramLabel = "JAR") Path jar;

            @Override
            public Integer call() throws IOException {
                printJson(spec, upload(conn.client(spec), jar));
                return 0;
            }
        }

        @Command(name = "list", description = "The uploaded bundles (JSON).")
        static final class ListBundles implements Callable<Integer> {
            @Mixin Connection conn;
            @Spec CommandLine.Model.CommandSpec spec;

            @Override
            public Integer call() throws IOException {
                printJson(spec, conn.client(spec).get("/api/v1/bundles"));
                return 0;
            }
        }

        @Command(name = "agents", description = {
            "Which agents run which plugin versions, from what each agent last reported (hello, capabilities):",
            "[{bsn, version, agents: [{agentId, hostname, connected, state}]}]. Bundles that serve no action and are",
            "active (the agent's own libraries) are left out unless --all."})
        static final class Deployed implements Callable<Integer> {
            @Mixin Connection conn;
            @Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--all", description = "every bundle, libraries included") boolean all;
            @Parameters(paramLabel = "BSN", arity = "0..1", description = "only this plugin") String bsn;

            @Override
            public Integer call() throws IOException {
                java.util.Map<String, JsonObject> byVersion = new java.util.TreeMap<>();
                for (JsonElement e : conn.client(spec).get("/api/v1/agents").getAsJsonArray()) {
                    JsonObject a = e.getAsJsonObject();
                    if (!a.has("plugins") || !a.get("plugins").isJsonArray()) continue;
                    for (JsonElement pe : a.getAsJsonArray("plugins")) {
                        JsonObject p = pe.getAsJsonObject();
                        String name = p.get("bsn").getAsString();
                        String state = p.has("state") ? p.get("state").getAsString() : "unknown";
                        boolean library = "active".equals(state) && (!p.has("actions") || p.getAsJsonArray("actions").isEmpty());
                        if ((bsn != null && !bsn.equals(name)) || (library && !all && bsn == null)) continue;
                        String version = p.get("version").getAsString();
                        JsonObject row = byVersion.computeIfAbsent(name + "\u0000" + version, k -> {
                            JsonObject o = new JsonObject();
                            o.addProperty("bsn", name);
                            o.addProperty("version", version);
                            o.add("agents", new JsonArray());
                            return o;
                        });
                        JsonObject who = new JsonObject();
                        who.add("agentId", a.get("agentId"));
                        who.add("hostname", a.get("hostname"));
                        who.add("connected", a.get("connected"));
                        who.addProperty("state", state);
                        row.getAsJsonArray("agents").add(who);
                    }
                }
                JsonArray out = new JsonArray();
                byVersion.values().forEach(out::add);
                printJson(spec, out);
                return 0;
            }
        }

        @Command(name = "push", description = {
            "Install, upgrade or remove a plugin on agents: push AGENT|--all install|upgrade JAR|SHA256, push AGENT|--all remove BSN.",
            "A JAR is uploaded first; the agents download it from the server (/agent/v1/bundles/SHA256)."})
        static final class Push implements Callable<Integer> {
            @Mixin Connection conn;
            @Spec CommandLine.Model.CommandSpec spec;
            @Option(names = "--all", description = "every enrolled agent") boolean all;
            @Option(names = "--no-start", description = "install without starting the bundle") boolean noStart;
            @Option(names = "--allow-downgrade", description = "let upgrade install an older version") boolean allowDowngrade;
            @Option(names = "--wait", paramLabel = "SECONDS", description = "wait up to this long for the results") Integer wait;
            @Option(names = "--timeout", paramLabel = "S", description = "timeoutSeconds of the command") Integer timeout;
            @Parameters(paramLabel = "ARGS", description = "AGENT OP TARGET, or with --all: OP TARGET") List<String> args = new ArrayList<>();

            @Override
            public Integer call() throws IOException, InterruptedException {
                int need = all ? 2 : 3;
                if (args.size() != need) {
                    throw new ParameterException(spec.commandLine(), "expected AGENT install|upgrade JAR|SHA256 or AGENT remove BSN"
                        + " (with --all: no AGENT), got " + args.size() + " arguments");
                }
                String agent = all ? null : args.get(0);
                String op = args.get(need - 2);
                String target = args.get(need - 1);
                ServerClient client = conn.client(spec);
                JsonObject params = new JsonObject();
                switch (op) {
                    case "install", "upgrade" -> {
                        String sha = target;
                        if (!BundleRepository.isSha256(target)) {
                            Path jar = Path.of(target);
                            if (!Files.isRegularFile(jar)) {
                                throw new ParameterException(spec.commandLine(), "'" + target + "' is neither a jar file nor a sha256 of an uploaded bundle");
                            }
                            sha = upload(client, jar).get("sha256").getAsString();
                        }
                        params.addProperty("url", BundleRepository.url(sha));
                        params.addProperty("sha256", sha);
                        if (op.equals("install")) params.addProperty("start", !noStart);
                        else params.addProperty("allowDowngrade", allowDowngrade);
                    }
                    case "remove" -> params.addProperty("bsn", target);
                    default -> throw new ParameterException(spec.commandLine(), "the operation must be install, upgrade or remove, got '" + op + "'");
                }
                return sendAndWait(spec, client, agent, "plugin." + op, params, null, timeout, null, false, wait);
            }
        }

        static JsonObject upload(ServerClient client, Path jar) throws IOException {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(jar);
            } catch (IOException e) {
                throw new ConfigError("cannot read '" + jar + "': " + e.getMessage());
            }
            return client.postBytes("/api/v1/bundles", "application/java-archive", bytes).getAsJsonObject();
        }
    }
}
