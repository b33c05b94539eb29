package agent.core.internal.config;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.PluginSettings;

/** agent.api {@link PluginSettings}: a plugin's config section, typed, outside a command. */
@Component(service = PluginSettings.class)
public final class PluginSettingsService implements PluginSettings {
    private final AgentConfig config;

    /** @param config the agent's validated config */
    @Activate
    public PluginSettingsService(@Reference AgentConfig config) { this.config = config; }

    @Override
    public <T> T get(String section, Class<T> type) { return config.section(section).as(type); }
}
