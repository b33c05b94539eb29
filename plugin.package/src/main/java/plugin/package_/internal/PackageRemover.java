package plugin.package_.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.SettingsType;

/**
 * {@code package.remove} {@code {names, purge, removeDependents}}: removes the installed ones among {@code names}
 * (purge: with their config files, where the manager keeps them apart: apt). A removal that would take other
 * packages with it (those that depend on the named ones) is refused, listing them, unless {@code removeDependents}.
 */
@Component
@Actions("package.remove")
@ConcurrencyKey("package")
@DryRun
@SettingsType(PackageSettings.class)
public final class PackageRemover implements CommandHandler {
    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Session s = Session.open(ctx);
        List<String> names = s.names("names", true);
        boolean purge = ctx.params().bool("purge", false);
        boolean dependents = ctx.params().bool("removeDependents", false);
        List<Pkg> before = s.manager.installed();
        List<String> present = new ArrayList<>(), absent = new ArrayList<>();
        for (String n : names) (Session.find(before, n) == null ? absent : present).add(n);
        Map<String, Object> d = s.data();
        d.put("notInstalled", absent);
        if (present.isEmpty()) {
            ctx.output().println("not installed: " + String.join(", ", absent) + "; nothing to remove");
            d.put("changed", false);
            d.put("packages", List.of());
            s.reboot(d);
            return d;
        }
        if (purge && !s.manager.id().equals("apt")) ctx.output().println("(purge: " + s.manager.id() + " keeps no config files apart; a removal is all there is)");
        if (s.manager.simulationLocks()) s.awaitLocks(false);
        String what = (purge ? "purging " : "removing ") + String.join(", ", present);
        // always simulated first: what else would go with them
        List<Change> plan = s.plan(s.manager.simulate(s.manager.removeArgs(present, purge, true), what).output(), before);
        List<String> others = new ArrayList<>();
        for (Change c : plan) {
            if (c.action().equals("removed") && present.stream().noneMatch(n -> n.equals(c.name()) || n.startsWith(c.name() + ":"))) {
                others.add(c.name());
            }
        }
        if (!others.isEmpty() && !dependents) {
            throw new CommandRefusedException("removing " + String.join(", ", present) + " would also remove " + String.join(", ", others)
                + ", which depend on them; give removeDependents: true to remove them too. Nothing was changed.");
        }
        if (ctx.dryRun()) {
            d.put("changed", !plan.isEmpty());
            d.put("packages", Change.toData(plan));
            s.reboot(d);
            return d;
        }
        s.awaitLocks(false);
        ctx.checkCancelled();
        List<Change> changes = s.runAndCompare(s.manager.removeArgs(present, purge, false), what, before);
        d.put("changed", !changes.isEmpty());
        d.put("packages", Change.toData(changes));
        s.reboot(d);
        return d;
    }
}
