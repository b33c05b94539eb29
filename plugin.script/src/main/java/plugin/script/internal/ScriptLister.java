package plugin.script.internal;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.DryRun;
import agent.api.SettingsType;

/**
 * {@code script.list}: the scripts of the scripts directory with what their headers declare (see {@link ScriptHeader})
 * and, for each that {@code script.run} would refuse, why. Reads only.
 */
@Component
@Actions("script.list")
@DryRun
@SettingsType(ScriptSettings.class)
public final class ScriptLister implements CommandHandler {
    @Reference
    AgentPaths paths;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        ScriptSettings settings = ctx.settings(ScriptSettings.class);
        Path dir = settings.scriptsDir() != null ? settings.scriptsDir() : paths.scriptsDir();
        ScriptsDirectory sd = ScriptsDirectory.openIfExists(dir, Users.agentUid());
        List<Map<String, Object>> scripts = sd == null ? List.of() : sd.list();
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("scriptsDir", dir.toString());
        data.put("exists", sd != null);
        data.put("inline", settings.inline());
        data.put("scripts", scripts);
        if (ctx.dryRun()) data.put("changed", false);
        if (sd == null) ctx.output().println("there is no scripts directory " + dir);
        for (Map<String, Object> s : scripts) {
            ctx.output().println(s.get("name") + (s.get("problem") != null ? "  (refused: " + s.get("problem") + ")"
                : s.get("description") != null ? "  " + s.get("description") : ""));
        }
        return data;
    }
}
