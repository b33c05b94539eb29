package server.console;

import static server.console.Html.html;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.console.Html.Safe;
import server.http.Json;
import server.store.Records.State;

/**
 * Commands: a form that sends one action to chosen agents or to all, the runs so far (one per request, newest first),
 * a run's page (counts by status as results arrive, the slowest agents, each result), and one command's page.
 */
final class CommandsPage {
    private CommandsPage() {}

    static final int RUNS_PER_PAGE = 25;
    static final int RESULTS_PER_PAGE = 50;

    // ---------------------------------------------------------------- the list and the form

    static Console.View list(Console.Ctx ctx) {
        Safe form = ctx.only != null ? Safe.EMPTY : sendForm(ctx);
        int page = ctx.page();
        Safe runs = ctx.region("runs", "result", () -> runs(ctx, page));
        return new Console.View("Commands", "commands", "page=commands", html("""
            <h1>Commands</h1>{}<section aria-labelledby="h-runs"><h2 id="h-runs">Runs, newest first</h2>\
            <p class="help">A run is what one request sent: one command per agent. Open one to watch its results come in.</p>{}</section>""",
            form, runs));
    }

    private static Safe sendForm(Console.Ctx ctx) {
        List<String> chosen = ctx.all("agent");
        Map<String, String> hosts = chosen.isEmpty() ? Map.of() : ctx.deps().queries().hostnames(chosen);
        List<String> lines = new ArrayList<>();
        for (String id : chosen) lines.add(hosts.containsKey(id) && hosts.get(id) != null ? hosts.get(id) + "  " + id : id);
        boolean all = chosen.isEmpty() && ctx.q("all") != null;
        List<Safe> actions = new ArrayList<>();
        for (String a : ctx.deps().queries().choices(ctx.now).actions()) actions.add(html("<option value=\"{}\"></option>", a));
        String action = ctx.q("action");
        String params = ctx.q("params");
        return html("""
            <section aria-labelledby="h-send"><h2 id="h-send">Send an action</h2>\
            <form id="send-form" class="card action-form" data-form="send" novalidate>\
            <div class="field"><label for="send-action">Action</label><input id="send-action" name="action" list="send-actions" required\
             autocomplete="off" spellcheck="false" placeholder="agent.ping" value="{}"><datalist id="send-actions">{}</datalist></div>\
            <div class="field"><label for="send-params">Params (a JSON object)</label><textarea id="send-params" name="params" rows="3" spellcheck="false">{}</textarea></div>\
            <div class="field short"><label for="send-timeout">Timeout in seconds (optional)</label><input id="send-timeout" name="timeout" type="number" min="1" inputmode="numeric"></div>\
            <div class="check"><input id="send-dry" name="dryRun" type="checkbox"><label for="send-dry">Dry run</label>\
            <p class="help">Each agent changes nothing and says what it would do. An agent that does not know dry runs refuses the whole request, before anything is sent.</p></div>\
            <fieldset><legend>To</legend>\
            <div class="check"><input type="radio" id="send-to-all" name="to" value="all"{}><label for="send-to-all">Every enrolled agent</label></div>\
            <div class="check"><input type="radio" id="send-to-some" name="to" value="some"{}><label for="send-to-some">These agents</label></div>\
            <div class="field"><label for="send-agents">Agent ids or host names, one a line</label>\
            <textarea id="send-agents" name="agents" rows="4" spellcheck="false" aria-describedby="send-agents-help">{}</textarea>\
            <p class="help" id="send-agents-help">Select agents on the <a href="/console/">fleet</a> page to fill this in. A host name\
             shared by several agents sends to each of them.</p></div></fieldset>\
            <div class="actions"><button type="submit">Send</button></div>\
            <p class="form-status" role="status" aria-live="polite"></p><p class="form-error" role="alert"></p></form></section>""",
            action == null ? "" : action, Html.join(actions), params == null ? "{}" : params,
            all ? html(" checked") : Safe.EMPTY, all ? Safe.EMPTY : html(" checked"), String.join("\n", lines));
    }

    private static Safe runs(Console.Ctx ctx, int page) {
        Queries.Page<Queries.RunRow> runs = ctx.deps().queries().runs((page - 1) * RUNS_PER_PAGE, RUNS_PER_PAGE);
        if (runs.total() == 0) return html("<p class=\"muted\">Nothing has been sent yet.</p>");
        List<Safe> trs = new ArrayList<>();
        for (Queries.RunRow r : runs.rows()) {
            trs.add(html("<tr><th scope=\"row\"><a href=\"/console/runs/{}\">{}</a>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                Html.enc(r.id()), r.action() == null ? "several actions" : r.action(), r.dryRun() ? html(" <span class=\"tag\">dry run</span>") : Safe.EMPTY,
                Html.ago(r.createdAt(), ctx.now), r.allAgents() ? "all " + r.targets() + " agents" : r.targets() + (r.targets() == 1 ? " agent" : " agents"),
                statusCounts(r.byStatus())));
        }
        return html("""
            <div class="table-wrap" role="region" aria-labelledby="runs-caption" tabindex="0"><table class="runs">\
            <caption id="runs-caption">{} runs</caption><thead><tr><th scope="col">Action</th><th scope="col">Sent</th>\
            <th scope="col">To</th><th scope="col">Results</th></tr></thead><tbody>{}</tbody></table></div>{}""",
            runs.total(), Html.join(trs), Layout.pager("Run pages", "", page, RUNS_PER_PAGE, runs.total()));
    }

    static Safe statusCounts(Map<String, Integer> byStatus) {
        List<Safe> parts = new ArrayList<>();
        byStatus.forEach((status, n) -> parts.add(html("<span class=\"count\">{} {}</span>", Layout.badge(status), n)));
        return html("<span class=\"counts-inline\">{}</span>", Html.join(parts));
    }

    // ---------------------------------------------------------------- a run

    static Console.View run(Console.Ctx ctx, String runId) {
        Queries.RunRow r = ctx.deps().queries().run(runId);
        if (r == null) {
            return new Console.View("No such run", "commands", null, html("<h1>No such run</h1><p>There is no run <code>{}</code>."
                + " <a href=\"/console/commands\">All runs</a></p>", runId), 404);
        }
        String title = r.action() == null ? "Several actions" : r.action();
        Safe head = ctx.only != null ? Safe.EMPTY : html("""
            <nav class="crumbs" aria-label="Breadcrumb"><a href="/console/commands">Commands</a> <span aria-hidden="true">›</span>\
             <span aria-current="page">Run</span></nav><h1>{}{}</h1>\
            <dl class="facts"><div><dt>Sent</dt><dd>{}</dd></div><div><dt>To</dt><dd>{}</dd></div><div><dt>Run id</dt><dd class="mono">{}</dd></div></dl>\
            {}""",
            title, r.dryRun() ? html(" <span class=\"tag\">dry run</span>") : Safe.EMPTY, Format.time(r.createdAt()),
            r.allAgents() ? "every agent (" + r.targets() + ")" : r.targets() + (r.targets() == 1 ? " agent" : " agents"), r.id(),
            r.params() == null ? Safe.EMPTY : html("<details><summary>Params</summary><pre>{}</pre></details>", pretty(r.params())));
        String status = ctx.q("status");
        int page = ctx.page();
        Safe summary = ctx.region("summary", "result", () -> summary(ctx, runId));
        Safe results = ctx.region("results", "result", () -> results(ctx, runId, status, page));
        return new Console.View("Run of " + title, "commands", "page=run", html("""
            {}<section aria-labelledby="h-summary"><h2 id="h-summary">Progress</h2>{}</section>\
            <section aria-labelledby="h-results"><h2 id="h-results">Results</h2>{}</section>""", head, summary, results));
    }

    private static Safe summary(Console.Ctx ctx, String runId) {
        Queries.RunRow r = ctx.deps().queries().run(runId);
        int done = r.targets() - r.pending();
        List<Safe> tiles = new ArrayList<>();
        r.byStatus().forEach((status, n) -> tiles.add(html("<div class=\"tile\"><h3>{}</h3><p class=\"big\" data-status-count=\"{}\">{}</p></div>",
            status.replace('_', ' '), status, n)));
        Queries.Page<Queries.CommandRow> slow = ctx.deps().queries().runCommands(runId, "slowest", null, 0, 5);
        Queries.Page<Queries.CommandRow> waiting = ctx.deps().queries().runCommands(runId, "pending", null, 0, 5);
        List<Safe> slowItems = new ArrayList<>();
        for (Queries.CommandRow c : slow.rows()) {
            long rt = Format.between(c.createdAt(), c.receivedAt());
            long ran = ran(c);
            slowItems.add(html("<li><a href=\"/console/agents/{}\">{}</a> {} <span class=\"muted\">round trip {}{}</span></li>", Html.enc(c.agentId()),
                c.hostname() == null ? c.agentId() : c.hostname(), Layout.badge(c.status()), rt < 0 ? "—" : Format.duration(rt),
                ran < 0 ? "" : ", ran " + Format.duration(ran)));
        }
        List<Safe> waitItems = new ArrayList<>();
        for (Queries.CommandRow c : waiting.rows()) {
            waitItems.add(html("<li><a href=\"/console/agents/{}\">{}</a> <span class=\"muted\">{}, {}</span></li>", Html.enc(c.agentId()),
                c.hostname() == null ? c.agentId() : c.hostname(), c.state(), "waiting " + Format.duration(Math.max(0, Format.between(c.createdAt(),
                    java.time.Instant.ofEpochMilli(ctx.now).toString())))));
        }
        return html("""
            <p><progress max="{}" value="{}" aria-label="Results received">{} of {}</progress> {} of {} results</p>\
            <div class="tiles">{}</div><div class="two">\
            <div><h3>Slowest agents</h3>{}</div><div><h3>Still waiting</h3>{}</div></div>""",
            r.targets(), done, done, r.targets(), done, r.targets(), Html.join(tiles),
            slowItems.isEmpty() ? html("<p class=\"muted\">No result yet.</p>") : html("<ol class=\"plain\">{}</ol>", Html.join(slowItems)),
            waitItems.isEmpty() ? html("<p class=\"muted\">Nobody: every agent answered.</p>")
                : html("<ul class=\"plain\">{}</ul>{}", Html.join(waitItems), waiting.total() > waitItems.size()
                    ? html("<p><a href=\"?status=pending#h-results\">All {} still waiting</a></p>", waiting.total()) : Safe.EMPTY));
    }

    private static Safe results(Console.Ctx ctx, String runId, String status, int page) {
        Queries.RunRow r = ctx.deps().queries().run(runId);
        List<Safe> filters = new ArrayList<>();
        filters.add(status == null ? html("<a href=\"?\" aria-current=\"true\">all</a>") : html("<a href=\"?#h-results\">all</a>"));
        for (String s : r.byStatus().keySet()) {
            filters.add(s.equals(status) ? html("<a href=\"?status={}\" aria-current=\"true\">{}</a>", s, s.replace('_', ' '))
                : html("<a href=\"?status={}#h-results\">{}</a>", s, s.replace('_', ' ')));
        }
        Queries.Page<Queries.CommandRow> rows = ctx.deps().queries().runCommands(runId, "host", status, (page - 1) * RESULTS_PER_PAGE, RESULTS_PER_PAGE);
        List<Safe> trs = new ArrayList<>();
        for (Queries.CommandRow c : rows.rows()) trs.add(commandRows(ctx, c, true));
        return html("""
            <p class="ranges">Show: {}</p><div class="table-wrap" role="region" aria-labelledby="res-caption" tabindex="0"><table class="commands">\
            <caption id="res-caption">{} commands{}</caption><thead><tr><th scope="col">Agent</th><th scope="col">Status</th>\
            <th scope="col">Issued</th><th scope="col">Duration</th><th scope="col"><span class="vh">Actions</span></th></tr></thead>{}</table></div>{}""",
            Html.join(filters), rows.total(), status == null ? "" : " " + status.replace('_', ' '), Html.join(trs),
            Layout.pager("Result pages", status == null ? "" : "status=" + Html.enc(status), page, RESULTS_PER_PAGE, rows.total()));
    }

    // ---------------------------------------------------------------- one command

    static Console.View command(Console.Ctx ctx, String id) {
        Queries.CommandRow c = ctx.deps().queries().command(id);
        if (c == null) {
            return new Console.View("No such command", "commands", null, html("<h1>No such command</h1><p>There is no command <code>{}</code>."
                + " <a href=\"/console/commands\">All runs</a></p>", id), 404);
        }
        String host = c.hostname() == null ? c.agentId() : c.hostname();
        Safe head = ctx.only != null ? Safe.EMPTY : html("""
            <nav class="crumbs" aria-label="Breadcrumb"><a href="/console/agents/{}">{}</a> <span aria-hidden="true">›</span>\
             <span aria-current="page">{}</span>{}</nav><h1>{} on {}</h1>""",
            Html.enc(c.agentId()), host, c.action(), c.runId() == null ? Safe.EMPTY
                : html(" <span class=\"muted\">(part of <a href=\"/console/runs/{}\">a run</a>)</span>", Html.enc(c.runId())), c.action(), host);
        Safe body = ctx.region("command", "result", () -> {
            Queries.CommandRow now = ctx.deps().queries().command(id);
            return html("""
                <div class="table-wrap" role="region" aria-label="The command" tabindex="0"><table class="commands single">\
                <thead><tr><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Issued</th><th scope="col">Duration</th>\
                <th scope="col"><span class="vh">Actions</span></th></tr></thead>{}</table></div>""", commandRows(ctx, now, false, true));
        });
        Safe again = html("<p><a href=\"/console/commands?action={}&amp;params={}&amp;agent={}\">Send it again</a></p>",
            Html.enc(c.action()), Html.enc(c.params()), Html.enc(c.agentId()));
        return new Console.View(c.action() + " on " + host, "commands",
            "page=command&agent=" + Html.enc(c.agentId()) + "&command=" + Html.enc(c.id()), html("{}{}{}", head, body, again));
    }

    // ---------------------------------------------------------------- rows

    static Safe commandRows(Console.Ctx ctx, Queries.CommandRow c, boolean showAgent) {
        return commandRows(ctx, c, showAgent, false);
    }

    /** A command as two rows in its own {@code tbody}: the summary, and the details (params, output, data, error). */
    static Safe commandRows(Console.Ctx ctx, Queries.CommandRow c, boolean showAgent, boolean whole) {
        JsonObject result = c.result() == null ? null : AgentPage.parse(c.result());
        String shown = c.status() != null ? c.status() : State.ACCEPTED.equals(c.state()) ? "running" : c.state();
        long ran = ran(c);
        String duration = ran >= 0 ? Format.duration(ran)
            : c.status() == null && !State.CANCELLED.equals(c.state()) && !State.UNDELIVERABLE.equals(c.state())
                ? "waiting " + Format.duration(Math.max(0, ctx.now - java.time.Instant.parse(c.createdAt()).toEpochMilli())) : "—";
        boolean cancellable = c.status() == null && (State.QUEUED.equals(c.state()) || State.DISPATCHED.equals(c.state())
            || State.ACCEPTED.equals(c.state())) && !c.cancelRequested();
        Safe name = showAgent
            ? html("<a href=\"/console/agents/{}\">{}</a>", Html.enc(c.agentId()), c.hostname() == null ? c.agentId() : c.hostname())
            : html("<a href=\"/console/commands/{}\">{}</a>", Html.enc(c.id()), c.action());
        JsonObject progress = ctx.deps().gateway().progress(c.id());
        Safe progressNote = progress == null || c.status() != null ? Safe.EMPTY : html(" <span class=\"muted\">{}{}</span>",
            Double.isNaN(Format.num(progress, "percent")) ? "" : Format.number(Format.num(progress, "percent")) + " % ",
            Format.str(progress, "message") == null ? "" : Format.str(progress, "message"));
        return html("""
            <tbody class="command" data-command="{}"><tr><th scope="row">{}{}{}</th><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\
            <tr class="detail"><td colspan="5"><details data-details="{}"{}><summary>Details{}</summary>{}</details></td></tr></tbody>""",
            c.id(), name, c.dryRun() ? html(" <span class=\"tag\">dry run</span>") : Safe.EMPTY,
            c.cancelRequested() && c.status() == null ? html(" <span class=\"tag\">cancel asked</span>") : Safe.EMPTY,
            Layout.badge(shown), progressNote, Html.ago(c.createdAt(), ctx.now), duration,
            cancellable ? html("<button type=\"button\" class=\"quiet\" data-cancel=\"{}\">Cancel</button>", c.id()) : Safe.EMPTY,
            c.id(), whole ? html(" open") : Safe.EMPTY, showAgent ? html(" <span class=\"vh\">of {}</span>", c.hostname()) : html(" <span class=\"vh\">of {}</span>", c.action()),
            details(c, result, whole));
    }

    private static Safe details(Queries.CommandRow c, JsonObject r, boolean whole) {
        List<Safe> parts = new ArrayList<>();
        parts.add(html("<dl class=\"facts small\"><div><dt>Command id</dt><dd class=\"mono\">{}</dd></div><div><dt>State</dt><dd>{}</dd></div>{}{}</dl>",
            c.id(), c.state(), r == null || Format.str(r, "errorCode") == null ? Safe.EMPTY
                : html("<div><dt>Error code</dt><dd class=\"mono\">{}</dd></div>", Format.str(r, "errorCode")),
            r == null || Double.isNaN(Format.num(r, "exitCode")) ? Safe.EMPTY
                : html("<div><dt>Exit code</dt><dd>{}</dd></div>", Format.number(Format.num(r, "exitCode")))));
        parts.add(html("<h4>Params</h4><pre>{}</pre>", pretty(c.params())));
        if (r != null) {
            String error = Format.str(r, "error");
            if (error != null) parts.add(html("<h4>Error</h4><p class=\"error-text\">{}</p>", error));
            String output = Format.str(r, "output");
            if (output != null && !output.isEmpty()) {
                boolean cut = !whole && output.length() > AgentPage.OUTPUT_SHOWN;
                parts.add(html("<h4>Output{}</h4><pre class=\"output\">{}</pre>{}",
                    Boolean.TRUE.equals(bool(r, "outputTruncated")) ? " (the agent kept its first and last parts)" : "",
                    cut ? output.substring(0, AgentPage.OUTPUT_SHOWN) : output,
                    cut ? html("<p><a href=\"/console/commands/{}\">All {} characters of output</a></p>", Html.enc(c.id()), output.length()) : Safe.EMPTY));
            }
            JsonElement data = Format.at(r, "data");
            if (data != null) parts.add(html("<h4>Data</h4><pre class=\"data\">{}</pre>", Json.PRETTY.toJson(data)));
        }
        return Html.join(parts);
    }

    private static Boolean bool(JsonObject o, String field) {
        JsonElement e = Format.at(o, field);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean() ? e.getAsBoolean() : null;
    }

    /** How long the command ran on the agent (its result's startedAt to finishedAt), or -1. */
    static long ran(Queries.CommandRow c) {
        if (c.result() == null) return -1;
        JsonObject r = AgentPage.parse(c.result());
        return Format.between(Format.str(r, "startedAt"), Format.str(r, "finishedAt"));
    }

    static String pretty(String json) {
        try {
            return Json.PRETTY.toJson(Json.parse(json));
        } catch (RuntimeException e) {
            return json;
        }
    }
}
