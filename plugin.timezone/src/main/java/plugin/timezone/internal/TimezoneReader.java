package plugin.timezone.internal;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;

/**
 * {@code timezone.get}: the host's time zone as each place that holds it says: the {@code /etc/localtime} link (or
 * copy), {@code /etc/timezone}, and this JVM, which read its zone when the agent started. Reads only.
 */
@Component
@Actions("timezone.get")
@ConcurrencyKey("timezone")
@DryRun
public final class TimezoneReader implements CommandHandler {

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        HostZone host = HostZone.fromSettings(ctx.settings());
        Map<String, Object> data = describe(host);
        ctx.output().println(summary(data));
        return data;
    }

    /** @return the data of timezone.get; timezone.set reports the state it found with it too */
    static Map<String, Object> describe(HostZone host) throws java.io.IOException {
        HostZone.Localtime lt = host.localtime();
        String etc = host.etcTimezone().orElse(null);
        String jvm = ZoneId.systemDefault().getId();
        String zone;
        String source;
        if (lt.zone() != null) {
            zone = lt.zone();
            source = "/etc/localtime";
        } else if (etc != null) {
            zone = etc;
            source = "/etc/timezone";
        } else {
            zone = jvm;
            source = "jvm";
        }
        Map<String, Object> localtime = new LinkedHashMap<>();
        localtime.put("type", lt.type());
        localtime.put("target", lt.target());
        localtime.put("zone", lt.zone());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("zone", zone);
        data.put("source", source);
        data.put("utcOffset", offset(zone));
        data.put("localtime", localtime);
        data.put("etcTimezone", etc);
        data.put("jvm", jvm);
        // the host's two records agree (or only one exists); an unrecognised localtime copy agrees with nothing
        boolean consistent = lt.type().equals(HostZone.Localtime.MISSING) ? true
            : lt.zone() != null && (etc == null || Objects.equals(lt.zone(), etc));
        data.put("consistent", consistent);
        data.put("root", host.root.toString());
        return data;
    }

    /** @return the zone's offset from UTC now, by the JVM's rules, or null if the JVM does not know the zone */
    private static String offset(String zone) {
        try {
            return ZoneId.of(zone).getRules().getOffset(Instant.now()).getId().replace("Z", "+00:00");
        } catch (DateTimeException e) {
            return null;
        }
    }

    @SuppressWarnings("unchecked")
    private static String summary(Map<String, Object> d) {
        Map<String, Object> lt = (Map<String, Object>) d.get("localtime");
        String where = lt.get("type").equals("link") ? "/etc/localtime -> " + lt.get("target")
            : lt.get("type").equals("file") ? "/etc/localtime (a copy of " + (lt.get("zone") == null ? "an unknown zone" : lt.get("zone")) + ")"
            : "no /etc/localtime";
        return d.get("zone") + " (UTC" + (d.get("utcOffset") == null ? " offset unknown" : d.get("utcOffset")) + ", from "
            + d.get("source") + "); " + where + "; /etc/timezone: " + (d.get("etcTimezone") == null ? "none" : d.get("etcTimezone"))
            + "; this agent's JVM: " + d.get("jvm") + (Boolean.TRUE.equals(d.get("consistent")) ? "" : "; the host's records disagree");
    }
}
