package plugin.package_.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.ErrorCode;
import agent.api.InvalidParamException;
import agent.api.SettingsType;

/**
 * {@code package.upgrade} {@code {names | all: true, securityOnly, refresh}}: upgrades the named installed packages, or
 * every one. With {@code securityOnly}, only security updates: apt installs each package's newest version from a
 * security suite; dnf and yum take {@code --security}; zypper applies the security patches.
 */
@Component
@Actions("package.upgrade")
@ConcurrencyKey("package")
@DryRun
@SettingsType(PackageSettings.class)
public final class PackageUpgrader implements CommandHandler {
    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Session s = Session.open(ctx);
        List<String> names = s.names("names", false);
        boolean all = ctx.params().bool("all", false);
        boolean securityOnly = ctx.params().bool("securityOnly", false);
        boolean refresh = ctx.params().bool("refresh", true);
        if (names.isEmpty() == !all) {
            throw new InvalidParamException("names", names.isEmpty() ? "must list the packages to upgrade, or give all: true"
                : "and all: true cannot be given together");
        }
        List<Pkg> before = s.manager.installed();
        List<String> missing = new ArrayList<>();
        for (String n : names) if (Session.find(before, n) == null) missing.add(n);
        if (!missing.isEmpty()) {
            throw new CommandException("not installed, so not upgraded: " + String.join(", ", missing)
                + " (package.install installs). Nothing was changed.", ErrorCode.NOT_FOUND);
        }
        Map<String, Object> d = s.data();
        d.put("securityOnly", securityOnly);
        if (!ctx.dryRun()) {
            s.awaitLocks(refresh);
            if (refresh) s.refresh();
        } else if (s.manager.simulationLocks()) {
            s.awaitLocks(false);
        }
        List<Manager.Spec> specs = new ArrayList<>();
        if (securityOnly && s.manager instanceof Apt) {
            // apt has no --security: install each package's newest version from a security suite
            for (Manager.Update u : s.manager.updates()) {
                if (u.securityVersion() == null || (!all && names.stream().noneMatch(n -> n.equals(u.name()) || n.equals(u.name() + ":" + u.arch())))) continue;
                specs.add(new Manager.Spec(u.name(), u.securityVersion()));
            }
            if (specs.isEmpty()) {
                ctx.output().println("no security update for " + (all ? "any installed package" : String.join(", ", names)));
                d.put("changed", false);
                d.put("packages", List.of());
                s.reboot(d);
                return d;
            }
        } else {
            for (String n : names) specs.add(new Manager.Spec(n, null));
        }
        String what = (securityOnly ? "security upgrade of " : "upgrade of ") + (specs.isEmpty() ? "all packages"
            : String.join(", ", specs.stream().map(x -> x.version() == null ? x.name() : x.name() + " to " + x.version()).toList()));
        if (ctx.dryRun()) {
            if (refresh) ctx.output().println("(a dry run does not refresh the package lists)");
            List<Change> plan = s.plan(s.manager.simulate(s.manager.upgradeArgs(specs, securityOnly, true), what).output(), before);
            d.put("changed", !plan.isEmpty());
            d.put("packages", Change.toData(plan));
            s.reboot(d);
            return d;
        }
        ctx.checkCancelled();
        List<Change> changes = s.runAndCompare(s.manager.upgradeArgs(specs, securityOnly, false), what, before);
        d.put("changed", !changes.isEmpty());
        d.put("packages", Change.toData(changes));
        s.reboot(d);
        return d;
    }
}
