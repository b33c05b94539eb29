package agent.api;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Where the agent keeps things on this host, from its config. A service of the agent:
 * {@code @Reference AgentPaths paths;}.
 *
 * @since 1.2
 */
@ProviderType
public interface AgentPaths {
    /** @return the agent's data directory ({@code data_dir}, {@code /var/lib/outpost} by default) */
    Path dataDir();

    /**
     * A plugin's own directory under the data directory, for the state it must keep across restarts and upgrades
     * (records of installed data sets, local backups): {@code <data_dir>/plugins-data/<name>}, created owner-only
     * (0700) if missing. Removing the plugin leaves it; the uninstaller's {@code --keep-data} decides.
     *
     * @param name the plugin's action prefix, e.g. {@code backup}
     * @return the directory, which exists
     * @throws IllegalArgumentException if the name is not an action prefix (lower-case letters, digits, '_', '-')
     * @throws java.io.UncheckedIOException if it cannot be created
     */
    Path pluginDir(String name);

    /** @return the operator's scripts directory ({@code scripts_dir}, {@code /etc/outpost/scripts.d} by default) */
    Path scriptsDir();

    /**
     * @return the agent's run directory ({@code run_dir}, {@code /run/outpost} by default, {@code <data_dir>/run} when
     *         only {@code data_dir} is set): its control socket lives there. Plugins that write where commands say
     *         must refuse it, as they refuse the data directory.
     */
    Path runDir();
}
