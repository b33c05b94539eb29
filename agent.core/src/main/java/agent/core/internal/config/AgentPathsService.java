package agent.core.internal.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.AgentPaths;

/** agent.api {@link AgentPaths}: the agent's directories, from its config. */
@Component(service = AgentPaths.class)
public final class AgentPathsService implements AgentPaths {
    /** Where plugins keep their state, under the data dir. */
    public static final String PLUGINS_DATA = "plugins-data";
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,63}");
    private final AgentConfig config;

    /** @param config the agent's validated config */
    @Activate
    public AgentPathsService(@Reference AgentConfig config) { this.config = config; }

    @Override
    public Path dataDir() { return config.dataDir; }

    @Override
    public Path pluginDir(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a plugin directory is named by an action prefix (lower-case letters, digits,"
                + " '_', '-'), got '" + name + "'");
        }
        Path dir = config.dataDir.resolve(PLUGINS_DATA).resolve(name);
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir.getParent());
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the plugin directory " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Path scriptsDir() { return config.scriptsDir; }

    @Override
    public Path runDir() { return config.runDir; }
}
