package plugin.timezone.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;

/**
 * {@code timezone.set} (param {@code zone}): where systemd is PID 1, {@code timedatectl set-timezone ZONE} (so that
 * timedated and its clients hear of it); elsewhere {@code /etc/localtime} is replaced atomically with a link into the
 * zoneinfo database and {@code /etc/timezone} is written. The name is checked against the database first; a zone
 * that is already set changes nothing.
 */
@Component
@Actions("timezone.set")
@ConcurrencyKey("timezone")
@DryRun
public final class TimezoneSetter implements CommandHandler {

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        HostZone host = HostZone.fromSettings(ctx.settings());
        String zone = ctx.params().string("zone");
        Path zoneFile = host.zoneFile("zone", zone);
        HostZone.Localtime before = host.localtime();
        Optional<String> etcBefore = host.etcTimezone();
        String previous = before.zone() != null ? before.zone() : etcBefore.orElse(null);
        boolean systemd = host.systemdIsPid1();

        String method;
        boolean linked = before.type().equals(HostZone.Localtime.LINK) && zone.equals(before.zone());
        // timedated leaves a missing /etc/timezone alone; without systemd, this action keeps one
        boolean etcOk = etcBefore.map(zone::equals).orElse(systemd);
        if (linked && etcOk) {
            method = "none";
            ctx.output().println("the time zone is already " + zone + "; nothing to change");
        } else if (ctx.dryRun()) {
            // every check above has passed: say what would be done, do nothing
            method = systemd ? "timedatectl" : "symlink";
            ctx.output().println("would " + (systemd ? "run timedatectl set-timezone " + zone
                : "link " + host.hostPath(host.localtime) + " -> " + host.linkTarget(zoneFile))
                + (etcOk ? "" : " and write " + zone + " to " + host.hostPath(host.etcTimezone)));
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("zone", zone);
            data.put("previous", previous);
            data.put("changed", true);
            data.put("method", method);
            data.put("dryRun", true);
            return data;
        } else {
            ctx.checkCancelled();
            if (systemd) {
                method = "timedatectl";
                timedatectl(ctx, host, zone, before);
            } else {
                method = "symlink";
                host.replaceLocaltime(zoneFile);
                ctx.output().println(host.hostPath(host.localtime) + " -> " + host.linkTarget(zoneFile));
            }
            HostZone.Localtime after = host.localtime();
            if (!zone.equals(after.zone())) {
                throw new CommandException(method.equals("timedatectl") ? "timedatectl reported success, but "
                    + host.hostPath(host.localtime) + " names " + describe(after) + ", not " + zone
                    : host.hostPath(host.localtime) + " names " + describe(after) + " after it was replaced, not " + zone);
            }
            if (!etcBefore.map(zone::equals).orElse(systemd)) {
                try {
                    host.writeEtcTimezone(zone);
                } catch (IOException e) {
                    throw new CommandException(host.hostPath(host.localtime) + " now names " + zone + ", but "
                        + host.hostPath(host.etcTimezone) + " could not be written: " + e, e);
                }
                ctx.output().println(host.hostPath(host.etcTimezone) + ": " + zone);
            }
        }
        String jvm = ZoneId.systemDefault().getId();
        if (!method.equals("none") && !jvm.equals(zone)) {
            ctx.output().println("processes started earlier keep their zone until they restart (this agent's JVM: " + jvm + ")");
        }
        HostZone.Localtime now = host.localtime();
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("zone", zone);
        data.put("previous", previous);
        data.put("changed", !method.equals("none"));
        data.put("method", method);
        data.put("localtime", now.target());
        data.put("etcTimezone", host.etcTimezone().orElse(null));
        return data;
    }

    private static void timedatectl(CommandContext ctx, HostZone host, String zone, HostZone.Localtime before) throws Exception {
        Path program = host.timedatectl().orElseThrow(() -> new CommandException("systemd is PID 1, but timedatectl is not"
            + " installed (looked in /usr/bin, /bin, /usr/sbin, /sbin); install the systemd package's timedatectl."
            + " Nothing was changed."));
        List<String> argv = List.of(program.toString(), "set-timezone", zone);
        ctx.output().println("$ timedatectl set-timezone " + zone);
        ProcessResult r = ctx.exec(ProcessSpec.of(argv).capture());
        ctx.output().write(r.output());
        if (r.exitCode() != 0) {
            String said = r.output().strip().lines().reduce((a, b) -> b).orElse("(no output)");
            HostZone.Localtime after = host.localtime();
            throw new CommandException("timedatectl set-timezone " + zone + " failed (exit code " + r.exitCode() + "): "
                + HostZone.escape(said) + (after.equals(before) ? ". Nothing was changed."
                    : ". " + host.hostPath(host.localtime) + " now names " + describe(after) + "."));
        }
    }

    private static String describe(HostZone.Localtime lt) {
        if (lt.type().equals(HostZone.Localtime.MISSING)) return "nothing (it is missing)";
        if (lt.zone() != null) return lt.zone();
        return lt.target() == null ? "an unrecognised zone file" : "'" + lt.target() + "'";
    }
}
