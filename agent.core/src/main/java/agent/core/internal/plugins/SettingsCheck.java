package agent.core.internal.plugins;

import java.util.List;

import agent.api.InvalidSettingsException;
import agent.core.internal.config.AgentConfig;
import agent.core.internal.dispatch.HandlerRegistry;

/**
 * Typed settings are checked early (agent.api {@code @SettingsType}): a built-in plugin's section when the agent
 * starts, an installed plugin's when it is installed or upgraded, so a bad key is found before any command.
 */
public final class SettingsCheck {
    private SettingsCheck() {}

    /**
     * @param handlers the handlers to check (those of one bundle, or all)
     * @param config   the config they read
     * @return the first problem, naming the key and the file, or null
     */
    public static InvalidSettingsException firstProblem(List<HandlerRegistry.Registration> handlers, AgentConfig config) {
        for (HandlerRegistry.Registration r : handlers) {
            if (r.settingsType == null || r.bundle == null) continue;
            String section = AgentConfig.sectionKey(r.prefix());
            Class<?> type;
            try {
                type = r.bundle.loadClass(r.settingsType);
            } catch (ClassNotFoundException | IllegalStateException e) {
                return new InvalidSettingsException(section, "the settings type " + r.settingsType + " of " + r.bundleName
                    + " cannot be loaded: " + e.getMessage());
            }
            try {
                config.section(r.prefix()).as(type);
            } catch (InvalidSettingsException e) {
                return e;
            } catch (IllegalArgumentException e) {
                return new InvalidSettingsException(section, r.bundleName + ": " + e.getMessage());
            }
        }
        return null;
    }
}
