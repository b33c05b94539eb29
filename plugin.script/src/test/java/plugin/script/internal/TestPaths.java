package plugin.script.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import agent.api.AgentPaths;

/** The agent's paths, under a test's temp dir, as the core lays them out. */
record TestPaths(Path dataDir, Path scriptsDir) implements AgentPaths {
    @Override
    public Path pluginDir(String name) {
        Path d = dataDir.resolve("plugins-data").resolve(name);
        try {
            Files.createDirectories(d);
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d;
    }

    @Override
    public Path runDir() { return dataDir.resolve("run"); }
}
