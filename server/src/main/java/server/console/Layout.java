package server.console;

import static server.console.Html.html;

import java.util.ArrayList;
import java.util.List;

import server.console.Html.Safe;

/** The frame every console page shares: head, skip link, navigation, live-update status, sign-out. */
final class Layout {
    private Layout() {}

    private static final String[][] NAV = {
        {"fleet", "/console/", "Fleet"},
        {"commands", "/console/commands", "Commands"},
        {"plugins", "/console/plugins", "Plugins"},
        {"events", "/console/events", "Events and alerts"},
    };

    static Safe page(Console.Ctx ctx, Console.View view, String version) {
        Assets assets = ctx.deps().assets();
        List<Safe> nav = new ArrayList<>();
        for (String[] n : NAV) {
            nav.add(n[0].equals(view.nav())
                ? html("<li><a href=\"{}\" aria-current=\"page\">{}</a></li>", n[1], n[2])
                : html("<li><a href=\"{}\">{}</a></li>", n[1], n[2]));
        }
        return html("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
            <title>{} · Outpost console</title><meta name="csrf-token" content="{}">\
            <link rel="icon" href="{}" type="image/svg+xml"><link rel="stylesheet" href="{}"><script src="{}" defer></script></head>
            <body{}><a class="skip" href="#main">Skip to content</a>
            <header class="top"><a class="brand" href="/console/">Outpost</a>\
            <nav aria-label="Console"><ul>{}</ul></nav>\
            <div class="session"><span id="live" class="live" role="status" aria-live="polite">{}</span>\
            <form method="post" action="/console/signout"><input type="hidden" name="csrf" value="{}"><button type="submit" class="quiet">Sign out</button></form></div></header>
            <main id="main" tabindex="-1">{}</main>
            </body></html>
            """,
            view.title(), ctx.csrf(), assets.url("icon.svg"), assets.url("console.css"), assets.url("console.js"),
            view.stream() == null ? Safe.EMPTY : html(" data-stream=\"{}\" data-version=\"{}\"", view.stream(), version),
            Html.join(nav), view.stream() == null ? "" : "Live updates: connecting", ctx.csrf(), view.main());
    }

    /** Previous / next links for a list of {@code total} rows shown {@code size} at a time. */
    static Safe pager(String label, String baseQuery, int page, int size, int total) {
        int pages = Math.max(1, (total + size - 1) / size);
        if (pages <= 1) return Safe.EMPTY;
        String sep = baseQuery.isEmpty() ? "?" : "?" + baseQuery + "&";
        Safe prev = page > 1 ? html("<a rel=\"prev\" href=\"{}page={}\">Previous</a>", sep, page - 1) : html("<span class=\"muted\">Previous</span>");
        Safe next = page < pages ? html("<a rel=\"next\" href=\"{}page={}\">Next</a>", sep, page + 1) : html("<span class=\"muted\">Next</span>");
        return html("<nav class=\"pager\" aria-label=\"{}\">{} <span>Page {} of {}</span> {}</nav>", label, prev, page, pages, next);
    }

    /** A status as a badge: words, not only a colour. */
    static Safe badge(String status) {
        String s = status == null ? "pending" : status;
        return html("<span class=\"badge b-{}\">{}</span>", s.replaceAll("[^a-z_]", ""), s.replace('_', ' '));
    }
}
