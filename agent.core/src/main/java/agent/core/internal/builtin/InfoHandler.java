package agent.core.internal.builtin;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.DryRun;
import agent.core.internal.config.AgentConfig;
import agent.core.internal.dispatch.HandlerRegistry;
import agent.core.internal.host.MachineIdentity;

/** {@code agent.info}: id, version, mode, uptime, actions and a summary of the config without secrets. */
@Component(service = CommandHandler.class)
@Actions("agent.info")
@DryRun
public final class InfoHandler implements CommandHandler {
    private final AgentConfig config;
    private final HandlerRegistry registry;
    private final String version;
    private final Instant startedAt = Instant.now();

    /** @param context the core's bundle @param config the agent's config @param registry the actions served */
    @Activate
    public InfoHandler(BundleContext context, @Reference AgentConfig config, @Reference HandlerRegistry registry) {
        this.config = config;
        this.registry = registry;
        this.version = context.getBundle().getVersion().toString();
    }

    @Override
    public Object handle(CommandContext ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agentId", config.agentId);
        m.put("version", version);
        m.put("mode", config.mode.wireName());
        m.put("hostname", MachineIdentity.hostname());
        m.put("startedAt", startedAt.toString());
        m.put("uptimeSeconds", Duration.between(startedAt, Instant.now()).toSeconds());
        m.put("actions", List.copyOf(registry.actions().keySet()));
        m.put("config", config.summary());
        return m;
    }
}
