package agent.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A plugin's section of the agent's config, typed, for components that need it outside a command (a periodic
 * task, an {@code @Activate}). A service of the agent: {@code @Reference PluginSettings settings;}. In a command,
 * {@link CommandContext#settings(Class)} gives the same for the action's prefix.
 *
 * @since 1.2
 */
@ProviderType
public interface PluginSettings {
    /**
     * Maps a section onto a type, as {@link CommandContext#settings(Class)} does.
     *
     * @param section an action prefix: {@code disk} and {@code health} are top-level config keys, any other
     *                prefix's section is {@code plugins.settings.<prefix>}
     * @param type    a record or an annotation type
     * @param <T>     the type
     * @return the section as that type, with defaults for what the file does not set
     * @throws InvalidSettingsException naming the key and the file
     */
    <T> T get(String section, Class<T> type);
}
