package server.console;

import static server.console.Html.html;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import server.console.Html.Safe;
import server.store.Records.Bundle;

/** Plugins: the uploaded bundles, an upload form, a push form (install, upgrade, remove), and who runs what. */
final class PluginsPage {
    private PluginsPage() {}

    static Console.View render(Console.Ctx ctx) {
        boolean libraries = ctx.q("libraries") != null;
        Safe bundles = ctx.region("bundles", "", () -> bundles(ctx));
        Safe push = ctx.region("push", "", () -> pushForm(ctx));
        Safe deployed = ctx.region("deployed", "result agent", () -> deployed(ctx, libraries));
        Safe upload = ctx.only != null ? Safe.EMPTY : html("""
            <form id="upload-form" class="card action-form" data-form="upload" novalidate>\
            <div class="field"><label for="upload-file">Plugin jar</label><input id="upload-file" name="jar" type="file" accept=".jar,application/java-archive"\
             required aria-describedby="upload-help"><p class="help" id="upload-help">An OSGi bundle (Bundle-SymbolicName and Bundle-Version in its\
             manifest), at most 64 MiB. Agents download it from this server, checked by its sha256.</p></div>\
            <div class="actions"><button type="submit">Upload</button></div>\
            <p class="form-status" role="status" aria-live="polite"></p><p class="form-error" role="alert"></p></form>""");
        return new Console.View("Plugins", "plugins", "page=plugins", html("""
            <h1>Plugins</h1><section aria-labelledby="h-bundles"><h2 id="h-bundles">Uploaded bundles</h2>{}{}</section>\
            <section aria-labelledby="h-push"><h2 id="h-push">Install, upgrade or remove</h2>{}</section>\
            <section aria-labelledby="h-deployed"><h2 id="h-deployed">Which agents run which versions</h2>{}</section>""",
            upload, bundles, push, deployed));
    }

    private static Safe bundles(Console.Ctx ctx) {
        List<Bundle> list = ctx.deps().store().bundles();
        if (list.isEmpty()) return html("<p class=\"muted\">No bundle uploaded yet.</p>");
        List<Safe> trs = new ArrayList<>();
        for (int i = list.size() - 1; i >= 0; i--) {
            Bundle b = list.get(i);
            trs.add(html("""
                <tr data-bundle="{}"><th scope="row">{}</th><td>{}</td><td class="mono"><abbr title="{}">{}…</abbr></td><td>{}</td><td class="opt">{}</td>\
                <td><button type="button" class="quiet" data-push="{}">Push…<span class="vh"> {} {}</span></button></td></tr>""",
                b.sha256(), b.bsn(), b.version(), b.sha256(), b.sha256().substring(0, 12), Format.bytes(b.size()), Html.ago(b.uploadedAt(), ctx.now),
                b.sha256(), b.bsn(), b.version()));
        }
        return html("""
            <div class="table-wrap" role="region" aria-labelledby="bundles-caption" tabindex="0"><table id="bundles">\
            <caption id="bundles-caption">{} bundles, newest first</caption><thead><tr><th scope="col">Bundle</th><th scope="col">Version</th>\
            <th scope="col">sha256</th><th scope="col">Size</th><th scope="col" class="opt">Uploaded</th><th scope="col"><span class="vh">Actions</span></th></tr>\
            </thead><tbody>{}</tbody></table></div>""", list.size(), Html.join(trs));
    }

    private static Safe pushForm(Console.Ctx ctx) {
        List<Bundle> list = ctx.deps().store().bundles();
        List<Safe> options = new ArrayList<>();
        for (int i = list.size() - 1; i >= 0; i--) {
            Bundle b = list.get(i);
            options.add(html("<option value=\"{}\" data-bsn=\"{}\">{} {} ({}…)</option>", b.sha256(), b.bsn(), b.bsn(), b.version(), b.sha256().substring(0, 12)));
        }
        TreeSet<String> bsns = new TreeSet<>();
        for (Queries.Deployed d : ctx.deps().queries().deployed(false)) bsns.add(d.bsn());
        List<Safe> names = new ArrayList<>();
        for (String b : bsns) names.add(html("<option value=\"{}\"></option>", b));
        return html("""
            <form id="push-form" class="card action-form" data-form="push" novalidate>\
            <fieldset><legend>Operation</legend>\
            <div class="check"><input type="radio" id="push-install" name="op" value="install" checked><label for="push-install">Install</label></div>\
            <div class="check"><input type="radio" id="push-upgrade" name="op" value="upgrade"><label for="push-upgrade">Upgrade</label></div>\
            <div class="check"><input type="radio" id="push-remove" name="op" value="remove"><label for="push-remove">Remove</label></div></fieldset>\
            <div class="field" data-for-op="install upgrade"><label for="push-bundle">Bundle</label><select id="push-bundle" name="sha256">{}</select></div>\
            <div class="field" data-for-op="remove" hidden><label for="push-bsn">Bundle symbolic name to remove</label>\
            <input id="push-bsn" name="bsn" list="push-bsns" autocomplete="off" spellcheck="false"><datalist id="push-bsns">{}</datalist></div>\
            <div class="check" data-for-op="install"><input id="push-start" name="start" type="checkbox" checked><label for="push-start">Start it once installed</label></div>\
            <div class="check" data-for-op="upgrade" hidden><input id="push-downgrade" name="allowDowngrade" type="checkbox"><label for="push-downgrade">Allow an older version</label></div>\
            <div class="check"><input id="push-dry" name="dryRun" type="checkbox"><label for="push-dry">Dry run</label></div>\
            <fieldset><legend>To</legend>\
            <div class="check"><input type="radio" id="push-to-all" name="to" value="all"><label for="push-to-all">Every enrolled agent</label></div>\
            <div class="check"><input type="radio" id="push-to-some" name="to" value="some" checked><label for="push-to-some">These agents</label></div>\
            <div class="field"><label for="push-agents">Agent ids or host names, one a line</label><textarea id="push-agents" name="agents" rows="3" spellcheck="false"></textarea></div>\
            </fieldset><div class="actions"><button type="submit">Push</button></div>\
            <p class="form-status" role="status" aria-live="polite"></p><p class="form-error" role="alert"></p></form>""",
            options.isEmpty() ? html("<option value=\"\">(upload a bundle first)</option>") : Html.join(options), Html.join(names));
    }

    private static Safe deployed(Console.Ctx ctx, boolean libraries) {
        List<Queries.Deployed> rows = ctx.deps().queries().deployed(libraries);
        Safe toggle = libraries ? html("<p><a href=\"/console/plugins#h-deployed\">Hide the agents' libraries</a></p>")
            : html("<p><a href=\"/console/plugins?libraries=1#h-deployed\">Show the agents' libraries too</a> (bundles that serve no action)</p>");
        if (rows.isEmpty()) return html("<p class=\"muted\">No agent has reported its plugins yet.</p>{}", toggle);
        List<Safe> trs = new ArrayList<>();
        for (Queries.Deployed d : rows) {
            trs.add(html("<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td><a href=\"/console/?plugin={}\">{} {}</a></td><td>{}</td></tr>",
                d.bsn(), d.version(), Layout.badge(d.state()), Html.enc(d.bsn() + "@" + d.version()), d.agents(), d.agents() == 1 ? "agent" : "agents",
                d.connected()));
        }
        return html("""
            <div class="table-wrap" role="region" aria-labelledby="deployed-caption" tabindex="0"><table id="deployed">\
            <caption id="deployed-caption">Plugin versions across the fleet, as the agents last reported them</caption>\
            <thead><tr><th scope="col">Bundle</th><th scope="col">Version</th><th scope="col">State</th><th scope="col">Agents</th>\
            <th scope="col">Connected</th></tr></thead><tbody>{}</tbody></table></div>{}""", Html.join(trs), toggle);
    }
}
