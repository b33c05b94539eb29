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
import agent.api.ConcurrencyKey;
import agent.api.DryRun;

/**
 * {@code dataset.list}: the installed data sets (name, version, target, path, sha256, sizes, installed at) and whether
 * each is in place ({@code present}: its target still points at its path). Reads only.
 */
@Component
@Actions("dataset.list")
@ConcurrencyKey("dataset")
@DryRun
public final class DatasetLister implements CommandHandler {
    @Reference
    AgentPaths paths;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        List<Object> list = new ArrayList<>();
        for (Records.Installed r : new Records(paths.pluginDir("dataset").resolve("installed")).all()) {
            Map<String, Object> d = r.toData();
            Layout layout = new Layout(Path.of(r.target()));
            Path linked = layout.linked();
            boolean present = linked != null && linked.toString().equals(r.path()) && Files.exists(linked);
            d.put("present", present);
            list.add(d);
            ctx.output().println(r.name() + " " + r.version() + " at " + r.target() + (present ? "" : " (missing: " + r.target()
                + " does not point at " + r.path() + ")"));
        }
        if (list.isEmpty()) ctx.output().println("no data sets installed");
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("datasets", list);
        data.put("changed", false);
        return data;
    }
}
