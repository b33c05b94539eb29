package plugin.dataset.internal;

import java.nio.file.Files;
import java.nio.file.Path;
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
import agent.api.ErrorCode;
import agent.api.InvalidParamException;

/**
 * {@code dataset.remove} {name}: removes an installed data set: its target link (only if it still points into the
 * data set's store: a target replaced by someone else is left alone), its store with every version in it, and its
 * record.
 */
@Component
@Actions("dataset.remove")
@ConcurrencyKey("dataset")
@DryRun
public final class DatasetRemover implements CommandHandler {
    @Reference
    AgentPaths paths;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        String name = ctx.params().string("name");
        if (!Layout.NAME.matcher(name).matches()) throw new InvalidParamException("name", Text.quote(name) + " is not a data set name");
        Records records = new Records(paths.pluginDir("dataset").resolve("installed"));
        Records.Installed r = records.get(name).orElseThrow(() -> new CommandRefusedException("no data set " + Text.quote(name)
            + " is installed. Nothing was changed.", ErrorCode.NOT_FOUND));
        Layout layout = new Layout(Path.of(r.target()));
        List<String> removed = new ArrayList<>();
        boolean ownsTarget = layout.managed();
        if (ownsTarget) removed.add(r.target());
        if (Files.exists(layout.store)) removed.add(layout.store.toString());
        if (ctx.dryRun()) {
            for (String p : removed) ctx.output().println("would remove " + p);
            if (!ownsTarget && Files.exists(layout.target)) ctx.output().println("would leave " + r.target() + ": it is not a link into " + layout.store);
        } else {
            if (ownsTarget) {
                Files.delete(layout.target);
                Layout.syncDirectory(layout.target.getParent());
            }
            Layout.deleteTree(layout.store);
            records.remove(name);
            for (String p : removed) ctx.output().println("removed " + p);
            if (!ownsTarget && Files.exists(layout.target)) ctx.output().println("left " + r.target() + ": it is not a link into " + layout.store);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("name", name);
        data.put("version", r.version());
        data.put("target", r.target());
        data.put("removed", removed);
        data.put("changed", true);
        return data;
    }
}
