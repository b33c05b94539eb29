package server.console;

import static server.console.Html.html;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.console.Html.Safe;
import server.http.Json;
import server.store.Records.Agent;

/**
 * One agent: what it is, its open alerts, its health now and over the last hours, a form to run an action, its
 * commands newest first, the backups the server holds for it, its plugins, its inventory and its past alerts.
 */
final class AgentPage {
    private AgentPage() {}

    static final int COMMANDS_PER_PAGE = 20;
    /** Backups listed; the rest are counted, and the operator API lists them all. */
    static final int BACKUPS_SHOWN = 20;
    /** The characters of a sha256 shown; the title holds all 64. */
    static final int SHA256_SHOWN = 12;
    /** Output shown inline; the command's own page shows all of it. */
    static final int OUTPUT_SHOWN = 4096;

    static Console.View render(Console.Ctx ctx, String agentId) {
        Agent a = ctx.deps().store().agent(agentId);
        if (a == null) {
            return new Console.View("No such agent", "fleet", null, html("<h1>No such agent</h1><p>No agent <code>{}</code> is enrolled."
                + " <a href=\"/console/\">Back to the fleet</a></p>", agentId), 404);
        }
        JsonObject hello = a.hello() == null ? new JsonObject() : parse(a.hello());
        String host = a.hostname() == null ? a.agentId() : a.hostname();
        boolean connected = ctx.deps().gateway().isConnected(agentId);
        Instant live = ctx.deps().gateway().lastSeen(agentId);
        String st = FleetPage.state(connected, a.transport(), a.lastSeen(), ctx.deps().queries().pollOnlineSince(ctx.now));
        String enc = Html.enc(agentId);
        Safe header = ctx.only != null ? Safe.EMPTY : html("""
            <nav class="crumbs" aria-label="Breadcrumb"><a href="/console/">Fleet</a> <span aria-hidden="true">›</span> <span aria-current="page">{}</span></nav>\
            <h1>{} <span class="state s-{}" data-agent-state="{}">{}</span></h1>\
            <dl class="facts"><div><dt>Agent id</dt><dd class="mono">{}</dd></div><div><dt>Last seen</dt><dd data-agent-seen="{}">{}</dd></div>\
            <div><dt>Transport</dt><dd>{}</dd></div><div><dt>OS</dt><dd>{}</dd></div><div><dt>Kernel</dt><dd>{}</dd></div>\
            <div><dt>Agent version</dt><dd>{}</dd></div><div><dt>Mode</dt><dd>{}</dd></div><div><dt>Enrolled</dt><dd>{}</dd></div></dl>""",
            host, host, st, agentId, st, agentId, agentId, Html.ago(live != null ? live.toString() : a.lastSeen(), ctx.now),
            a.transport() == null ? "—" : a.transport(), FleetPage.os(Format.str(hello, "os", "name"), Format.str(hello, "os", "version")),
            join(" ", Format.str(hello, "os", "kernel"), Format.str(hello, "os", "arch")), or(Format.str(hello, "agentVersion")),
            or(Format.str(hello, "mode")), Format.time(a.enrolledAt()));
        Safe alerts = ctx.region("alerts", "event", () -> openAlerts(ctx, agentId));
        Safe health = ctx.region("health", "event", () -> health(ctx, agentId));
        Safe charts = ctx.region("charts", "event", () -> charts(ctx, agentId));
        Safe run = ctx.only != null ? Safe.EMPTY : runForm(agentId, hello, a.plugins(), restoring(ctx, agentId));
        Safe commands = ctx.region("commands", "result", () -> commands(ctx, agentId));
        // a backup arrives while backup.create runs: its result is the news that it is there
        Safe backups = ctx.region("backups", "result", () -> backups(ctx, agentId));
        Safe plugins = ctx.region("plugins", "result", () -> plugins(a.agentId(), ctx));
        Safe inventory = ctx.region("inventory", "result", () -> inventory(ctx, agentId));
        Safe history = ctx.region("history", "event", () -> history(ctx, agentId));
        return new Console.View(host, "fleet", "page=agent&agent=" + enc, html("""
            {}<section aria-labelledby="h-alerts" id="alerts"><h2 id="h-alerts">Open alerts</h2>{}</section>\
            <section aria-labelledby="h-health"><h2 id="h-health">Health</h2>{}{}</section>\
            {}<section aria-labelledby="h-commands"><h2 id="h-commands">Commands</h2>{}</section>\
            <section aria-labelledby="h-backups"><h2 id="h-backups">Backups</h2>{}</section>\
            <section aria-labelledby="h-plugins"><h2 id="h-plugins">Plugins</h2>{}</section>\
            <section aria-labelledby="h-inventory"><h2 id="h-inventory">Inventory</h2>{}</section>\
            <section aria-labelledby="h-history"><h2 id="h-history">Alert history</h2>{}</section>""",
            header, alerts, health, charts, run, commands, backups, plugins, inventory, history));
    }

    // ---------------------------------------------------------------- alerts

    private static Safe openAlerts(Console.Ctx ctx, String agentId) {
        Queries.Page<Queries.AlertRow> open = ctx.deps().queries().openAlerts(agentId, 100);
        if (open.total() == 0) return html("<p class=\"ok-note\">None: every threshold is on its good side.</p>");
        List<Safe> items = new ArrayList<>();
        for (Queries.AlertRow r : open.rows()) items.add(alertItem(r.data(), ctx.now));
        return html("<ul class=\"alerts\">{}</ul>", Html.join(items));
    }

    /** An alert as a list item: its state, its message and since when. */
    static Safe alertItem(String dataJson, long now) {
        return alertItem(dataJson, now, Safe.EMPTY);
    }

    /** The same, after {@code before} (the agent's name, in the fleet's list). */
    static Safe alertItem(String dataJson, long now, Safe before) {
        JsonObject d = parse(dataJson);
        String message = Format.str(d, "message");
        if (message == null) message = Format.str(d, "alert") + (Format.str(d, "subject") == null ? "" : " on " + Format.str(d, "subject"));
        String state = Format.str(d, "state");
        boolean firing = "firing".equals(state);
        String since = Format.str(d, "firedAt") != null ? Format.str(d, "firedAt") : Format.str(d, "since");
        return html("<li class=\"alert a-{}\">{}{} {} <span class=\"muted\">{} {}</span></li>", state == null ? "" : state.replaceAll("[^a-z]", ""),
            before, Layout.badge(state), message, firing ? "since" : "cleared", Html.ago(firing ? since : Format.str(d, "clearedAt"), now));
    }

    private static Safe history(Console.Ctx ctx, String agentId) {
        List<Queries.EventRow> events = ctx.deps().queries().alertHistory(agentId, 20);
        if (events.isEmpty()) return html("<p class=\"muted\">No alert has fired on this agent.</p>");
        List<Safe> items = new ArrayList<>();
        for (Queries.EventRow e : events) {
            JsonElement d = Format.at(parse(e.event()), "data");
            items.add(alertItem(d == null ? "{}" : d.toString(), ctx.now));
        }
        return html("<ul class=\"alerts history\">{}</ul>", Html.join(items));
    }

    // ---------------------------------------------------------------- health

    private static Safe health(Console.Ctx ctx, String agentId) {
        JsonObject h = ctx.deps().health().health(agentId);
        JsonObject s = Format.obj(h, "snapshot");
        if (s == null) {
            return html("<p class=\"muted\">No health snapshot yet. plugin.health sends one every <code>health.interval_seconds</code>"
                + " (60 by default) as a <code>health</code> event.</p>");
        }
        double cpu = Format.num(s, "cpu", "usagePercent");
        double cores = Format.num(s, "cpu", "cores");
        double memTotal = Format.num(s, "memory", "totalBytes");
        double memUsed = Format.num(s, "memory", "usedBytes");
        double memAvail = Format.num(s, "memory", "availablePercent");
        double swapTotal = Format.num(s, "swap", "totalBytes");
        double swapUsed = Format.num(s, "swap", "usedBytes");
        List<Safe> tiles = new ArrayList<>();
        tiles.add(tile("CPU", Double.isNaN(cpu) ? "—" : Format.percent(cpu), Double.isNaN(cores) ? "" : Format.number(cores) + " cores"));
        tiles.add(tile("Memory", Double.isNaN(memUsed) ? "—" : Format.bytes(memUsed),
            Double.isNaN(memTotal) ? "" : "of " + Format.bytes(memTotal) + (Double.isNaN(memAvail) ? "" : ", " + Format.percent(memAvail) + " available")));
        double load5 = Format.num(s, "load", "load5");
        double load15 = Format.num(s, "load", "load15");
        tiles.add(tile("Load", Double.isNaN(Format.num(s, "load", "load1")) ? "—" : Format.number(Format.num(s, "load", "load1")),
            Double.isNaN(load5) || Double.isNaN(load15) ? "" : Format.number(load5) + " and " + Format.number(load15) + " over 5 and 15 min"));
        tiles.add(tile("Swap", swapTotal > 0 ? Format.bytes(swapUsed) : "none", swapTotal > 0 ? "of " + Format.bytes(swapTotal) : ""));
        double up = Format.num(s, "uptimeSeconds");
        tiles.add(tile("Uptime", Double.isNaN(up) ? "—" : Format.uptime(up), ""));
        double procs = Format.num(s, "processes", "count");
        tiles.add(tile("Processes", Double.isNaN(procs) ? "—" : Format.number(procs), ""));
        List<Safe> fs = new ArrayList<>();
        JsonElement list = Format.at(s, "filesystems");
        if (list != null && list.isJsonArray()) {
            for (JsonElement f : list.getAsJsonArray()) {
                double used = Format.num(f, "usedPercent");
                double inodes = Format.num(f, "inodesUsedPercent");
                fs.add(html("<tr><th scope=\"row\">{}</th><td class=\"opt\">{}</td><td>{}</td><td>{}</td>"
                        + "<td><meter min=\"0\" max=\"100\" low=\"85\" high=\"90\" optimum=\"0\" value=\"{}\" aria-label=\"{} used\"></meter> {}</td><td class=\"opt\">{}</td></tr>",
                    or(Format.str(f, "mountpoint")), join(" ", Format.str(f, "device"), Format.str(f, "fstype")),
                    Double.isNaN(Format.num(f, "sizeBytes")) ? "" : Format.bytes(Format.num(f, "sizeBytes")),
                    Double.isNaN(Format.num(f, "availableBytes")) ? "" : Format.bytes(Format.num(f, "availableBytes")) + " free",
                    Double.isNaN(used) ? 0 : Format.number(used), or(Format.str(f, "mountpoint")), Double.isNaN(used) ? "—" : Format.percent(used),
                    Double.isNaN(inodes) ? "—" : Format.percent(inodes)));
            }
        }
        return html("""
            <p class="muted">Snapshot from {}.</p><div class="tiles">{}</div>\
            <div class="table-wrap" role="region" aria-labelledby="fs-caption" tabindex="0"><table><caption id="fs-caption">Filesystems</caption>\
            <thead><tr><th scope="col">Mount point</th><th scope="col" class="opt">Device</th><th scope="col">Size</th><th scope="col">Free</th>\
            <th scope="col">Used</th><th scope="col" class="opt">Inodes used</th></tr></thead><tbody>{}</tbody></table></div>""",
            Html.ago(Format.str(h, "receivedAt"), ctx.now), Html.join(tiles), Html.join(fs));
    }

    private static Safe tile(String name, String big, String small) {
        return html("<div class=\"tile\"><h3>{}</h3><p class=\"big\">{}</p><p class=\"small\">{}</p></div>", name, big, small);
    }

    private static final Map<String, Long> RANGES = Map.of("1h", 3_600_000L, "6h", 6 * 3_600_000L, "24h", 24 * 3_600_000L);

    private static Safe charts(Console.Ctx ctx, String agentId) {
        String range = ctx.q("range");
        if (range == null || !RANGES.containsKey(range)) range = "6h";
        long from = ctx.now - RANGES.get(range);
        List<Queries.HealthPoint> points = ctx.deps().queries().healthSeries(agentId, from);
        List<Safe> links = new ArrayList<>();
        for (String r : List.of("1h", "6h", "24h")) {
            links.add(r.equals(range) ? html("<a href=\"?range={}\" aria-current=\"true\">last {}</a>", r, r.replace("h", " h"))
                : html("<a href=\"?range={}\">last {}</a>", r, r.replace("h", " h")));
        }
        Safe picker = html("<p class=\"ranges\">Charts over the {}: {}</p>", "last " + range.replace("h", " h"), Html.join(links));
        if (points.isEmpty()) return html("{}<p class=\"muted\">No health events in this period.</p>", picker);
        int n = points.size();
        long[] t = new long[n];
        double[] cpu = new double[n];
        double[] mem = new double[n];
        double[] load = new double[n];
        TreeSet<String> mounts = new TreeSet<>();
        for (int i = 0; i < n; i++) {
            Queries.HealthPoint p = points.get(i);
            t[i] = p.timeMillis();
            cpu[i] = p.cpu();
            mem[i] = p.memoryUsed();
            load[i] = p.load1();
            mounts.addAll(p.filesystems().keySet());
        }
        List<Charts.Series> fs = new ArrayList<>();
        for (String m : mounts) {
            if (fs.size() == 6) break; // more would not be told apart; the table above lists them all
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = points.get(i).filesystems().getOrDefault(m, Double.NaN);
            fs.add(new Charts.Series(m, t, v));
        }
        return html("{}<div class=\"charts\">{}{}{}{}</div>", picker,
            Charts.chart("chart-cpu", "CPU usage", "%", List.of(new Charts.Series("CPU", t, cpu)), from, ctx.now, 100),
            Charts.chart("chart-memory", "Memory used", "%", List.of(new Charts.Series("Memory", t, mem)), from, ctx.now, 100),
            Charts.chart("chart-load", "Load (1 min)", "", List.of(new Charts.Series("Load", t, load)), from, ctx.now, Double.NaN),
            Charts.chart("chart-fs", "Filesystems used", "%", fs, from, ctx.now, 100));
    }

    // ---------------------------------------------------------------- running actions

    /**
     * The backup a "Restore…" link named ({@code ?restore=NAME}), when the server holds it for this agent; else null.
     * Only a name the store knows prefills the form, so the link cannot be used to put other text into it.
     */
    private static String restoring(Console.Ctx ctx, String agentId) {
        String name = ctx.q("restore");
        if (name == null) return null;
        try {
            return ctx.deps().backups().record(agentId, name) == null ? null : name;
        } catch (IOException | RuntimeException e) {
            return null; // not a backup's name, or a record not readable: the form as usual
        }
    }

    /** @param restore a backup of this agent on the server to prefill a {@code backup.restore} of, or null */
    private static Safe runForm(String agentId, JsonObject hello, String pluginsJson, String restore) {
        TreeSet<String> actions = new TreeSet<>();
        if (pluginsJson != null) {
            try {
                for (JsonElement p : JsonParser.parseString(pluginsJson).getAsJsonArray()) {
                    JsonElement as = Format.at(p, "actions");
                    if (as != null && as.isJsonArray()) for (JsonElement x : as.getAsJsonArray()) if (x.isJsonPrimitive()) actions.add(x.getAsString());
                }
            } catch (RuntimeException e) {
                // a list the agent garbled: the field takes any action anyway
            }
        }
        List<Safe> options = new ArrayList<>();
        for (String x : actions) options.add(html("<option value=\"{}\"></option>", x));
        boolean dry = features(hello).contains("dryRun");
        String action = null;
        String params = "{}";
        Safe note = Safe.EMPTY;
        if (restore != null) {
            action = "backup.restore";
            JsonObject p = new JsonObject();
            p.addProperty("destination", "server");
            p.addProperty("archive", restore);
            p.addProperty("target", "");
            params = p.toString().replace("\":", "\": ").replace(",\"", ", \"");
            note = html("<p class=\"notice\" id=\"run-restore-note\">Restoring <code>{}</code> from the server: fill in <code>target</code>,"
                + " the absolute directory to restore into (<code>/</code> restores in place); <code>\"overwrite\": true</code> replaces files"
                + " that exist there. {}</p>", restore, dry ? "A dry run says what would be written." : "");
        }
        return html("""
            <section aria-labelledby="h-run"><h2 id="h-run">Run an action</h2>\
            <form id="run-form" class="card action-form" data-form="run" data-agent="{}" novalidate>{}\
            <div class="field"><label for="run-action">Action</label>\
            <input id="run-action" name="action" list="run-actions" required autocomplete="off" spellcheck="false" placeholder="agent.ping"{} aria-describedby="run-action-help">\
            <datalist id="run-actions">{}</datalist><p class="help" id="run-action-help">{} actions served by this agent; type to pick one.</p></div>\
            <div class="field"><label for="run-params">Params (a JSON object)</label><textarea id="run-params" name="params" rows="3" spellcheck="false">{}</textarea></div>\
            <div class="field short"><label for="run-timeout">Timeout in seconds (optional)</label><input id="run-timeout" name="timeout" type="number" min="1" inputmode="numeric"></div>\
            <div class="check"><input id="run-dry" name="dryRun" type="checkbox"{} aria-describedby="run-dry-help"><label for="run-dry">Dry run</label>\
            <p class="help" id="run-dry-help">{}</p></div>\
            <div class="actions"><button type="submit">Run</button></div>\
            <p class="form-status" role="status" aria-live="polite"></p><p class="form-error" role="alert"></p></form></section>""",
            agentId, note, action == null ? Safe.EMPTY : html(" value=\"{}\"", action), Html.join(options), actions.size(), params,
            dry ? Safe.EMPTY : html(" disabled"),
            dry ? "The agent changes nothing and says what it would do; an action that cannot is refused (dry_run_unsupported)."
                : "This agent has not said it knows dry runs (its hello lists no dryRun): it would run the command for real.");
    }

    static List<String> features(JsonObject hello) {
        List<String> out = new ArrayList<>();
        JsonElement f = Format.at(hello, "features");
        if (f != null && f.isJsonArray()) for (JsonElement e : f.getAsJsonArray()) if (e.isJsonPrimitive()) out.add(e.getAsString());
        return out;
    }

    private static Safe commands(Console.Ctx ctx, String agentId) {
        String cp = ctx.q("cpage");
        int page = 1;
        try {
            if (cp != null) page = Math.max(1, Integer.parseInt(cp));
        } catch (NumberFormatException e) {
            page = 1;
        }
        Queries.Page<Queries.CommandRow> rows = ctx.deps().queries().agentCommands(agentId, (page - 1) * COMMANDS_PER_PAGE, COMMANDS_PER_PAGE);
        if (rows.total() == 0) return html("<p class=\"muted\">No command has been sent to this agent yet.</p>");
        List<Safe> trs = new ArrayList<>();
        for (Queries.CommandRow c : rows.rows()) trs.add(CommandsPage.commandRows(ctx, c, false));
        int pages = (rows.total() + COMMANDS_PER_PAGE - 1) / COMMANDS_PER_PAGE;
        Safe pager = pages <= 1 ? Safe.EMPTY : html("<nav class=\"pager\" aria-label=\"Command pages\">{} <span>Page {} of {}</span> {}</nav>",
            page > 1 ? html("<a href=\"?cpage={}#h-commands\">Newer</a>", page - 1) : html("<span class=\"muted\">Newer</span>"), page, pages,
            page < pages ? html("<a href=\"?cpage={}#h-commands\">Older</a>", page + 1) : html("<span class=\"muted\">Older</span>"));
        return html("""
            <div class="table-wrap" role="region" aria-labelledby="cmd-caption" tabindex="0"><table class="commands">\
            <caption id="cmd-caption">{} {}, newest first</caption>\
            <thead><tr><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Issued</th><th scope="col">Duration</th>\
            <th scope="col"><span class="vh">Actions</span></th></tr></thead>{}</table></div>{}""",
            rows.total(), rows.total() == 1 ? "command" : "commands", Html.join(trs), pager);
    }

    // ---------------------------------------------------------------- backups

    private static Safe backups(Console.Ctx ctx, String agentId) {
        List<JsonObject> all;
        try {
            all = ctx.deps().backups().list(agentId);
        } catch (IOException | RuntimeException e) {
            return html("<p class=\"error-text\">The server's backups of this agent could not be read: {}</p>", String.valueOf(e.getMessage()));
        }
        if (all.isEmpty()) {
            return html("<p class=\"muted\">The server holds no backup of this agent. <code>backup.create</code> with"
                + " <code>{\"destination\": \"server\", \"paths\": [\"/etc\"]}</code> makes one and sends it here (plugin.backup).</p>");
        }
        long bytes = 0;
        for (JsonObject r : all) bytes += (long) Math.max(0, Format.num(r, "size"));
        List<Safe> trs = new ArrayList<>();
        for (JsonObject r : all.subList(0, Math.min(BACKUPS_SHOWN, all.size()))) trs.add(backupRow(r, ctx.now));
        int rest = all.size() - trs.size();
        Safe more = rest == 0 ? Safe.EMPTY : html("<p class=\"muted\" id=\"backups-more\">{} older {} not shown:"
            + " <a href=\"/api/v1/backups?agent={}\">all of them (JSON)</a>, or <code>outpostctl backups --agent {}</code>.</p>",
            rest, rest == 1 ? "backup is" : "backups are", Html.enc(agentId), agentId);
        return html("""
            <div class="table-wrap" role="region" aria-labelledby="bk-caption" tabindex="0"><table id="agent-backups">\
            <caption id="bk-caption">{}, {} in all, newest first{}</caption><thead><tr><th scope="col">Name</th><th scope="col">Size</th>\
            <th scope="col">sha256</th><th scope="col">Received</th><th scope="col" class="opt">Paths</th><th scope="col" class="opt">Files</th>\
            <th scope="col"><span class="vh">Actions</span></th></tr></thead><tbody>{}</tbody></table></div>{}""",
            all.size() == 1 ? "1 backup" : all.size() + " backups", Format.bytes(bytes),
            rest == 0 ? "" : " (the newest " + trs.size() + " shown)", Html.join(trs), more);
    }

    /** A backup's record as a row: what plugin.backup's manifest said of it (its meta) where it said it. */
    private static Safe backupRow(JsonObject r, long now) {
        String name = or(Format.str(r, "name"));
        String sha = or(Format.str(r, "sha256"));
        double size = Format.num(r, "size");
        List<String> paths = new ArrayList<>();
        for (JsonElement p : array(Format.at(r, "meta", "paths"))) if (p.isJsonPrimitive()) paths.add(p.getAsString());
        double omitted = Format.num(r, "meta", "pathsOmitted");
        if (omitted > 0) paths.add("and " + Format.number(omitted) + " more");
        double files = Format.num(r, "meta", "files");
        return html("<tr><th scope=\"row\" class=\"mono\">{}</th><td>{}</td><td><span class=\"mono\" title=\"{}\">{}</span></td><td>{}</td>"
                + "<td class=\"opt mono small\">{}</td><td class=\"opt\">{}</td>"
                + "<td><a href=\"?restore={}#h-run\" aria-label=\"Restore {}…\">Restore…</a></td></tr>",
            name, Double.isNaN(size) ? "—" : Format.bytes(size), sha, sha.length() > SHA256_SHOWN ? sha.substring(0, SHA256_SHOWN) + "…" : sha,
            Html.ago(Format.str(r, "receivedAt"), now), paths.isEmpty() ? "—" : String.join(", ", paths),
            Double.isNaN(files) ? "—" : Format.number(files), Html.enc(name), name);
    }

    // ---------------------------------------------------------------- plugins and inventory

    private static Safe plugins(String agentId, Console.Ctx ctx) {
        Agent a = ctx.deps().store().agent(agentId);
        if (a == null || a.plugins() == null) return html("<p class=\"muted\">The agent has not listed its plugins yet (it does in its hello).</p>");
        List<Safe> trs = new ArrayList<>();
        try {
            List<JsonElement> sorted = new ArrayList<>();
            JsonParser.parseString(a.plugins()).getAsJsonArray().forEach(sorted::add);
            // the plugins that serve actions first, then the agent's libraries; by name within each
            sorted.sort(java.util.Comparator.comparing((JsonElement p) -> array(Format.at(p, "actions")).isEmpty())
                .thenComparing(p -> or(Format.str(p, "bsn"))));
            for (JsonElement p : sorted) {
                JsonElement as = Format.at(p, "actions");
                List<String> actions = new ArrayList<>();
                if (as != null && as.isJsonArray()) for (JsonElement x : as.getAsJsonArray()) actions.add(x.getAsString());
                String state = Format.str(p, "state");
                trs.add(html("<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td class=\"opt\">{}</td></tr>", or(Format.str(p, "bsn")),
                    or(Format.str(p, "version")), state == null ? Safe.EMPTY : html("{}{}", Layout.badge(state),
                        Format.str(p, "error") == null ? Safe.EMPTY : html(" <span class=\"error-text\">{}</span>", Format.str(p, "error"))),
                    actions.isEmpty() ? html("<span class=\"muted\">library</span>") : html("<span class=\"mono small\">{}</span>", String.join(", ", actions))));
            }
        } catch (RuntimeException e) {
            return html("<p class=\"error-text\">The agent's plugin list is not readable.</p>");
        }
        return html("""
            <div class="table-wrap" role="region" aria-labelledby="plg-caption" tabindex="0"><table id="agent-plugins">\
            <caption id="plg-caption">{} bundles, as the agent last reported them</caption><thead><tr><th scope="col">Bundle</th>\
            <th scope="col">Version</th><th scope="col">State</th><th scope="col" class="opt">Actions</th></tr></thead><tbody>{}</tbody></table></div>\
            <p><a href="/console/plugins">Install, upgrade or remove plugins</a></p>""", trs.size(), Html.join(trs));
    }

    private static Safe inventory(Console.Ctx ctx, String agentId) {
        JsonObject inv = ctx.deps().health().inventory(agentId);
        JsonObject i = Format.obj(inv, "inventory");
        Safe button = html("<form class=\"inline\" data-form=\"inventory\" data-agent=\"{}\"><button type=\"submit\">Refresh the inventory</button>"
            + " <span class=\"form-status\" role=\"status\" aria-live=\"polite\"></span><span class=\"form-error\" role=\"alert\"></span></form>", agentId);
        if (i == null) return html("<p class=\"muted\">No inventory yet: refreshing asks the agent for one (<code>health.inventory</code>).</p>{}", button);
        List<Safe> rows = new ArrayList<>();
        row(rows, "Operating system", or(Format.str(i, "os", "prettyName"), Format.str(i, "os", "name")));
        row(rows, "Kernel", join(" ", Format.str(i, "kernel", "osrelease") != null ? Format.str(i, "kernel", "osrelease") : Format.str(i, "kernel"),
            Format.str(i, "architecture")));
        row(rows, "Host", join(" ", Format.str(i, "fqdn") != null ? Format.str(i, "fqdn") : Format.str(i, "hostname")));
        row(rows, "Virtualization", join(" ", Format.str(i, "virtualization", "type"), Format.str(i, "virtualization", "hypervisor"),
            Format.str(i, "virtualization", "container")));
        row(rows, "System", join(" ", Format.str(i, "dmi", "system", "vendor"), Format.str(i, "dmi", "system", "product"),
            Format.str(i, "dmi", "system", "serial") == null ? null : "serial " + Format.str(i, "dmi", "system", "serial")));
        double sockets = Format.num(i, "cpu", "sockets");
        row(rows, "CPU", join(", ", Format.str(i, "cpu", "model"), Double.isNaN(Format.num(i, "cpu", "cores")) ? null
            : Format.number(Format.num(i, "cpu", "cores")) + " cores" + (Double.isNaN(sockets) ? "" : " in " + Format.number(sockets) + " sockets"),
            Double.isNaN(Format.num(i, "cpu", "threads")) ? null : Format.number(Format.num(i, "cpu", "threads")) + " threads"));
        row(rows, "Memory", Double.isNaN(Format.num(i, "memory", "totalBytes")) ? null : Format.bytes(Format.num(i, "memory", "totalBytes")));
        row(rows, "Disks", names(Format.at(i, "blockDevices"), "name", "sizeBytes"));
        row(rows, "Network", interfaces(Format.at(i, "network", "interfaces")));
        row(rows, "Time zone", Format.str(i, "timezone", "name") != null ? Format.str(i, "timezone", "name") : Format.str(i, "timezone"));
        return html("""
            <p class="muted">From <code>health.inventory</code>, {}. {}</p>\
            <dl class="facts inventory">{}</dl><p><a href="/api/v1/agents/{}/inventory">The whole inventory (JSON)</a></p>""",
            Html.ago(Format.str(inv, "receivedAt"), ctx.now), button, Html.join(rows), Html.enc(agentId));
    }

    private static void row(List<Safe> rows, String name, String value) {
        if (value == null || value.isBlank()) return;
        rows.add(html("<div><dt>{}</dt><dd>{}</dd></div>", name, value));
    }

    private static String names(JsonElement list, String nameField, String sizeField) {
        if (list == null || !list.isJsonArray()) return null;
        List<String> out = new ArrayList<>();
        for (JsonElement e : list.getAsJsonArray()) {
            String n = Format.str(e, nameField);
            double size = Format.num(e, sizeField);
            if (n != null) out.add(n + (Double.isNaN(size) ? "" : " " + Format.bytes(size)));
        }
        return String.join(", ", out);
    }

    private static String interfaces(JsonElement list) {
        if (list == null || !list.isJsonArray()) return null;
        List<String> out = new ArrayList<>();
        for (JsonElement e : list.getAsJsonArray()) {
            String n = Format.str(e, "name");
            if (n == null || n.equals("lo")) continue;
            List<String> addrs = new ArrayList<>();
            JsonElement as = Format.at(e, "addresses");
            if (as != null && as.isJsonArray()) {
                for (JsonElement x : as.getAsJsonArray()) {
                    String addr = x.isJsonPrimitive() ? x.getAsString() : Format.str(x, "address");
                    if (addr != null) addrs.add(addr);
                }
            }
            out.add(n + (addrs.isEmpty() ? "" : " " + String.join(" ", addrs)));
        }
        return String.join("; ", out);
    }

    // ---------------------------------------------------------------- small things

    static JsonObject parse(String json) {
        try {
            JsonElement e = Json.parse(json);
            return e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
        } catch (RuntimeException ex) {
            return new JsonObject();
        }
    }

    static String or(String... values) {
        for (String v : values) if (v != null && !v.isBlank()) return v;
        return "—";
    }

    static String join(String sep, String... parts) {
        List<String> out = new ArrayList<>();
        for (String p : parts) if (p != null && !p.isBlank() && !p.equals("NaN")) out.add(p);
        return String.join(sep, out);
    }

    static JsonArray array(JsonElement e) {
        return e != null && e.isJsonArray() ? e.getAsJsonArray() : new JsonArray();
    }
}
