package plugin.package_.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.InvalidParamException;
import agent.api.SettingsType;

/**
 * {@code package.list} and {@code package.inventory}: the installed packages (name, version, architecture) from the
 * system's own database, optionally filtered by {@code names} (names or patterns with '*' and '?'). The inventory adds
 * a checksum of the whole set, so a server that passes the checksum it has ({@code ifChanged}) gets the list only
 * when it changed.
 */
@Component
@Actions({"package.list", "package.inventory"})
@ConcurrencyKey("package")
@DryRun
@SettingsType(PackageSettings.class)
public final class PackageLister implements CommandHandler {
    private static final Pattern CHECKSUM = Pattern.compile("sha256:[0-9a-f]{64}");

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        boolean inventory = ctx.command().action().equals("package.inventory");
        List<Pattern> filter = new ArrayList<>();
        for (String n : ctx.params().strings("names")) {
            Grammar.checkPattern("names", n);
            filter.add(Grammar.glob(n));
        }
        Optional<String> ifChanged = inventory ? ctx.params().optionalString("ifChanged") : Optional.empty();
        if (ifChanged.isPresent() && !CHECKSUM.matcher(ifChanged.get()).matches()) {
            throw new InvalidParamException("ifChanged", "must be a checksum this action returned ('sha256:' and 64 hex digits),"
                + " got '" + Grammar.quote(ifChanged.get()) + "'");
        }
        Session s = Session.open(ctx);
        List<Pkg> all = new ArrayList<>(s.manager.installed());
        all.sort(Comparator.comparing(Pkg::name).thenComparing(Pkg::arch));
        List<Map<String, Object>> packages = new ArrayList<>();
        for (Pkg p : all) {
            if (filter.isEmpty() || filter.stream().anyMatch(f -> f.matcher(p.name()).matches())) packages.add(p.toData());
        }
        Map<String, Object> d = s.data();
        d.put("count", packages.size());
        if (inventory) {
            String sum = checksum(all);
            d.put("checksum", sum);
            boolean same = ifChanged.map(sum::equals).orElse(false);
            d.put("changed", !same);
            if (!same) d.put("packages", packages);
        } else {
            d.put("packages", packages);
        }
        s.reboot(d);
        ctx.output().println(packages.size() + " packages" + (filter.isEmpty() ? "" : " matching " + ctx.params().strings("names"))
            + " installed (" + s.manager.id() + ")");
        return d;
    }

    /** @return a digest of the whole installed set (name, architecture, version, state), whatever the filter */
    static String checksum(List<Pkg> sorted) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Pkg p : sorted) {
            sha.update((p.name() + "\t" + p.arch() + "\t" + p.version() + "\t" + (p.state() == null ? "" : p.state()) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }
}
