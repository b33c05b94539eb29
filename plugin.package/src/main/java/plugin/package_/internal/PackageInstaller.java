package plugin.package_.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.InvalidParamException;
import agent.api.Params;
import agent.api.SettingsType;

/**
 * {@code package.install} {@code {names, versions, refresh, allowDowngrade}}: installs what is not installed (at the
 * version asked, if one is). A package already installed, at the version asked if there is one, is left alone: asking
 * again changes nothing. The data lists each package installed, upgraded or downgraded, with its old and new version.
 */
@Component
@Actions("package.install")
@ConcurrencyKey("package")
@DryRun
@SettingsType(PackageSettings.class)
public final class PackageInstaller implements CommandHandler {
    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Session s = Session.open(ctx);
        Params p = ctx.params();
        List<String> names = s.names("names", true);
        Map<String, String> versions = versions(p, s.manager.grammar(), names);
        boolean refresh = p.bool("refresh", true);
        boolean allowDowngrade = p.bool("allowDowngrade", false);

        List<Pkg> before = s.manager.installed();
        List<Manager.Spec> pending = new ArrayList<>();
        List<String> already = new ArrayList<>();
        for (String n : names) {
            Pkg have = Session.find(before, n);
            String want = versions.get(n);
            if (have != null && (want == null || s.manager.order().compare(have.version(), want) == 0) && have.state() == null) {
                already.add(n);
                continue;
            }
            if (have != null && want != null && s.manager.order().compare(want, have.version()) < 0 && !allowDowngrade) {
                throw new CommandRefusedException("param 'versions': " + n + " " + want + " is older than the installed " + have.version()
                    + "; give allowDowngrade: true to downgrade it. Nothing was changed.");
            }
            pending.add(new Manager.Spec(n, want));
        }
        Map<String, Object> d = s.data();
        d.put("alreadyInstalled", already);
        if (pending.isEmpty()) {
            ctx.output().println("already installed: " + String.join(", ", already) + "; nothing to do");
            d.put("changed", false);
            d.put("packages", List.of());
            s.reboot(d);
            return d;
        }
        String what = "installing " + String.join(", ", pending.stream().map(x -> x.version() == null ? x.name() : x.name() + " " + x.version()).toList());
        if (ctx.dryRun()) {
            if (s.manager.simulationLocks()) s.awaitLocks(false);
            if (refresh) ctx.output().println("(a dry run does not refresh the package lists)");
            List<Change> plan = s.plan(s.manager.simulate(s.manager.installArgs(pending, true, allowDowngrade), what).output(), before);
            d.put("changed", !plan.isEmpty());
            d.put("packages", Change.toData(plan));
            s.reboot(d);
            return d;
        }
        s.awaitLocks(refresh);
        if (refresh) s.refresh();
        ctx.checkCancelled();
        List<Change> changes = s.runAndCompare(s.manager.installArgs(pending, false, allowDowngrade), what, before);
        List<Pkg> after = s.manager.installed();
        for (Manager.Spec spec : pending) {
            Pkg now = Session.find(after, spec.name());
            if (now == null || (spec.version() != null && s.manager.order().compare(now.version(), spec.version()) != 0)) {
                throw new CommandException(s.manager.id() + " reported success, but " + spec.name() + " is "
                    + (now == null ? "not installed" : "at " + now.version()) + (spec.version() == null ? "" : ", not " + spec.version())
                    + ". Changed: " + (changes.isEmpty() ? "nothing" : Session.describe(changes)));
            }
        }
        d.put("changed", !changes.isEmpty());
        d.put("packages", Change.toData(changes));
        s.reboot(d);
        return d;
    }

    /** @return {@code versions}: names (each one of {@code names}) to versions, checked against the manager's grammar */
    static Map<String, String> versions(Params p, Grammar g, List<String> names) throws InvalidParamException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : p.object("versions").entrySet()) {
            if (!names.contains(e.getKey())) {
                throw new InvalidParamException("versions", "names '" + Grammar.quote(e.getKey()) + "', which is not in names");
            }
            if (!(e.getValue() instanceof String)) {
                throw new InvalidParamException("versions", "must map each name to a version string; '" + e.getKey() + "' has " + e.getValue());
            }
            g.checkVersion("versions", (String) e.getValue());
            out.put(e.getKey(), (String) e.getValue());
        }
        return out;
    }
}
