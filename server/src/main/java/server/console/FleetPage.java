package server.console;

import static server.console.Html.html;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

import server.console.Html.Safe;
import server.gateway.AgentGateway;

/** The fleet: counts, filters, and one page of agents with their live connection state. */
final class FleetPage {
    private FleetPage() {}

    static final int PAGE_SIZE = 50;

    static Console.View render(Console.Ctx ctx) {
        Queries q = ctx.deps().queries();
        String state = ctx.q("state");
        if (state != null && !List.of("connected", "polling", "online", "disconnected").contains(state)) state = null;
        Queries.FleetFilter f = new Queries.FleetFilter(ctx.q("q"), state, ctx.q("alert") != null, ctx.q("os"), ctx.q("plugin"));
        int page = ctx.page();
        Safe counts = ctx.region("counts", "agent event", () -> counts(ctx));
        Safe filters = ctx.only != null ? Safe.EMPTY : filters(ctx, f);
        Safe table = ctx.region("table", "event", () -> table(ctx, f, page));
        return new Console.View("Fleet", "fleet", "page=fleet", html("<h1>Fleet</h1>{}{}{}", counts, filters, table));
    }

    private static Safe counts(Console.Ctx ctx) {
        Queries.Counts c = ctx.deps().queries().counts(ctx.now);
        int connected = ctx.deps().gateway().connectedCount();
        int disconnected = Math.max(0, c.total() - connected - c.polling());
        return html("""
            <ul class="counts" aria-label="Fleet counts">\
            <li><a href="/console/"><strong id="count-total">{}</strong> agents</a></li>\
            <li><a href="/console/?state=connected"><strong id="count-connected">{}</strong> connected</a></li>\
            <li><a href="/console/?state=polling"><strong id="count-polling">{}</strong> polling</a></li>\
            <li><a href="/console/?state=disconnected"><strong id="count-disconnected">{}</strong> disconnected</a></li>\
            <li class="{}"><a href="/console/?alert=1"><strong id="count-alerting">{}</strong> with open alerts{}</a></li></ul>""",
            c.total(), connected, c.polling(), disconnected, c.alerting() > 0 ? "warn" : "", c.alerting(),
            c.openAlerts() > 0 ? html(" <span class=\"muted\">({} {})</span>", c.openAlerts(), c.openAlerts() == 1 ? "alert" : "alerts") : Safe.EMPTY);
    }

    private static Safe filters(Console.Ctx ctx, Queries.FleetFilter f) {
        Queries.Choices ch = ctx.deps().queries().choices(ctx.now);
        List<Safe> states = new ArrayList<>();
        for (String[] s : new String[][] {{"", "Any"}, {"online", "Online (connected or polling)"}, {"connected", "Connected"},
            {"polling", "Polling"}, {"disconnected", "Disconnected"}}) {
            states.add(option(s[0], s[1], s[0].equals(f.state() == null ? "" : f.state())));
        }
        List<Safe> oses = new ArrayList<>(List.of(option("", "Any", f.os() == null)));
        for (String o : ch.oses()) oses.add(option(o, o, o.equals(f.os())));
        if (f.os() != null && !ch.oses().contains(f.os())) oses.add(option(f.os(), f.os(), true));
        List<Safe> plugins = new ArrayList<>(List.of(option("", "Any", f.plugin() == null)));
        for (String p : ch.plugins()) plugins.add(option(p, p, p.equals(f.plugin())));
        if (f.plugin() != null && !ch.plugins().contains(f.plugin())) plugins.add(option(f.plugin(), f.plugin(), true));
        return html("""
            <form class="filters" method="get" action="/console/" role="search" aria-label="Filter agents">\
            <div><label for="f-q">Search</label><input id="f-q" name="q" type="search" value="{}" placeholder="host name or agent id"></div>\
            <div><label for="f-state">Connection</label><select id="f-state" name="state">{}</select></div>\
            <div><label for="f-os">OS</label><select id="f-os" name="os">{}</select></div>\
            <div><label for="f-plugin">Plugin</label><select id="f-plugin" name="plugin">{}</select></div>\
            <div class="check"><input id="f-alert" name="alert" type="checkbox" value="1"{}><label for="f-alert">Has open alerts</label></div>\
            <div class="actions"><button type="submit">Filter</button>{}</div></form>""",
            f.q() == null ? "" : f.q(), Html.join(states), Html.join(oses), Html.join(plugins), f.alerting() ? html(" checked") : Safe.EMPTY,
            f.any() ? html(" <a href=\"/console/\">Clear</a>") : Safe.EMPTY);
    }

    static Safe option(String value, String label, boolean selected) {
        return html("<option value=\"{}\"{}>{}</option>", value, selected ? html(" selected") : Safe.EMPTY, label);
    }

    private static Safe table(Console.Ctx ctx, Queries.FleetFilter f, int page) {
        Queries.Page<Queries.FleetRow> rows = ctx.deps().queries().fleet(f, (page - 1) * PAGE_SIZE, PAGE_SIZE, ctx.now);
        if (rows.total() == 0) return f.any() ? html("<p class=\"empty\">No agent matches these filters. <a href=\"/console/\">Show every agent</a>.</p>")
            : firstSteps(ctx);
        AgentGateway gw = ctx.deps().gateway();
        String pollSince = ctx.deps().queries().pollOnlineSince(ctx.now);
        List<Safe> trs = new ArrayList<>();
        for (Queries.FleetRow r : rows.rows()) {
            boolean connected = gw.isConnected(r.agentId());
            Instant live = gw.lastSeen(r.agentId());
            String seen = live != null ? live.toString() : r.lastSeen();
            String st = state(connected, r.transport(), r.lastSeen(), pollSince);
            String host = r.hostname() == null ? r.agentId() : r.hostname();
            trs.add(html("""
                <tr data-agent="{}"><td><input type="checkbox" name="agent" value="{}" aria-label="Select {}"></td>\
                <th scope="row"><a href="/console/agents/{}">{}</a><div class="sub mono">{}</div></th>\
                <td><span class="state s-{}" data-agent-state="{}">{}</span></td>\
                <td data-agent-seen="{}">{}</td><td>{}</td><td class="opt">{}</td><td class="opt">{}</td><td class="opt">{}</td><td>{}</td></tr>""",
                r.agentId(), r.agentId(), host, Html.enc(r.agentId()), host, r.agentId(), st, r.agentId(), st, r.agentId(),
                Html.ago(seen, ctx.now), os(r.osName(), r.osVersion()), r.agentVersion() == null ? "" : r.agentVersion(),
                r.transport() == null ? "" : r.transport(), plugins(r.plugins()),
                r.openAlerts() == 0 ? html("<span class=\"muted\">none</span>")
                    : html("<a class=\"badge b-firing\" href=\"/console/agents/{}#alerts\">{} open</a>", Html.enc(r.agentId()), r.openAlerts())));
        }
        String base = query(f);
        return html("""
            <form method="get" action="/console/commands" class="selection">\
            <div class="table-wrap" role="region" aria-labelledby="fleet-caption" tabindex="0"><table class="fleet">\
            <caption id="fleet-caption">{} {}{}</caption>\
            <thead><tr><th scope="col"><span class="vh">Select</span></th><th scope="col">Host</th><th scope="col">State</th>\
            <th scope="col">Last seen</th><th scope="col">OS</th><th scope="col" class="opt">Agent</th><th scope="col" class="opt">Transport</th>\
            <th scope="col" class="opt">Plugins</th><th scope="col">Alerts</th></tr></thead><tbody>{}</tbody></table></div>\
            <div class="below-table"><button type="submit">Send a command to the selected agents</button>{}</div></form>""",
            rows.total(), rows.total() == 1 ? "agent" : "agents", f.any() ? " match" + (rows.total() == 1 ? "es" : "") + " the filters" : "",
            Html.join(trs), Layout.pager("Fleet pages", base, page, PAGE_SIZE, rows.total()));
    }

    /** What a new operator sees before any agent has joined: how to let one join. */
    private static Safe firstSteps(Console.Ctx ctx) {
        String host = ctx.ex.header(org.eclipse.jetty.http.HttpHeader.HOST);
        return html("""
            <section class="card first-steps" aria-labelledby="first-steps"><h2 id="first-steps">No agent has joined yet</h2>\
            <p>An agent joins with three keys in its <code>/etc/outpost/config.json</code>:</p>\
            <pre>{"server_url": "https://{}",
             "server_ca": "/etc/outpost/server-ca.pem",
             "enrollment_token": "…"}</pre>\
            <p><code>server_ca</code> is a copy of <code>ca.pem</code> from the server's data dir, and the token is the content of\
             <code>enrollment.token</code> there. It appears here, live, as soon as it connects.</p></section>""",
            host == null ? "this-server:8443" : host);
    }

    static String state(boolean connected, String transport, String lastSeen, String pollSince) {
        if (connected) return "connected";
        if ("poll".equals(transport) && lastSeen != null && lastSeen.compareTo(pollSince) >= 0) return "polling";
        return "disconnected";
    }

    /** An agent's OS as its hello says: {@code os.version} is the distribution's name ("Debian GNU/Linux 12 (bookworm)"), {@code os.name} the kernel's. */
    static String os(String name, String version) {
        if (version == null || version.isBlank()) return name == null ? "" : name;
        if (name == null || version.contains(name)) return version;
        return name.contains(version) ? name : name + " " + version;
    }

    /** The plugins an agent reported, without the bundles that serve no action (the agent's own libraries). */
    static Safe plugins(String json) {
        if (json == null) return Safe.EMPTY;
        List<String> names = new ArrayList<>();
        try {
            for (JsonElement e : JsonParser.parseString(json).getAsJsonArray()) {
                String bsn = Format.str(e, "bsn");
                String state = Format.str(e, "state");
                JsonElement actions = Format.at(e, "actions");
                boolean library = "active".equals(state) && (actions == null || !actions.isJsonArray() || actions.getAsJsonArray().isEmpty());
                if (bsn == null || library || bsn.startsWith("agent.")) continue;
                names.add(bsn.replaceFirst("^plugin\\.", "") + " " + Format.str(e, "version")
                    + ("active".equals(state) || state == null ? "" : " (" + state + ")"));
            }
        } catch (RuntimeException e) {
            return html("<span class=\"muted\">unreadable</span>");
        }
        return html("<span class=\"plugins\">{}</span>", String.join(", ", names));
    }

    private static String query(Queries.FleetFilter f) {
        List<String> parts = new ArrayList<>();
        if (f.q() != null) parts.add("q=" + Html.enc(f.q()));
        if (f.state() != null) parts.add("state=" + Html.enc(f.state()));
        if (f.alerting()) parts.add("alert=1");
        if (f.os() != null) parts.add("os=" + Html.enc(f.os()));
        if (f.plugin() != null) parts.add("plugin=" + Html.enc(f.plugin()));
        return String.join("&", parts);
    }
}
