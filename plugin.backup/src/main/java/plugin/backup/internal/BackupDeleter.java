package plugin.backup.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.InvalidParamException;
import agent.api.SettingsType;

/**
 * {@code backup.delete}: one archive ({@code archive}) or, with {@code name} and {@code keep}, every archive of that
 * name beyond the newest {@code keep} (retention). Only this plugin's archives of the destination, with their
 * manifests: never an arbitrary file.
 */
@Component
@Actions("backup.delete")
@ConcurrencyKey("backup")
@DryRun
@SettingsType(BackupSettings.class)
public final class BackupDeleter implements CommandHandler {
    @Reference
    AgentPaths paths;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Destination dest = Requests.destination(ctx, paths, ctx.settings(BackupSettings.class));
        boolean byArchive = ctx.params().has("archive");
        boolean byName = ctx.params().has("name");
        if (byArchive == byName) {
            throw new InvalidParamException(byArchive ? "name" : "archive", byArchive ? "cannot be given with 'archive'"
                : "or 'name' (with 'keep') is required");
        }
        List<Destination.Stored> doomed = new ArrayList<>();
        if (byArchive) {
            Destination.Stored s = Requests.archive(ctx, dest);
            if (!s.archive().getParent().equals(dest.dir()) || !Destination.isArchiveName(s.fileName())) {
                throw new CommandRefusedException(s.archive() + " is not an archive of the destination " + dest.dir()
                    + ": backup.delete removes only those");
            }
            doomed.add(s);
        } else {
            String name = ctx.params().string("name");
            if (!Destination.NAME.matcher(name).matches()) {
                throw new InvalidParamException("name", "must be a backup name, got " + Text.quote(name));
            }
            if (!ctx.params().has("keep")) throw new InvalidParamException("keep", "is required with 'name': how many of the newest to keep");
            doomed.addAll(dest.beyond(name, (int) ctx.params().integer("keep", 0, 10000, 0)));
        }
        List<String> names = new ArrayList<>();
        for (Destination.Stored s : doomed) {
            names.add(s.archive().toString());
            if (ctx.dryRun()) {
                ctx.output().println("would delete " + s.archive());
            } else {
                dest.delete(s);
                ctx.output().println("deleted " + s.archive());
            }
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("deleted", names);
        d.put("changed", !names.isEmpty());
        return d;
    }
}
