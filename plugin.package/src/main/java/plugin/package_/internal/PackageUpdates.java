package plugin.package_.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.SettingsType;

/**
 * {@code package.updates} {@code {refresh}}: what could be upgraded, each with its installed and candidate version and
 * whether it is a security update (apt: a newer version from a security suite; dnf and yum: a security advisory;
 * zypper: not per package, its security patches are listed beside). A dry run does not refresh the lists.
 */
@Component
@Actions("package.updates")
@ConcurrencyKey("package")
@DryRun
@SettingsType(PackageSettings.class)
public final class PackageUpdates implements CommandHandler {
    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Session s = Session.open(ctx);
        boolean refresh = ctx.params().bool("refresh", true) && !ctx.dryRun();
        if (refresh) {
            s.awaitLocks(true);
            s.refresh();
        }
        List<Manager.Update> updates = s.manager.updates();
        List<Map<String, Object>> list = new ArrayList<>();
        int security = 0;
        for (Manager.Update u : updates) {
            list.add(u.toData());
            if (Boolean.TRUE.equals(u.security())) security++;
        }
        Map<String, Object> d = s.data();
        d.put("refreshed", refresh);
        d.put("count", list.size());
        d.put("securityCount", security);
        d.put("updates", list);
        if (s.manager instanceof Zypper) {
            List<Map<String, Object>> patches = new ArrayList<>();
            for (ZypperOutput.Patch p : ((Zypper) s.manager).securityPatches()) {
                patches.add(Map.of("name", p.name(), "category", p.category(), "severity", p.severity(), "status", p.status()));
            }
            d.put("securityPatches", patches);
            d.put("securityCount", patches.size());
        }
        s.reboot(d);
        ctx.output().println(list.size() + " upgradable, " + d.get("securityCount") + " of them security updates (" + s.manager.id() + ")");
        return d;
    }
}
