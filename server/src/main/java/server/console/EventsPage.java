package server.console;

import static server.console.Html.html;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.console.Html.Safe;
import server.http.Json;

/** Events and alerts: the fleet's open alerts, and a live feed of events filterable by agent and kind. */
final class EventsPage {
    private EventsPage() {}

    static final int PAGE_SIZE = 50;
    private static final List<String> KNOWN_KINDS = List.of("alert", "health", "agent.events_dropped");

    static Console.View render(Console.Ctx ctx) {
        String agent = ctx.q("agent");
        String kind = ctx.q("kind");
        boolean withHealth = ctx.q("health") != null;
        Long before = null;
        try {
            if (ctx.q("before") != null) before = Long.parseLong(ctx.q("before"));
        } catch (NumberFormatException e) {
            before = null;
        }
        List<String> agentIds = null;
        if (agent != null) agentIds = new ArrayList<>(ctx.deps().queries().resolve(List.of(agent)).hostnameById().keySet());
        List<String> ids = agentIds;
        Long from = before;
        Safe filters = ctx.only != null ? Safe.EMPTY : filters(agent, kind, withHealth);
        Safe open = ctx.region("open", "event", () -> openAlerts(ctx));
        Safe feed = ctx.region("feed", "event", () -> feed(ctx, ids, agent, kind, withHealth, from));
        StringBuilder topic = new StringBuilder("page=events");
        if (agentIds != null) for (String id : agentIds) topic.append("&agent=").append(Html.enc(id));
        if (agentIds != null && agentIds.isEmpty()) topic.append("&agent=").append(Html.enc(agent)); // nobody yet: nothing matches
        if (kind != null) topic.append("&kind=").append(Html.enc(kind));
        if (withHealth) topic.append("&health=1");
        return new Console.View("Events and alerts", "events", topic.toString(), html("""
            <h1>Events and alerts</h1><section aria-labelledby="h-open"><h2 id="h-open">Open alerts</h2>{}</section>\
            <section aria-labelledby="h-feed"><h2 id="h-feed">Events, newest first</h2>{}{}</section>""", open, filters, feed));
    }

    private static Safe filters(String agent, String kind, boolean withHealth) {
        List<Safe> kinds = new ArrayList<>();
        for (String k : KNOWN_KINDS) kinds.add(html("<option value=\"{}\"></option>", k));
        return html("""
            <form class="filters" method="get" action="/console/events" role="search" aria-label="Filter events">\
            <div><label for="e-agent">Agent</label><input id="e-agent" name="agent" type="search" value="{}" placeholder="host name or agent id"></div>\
            <div><label for="e-kind">Kind</label><input id="e-kind" name="kind" list="e-kinds" value="{}" placeholder="any kind"><datalist id="e-kinds">{}</datalist></div>\
            <div class="check"><input id="e-health" name="health" type="checkbox" value="1"{}><label for="e-health">Include periodic health snapshots</label></div>\
            <div class="actions"><button type="submit">Filter</button>{}</div></form>""",
            agent == null ? "" : agent, kind == null ? "" : kind, Html.join(kinds), withHealth ? html(" checked") : Safe.EMPTY,
            agent != null || kind != null || withHealth ? html(" <a href=\"/console/events\">Clear</a>") : Safe.EMPTY);
    }

    private static Safe openAlerts(Console.Ctx ctx) {
        Queries.Page<Queries.AlertRow> open = ctx.deps().queries().openAlerts(null, 50);
        if (open.total() == 0) return html("<p class=\"ok-note\">None across the fleet.</p>");
        List<Safe> items = new ArrayList<>();
        for (Queries.AlertRow r : open.rows()) {
            items.add(AgentPage.alertItem(r.data(), ctx.now, html("<a href=\"/console/agents/{}#alerts\">{}</a>: ", Html.enc(r.agentId()),
                r.hostname() == null ? r.agentId() : r.hostname())));
        }
        return html("<p>{} open alert{}{}.</p><ul class=\"alerts fleet-alerts\" id=\"open-alerts\">{}</ul>", open.total(), open.total() == 1 ? "" : "s",
            open.total() > items.size() ? ", the " + items.size() + " that changed last" : "", Html.join(items));
    }

    private static Safe feed(Console.Ctx ctx, List<String> agentIds, String agent, String kind, boolean withHealth, Long before) {
        if (agentIds != null && agentIds.isEmpty()) return html("<p class=\"muted\">No agent is called <code>{}</code>.</p>", agent);
        List<Queries.EventRow> events = ctx.deps().queries().events(agentIds, kind, withHealth, before, PAGE_SIZE);
        if (events.isEmpty()) return html("<p class=\"muted\">No event{}.</p>", before == null ? " yet" : " before these");
        List<Safe> rows = new ArrayList<>();
        for (Queries.EventRow e : events) {
            JsonObject ev = AgentPage.parse(e.event());
            String time = Format.str(ev, "time") != null ? Format.str(ev, "time") : e.receivedAt();
            JsonElement data = Format.at(ev, "data");
            rows.add(html("""
                <tr data-seq="{}"><td>{}</td><td><a href="/console/agents/{}">{}</a></td><td><span class="kind k-{}">{}</span></td>\
                <td>{}<details><summary>Data</summary><pre>{}</pre></details></td></tr>""",
                e.seq(), Html.ago(time, ctx.now), Html.enc(e.agentId()), e.hostname() == null ? e.agentId() : e.hostname(),
                e.kind() == null ? "" : e.kind().replaceAll("[^a-z]", "-"), e.kind() == null ? "—" : e.kind(),
                summary(e.kind(), data), data == null ? "null" : Json.PRETTY.toJson(data)));
        }
        long oldest = events.get(events.size() - 1).seq();
        StringBuilder older = new StringBuilder("?before=" + oldest);
        if (agent != null) older.append("&agent=").append(Html.enc(agent));
        if (kind != null) older.append("&kind=").append(Html.enc(kind));
        if (withHealth) older.append("&health=1");
        return html("""
            <div class="table-wrap" role="region" aria-labelledby="feed-caption" tabindex="0"><table class="events" id="event-feed">\
            <caption id="feed-caption">{}{}</caption><thead><tr><th scope="col">When</th><th scope="col">Agent</th><th scope="col">Kind</th>\
            <th scope="col">What</th></tr></thead><tbody>{}</tbody></table></div><nav class="pager" aria-label="Event pages">{}{}</nav>""",
            before == null ? "The newest events" : "Older events", withHealth || kind != null ? "" : " (health snapshots left out)", Html.join(rows),
            before == null ? Safe.EMPTY : html("<a href=\"/console/events\">Newest</a> "),
            events.size() == PAGE_SIZE ? html("<a rel=\"next\" href=\"{}\">Older events</a>", older.toString()) : Safe.EMPTY);
    }

    /** One line saying what an event says: an alert's message, a drop's count, a snapshot's headline figures. */
    static Safe summary(String kind, JsonElement data) {
        if (data == null) return Safe.EMPTY;
        if ("alert".equals(kind)) {
            return html("{} {} ", Layout.badge(Format.str(data, "state")), Format.str(data, "message") != null ? Format.str(data, "message")
                : Format.str(data, "alert") + " " + (Format.str(data, "subject") == null ? "" : Format.str(data, "subject")));
        }
        if ("agent.events_dropped".equals(kind)) {
            return html("{} events dropped by the agent (its backlog was full), from {} to {} ", Format.number(Format.num(data, "count")),
                Format.time(Format.str(data, "oldest")), Format.time(Format.str(data, "newest")));
        }
        if ("health".equals(kind)) {
            double cpu = Format.num(data, "cpu", "usagePercent");
            double mem = Format.num(data, "memory", "availablePercent");
            double load = Format.num(data, "load", "load1");
            return html("CPU {}, memory {} available, load {} ", Double.isNaN(cpu) ? "—" : Format.percent(cpu),
                Double.isNaN(mem) ? "—" : Format.percent(mem), Double.isNaN(load) ? "—" : String.format(Locale.ROOT, "%.2f", load));
        }
        String text = data.toString();
        return html("<span class=\"mono small\">{}</span> ", text.length() > 160 ? text.substring(0, 157) + "..." : text);
    }
}
