package plugin.backup.internal;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.DryRun;
import agent.api.InvalidParamException;
import agent.api.ServerFiles;
import agent.api.SettingsType;

/**
 * {@code backup.list} ({@code destination}, {@code name}): the archives of a destination with their manifests, newest
 * first, and those without a manifest (a backup that did not finish). Reads only.
 */
@Component
@Actions("backup.list")
@DryRun
@SettingsType(BackupSettings.class)
public final class BackupLister implements CommandHandler {
    @Reference
    AgentPaths paths;

    /** The agent's server, when it has one (not in offline mode). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServerFiles server;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        if (Requests.toServer(ctx)) return fromServer(ctx);
        Destination dest = Requests.destination(ctx, paths, ctx.settings(BackupSettings.class));
        String name = ctx.params().optionalString("name").orElse(null);
        if (name != null && !Destination.NAME.matcher(name).matches()) {
            throw new InvalidParamException("name", "must be a backup name (letters, digits, '.', '_', '-'), got " + Text.quote(name));
        }
        List<Map<String, Object>> backups = new ArrayList<>();
        List<Map<String, Object>> incomplete = new ArrayList<>();
        for (Destination.Stored s : dest.list()) {
            if (s.manifest() == null) {
                Map<String, Object> i = new LinkedHashMap<>();
                i.put("archive", s.archive().toString());
                i.put("sizeBytes", Files.size(s.archive()));
                i.put("problem", s.problem());
                incomplete.add(i);
                continue;
            }
            if (name != null && !s.manifest().name().equals(name)) continue;
            Map<String, Object> b = new LinkedHashMap<>(s.manifest().toData());
            b.put("archive", s.archive().toString());
            b.put("location", "local");
            long size = Files.size(s.archive());
            if (size != s.manifest().sizeBytes()) {
                b.put("problem", "the archive has " + size + " bytes, its manifest says " + s.manifest().sizeBytes());
            }
            backups.add(b);
            ctx.output().println(s.manifest().createdAt() + "  " + s.fileName() + "  " + Text.bytes(size) + "  "
                + s.manifest().sha256());
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("destination", dest.dir().toString());
        data.put("backups", backups);
        data.put("incomplete", incomplete);
        ServerFiles files = server;
        if (ctx.params().optionalString("destination").isEmpty() && files != null) {
            // the default listing shows where else this host's backups are kept
            try {
                data.put("server", serverRecords(ctx, files, name, false));
            } catch (CommandException | java.io.IOException e) {
                data.put("server", null);
                data.put("serverError", e.getMessage());
            }
        }
        if (ctx.dryRun()) data.put("changed", false);
        return data;
    }

    /** The backups the server holds of this agent, as it lists them, newest first. */
    private Object fromServer(CommandContext ctx) throws Exception {
        String name = ctx.params().optionalString("name").orElse(null);
        if (name != null && !Destination.NAME.matcher(name).matches()) {
            throw new InvalidParamException("name", "must be a backup name (letters, digits, '.', '_', '-'), got " + Text.quote(name));
        }
        List<Map<String, Object>> backups = serverRecords(ctx, ServerBackups.require(server), name, true);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("destination", Requests.SERVER);
        data.put("backups", backups);
        if (ctx.dryRun()) data.put("changed", false);
        return data;
    }

    private static List<Map<String, Object>> serverRecords(CommandContext ctx, ServerFiles files, String name, boolean print)
            throws CommandException, java.io.IOException {
        List<Map<String, Object>> backups = new ArrayList<>();
        for (Map<String, Object> r : ServerBackups.list(files)) {
            Object meta = r.get("meta");
            String of = meta instanceof Map<?, ?> m && m.get("name") instanceof String n ? n : null;
            if (name != null && !name.equals(of)) continue;
            r.put("location", Requests.SERVER);
            backups.add(r);
            if (print) ctx.output().println(r.get("receivedAt") + "  " + r.get("name") + "  " + r.get("size") + " bytes  " + r.get("sha256"));
        }
        return backups;
    }
}
