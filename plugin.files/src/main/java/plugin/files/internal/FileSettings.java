package plugin.files.internal;

import java.nio.file.Path;
import java.util.List;

import agent.api.InvalidSettingsException;

/**
 * plugin.files' section of the agent's config, {@code plugins.settings.file} (the section is named after the action
 * prefix, {@code file}): which paths the {@code file.*} actions may touch, and how {@code url} downloads are checked.
 *
 * @param allow              path prefixes that may be read and written; a path must lie under one of them, both as
 *                           asked and once its symlinks are resolved
 * @param deny               path prefixes refused even under an allowed one (added to the agent's own files, which
 *                           are always refused)
 * @param caFile             a PEM file of the certificates that {@code url} downloads trust instead of the JVM's
 *                           default trust store; null for the default
 * @param maxDownloadBytes   the largest file a {@code url} may bring
 */
record FileSettings(List<String> allow, List<String> deny, Path caFile, long maxDownloadBytes) {
    /** The defaults: where configuration and local software live. */
    static final List<String> DEFAULT_ALLOW = List.of("/etc", "/opt", "/srv", "/var/lib", "/usr/local");

    static FileSettings defaults() { return new FileSettings(DEFAULT_ALLOW, List.of(), null, 1L << 30); }

    FileSettings {
        allow = List.copyOf(allow == null ? List.of() : allow);
        deny = List.copyOf(deny == null ? List.of() : deny);
        for (int i = 0; i < allow.size(); i++) checkPrefix("allow", i, allow.get(i));
        for (int i = 0; i < deny.size(); i++) checkPrefix("deny", i, deny.get(i));
        if (caFile != null && !caFile.isAbsolute()) {
            throw new InvalidSettingsException("plugins.settings.file.ca_file",
                "config key 'plugins.settings.file.ca_file' must be an absolute path, got '" + caFile + "'");
        }
        if (maxDownloadBytes < 1) {
            throw new InvalidSettingsException("plugins.settings.file.max_download_bytes",
                "config key 'plugins.settings.file.max_download_bytes' must be at least 1, got " + maxDownloadBytes);
        }
    }

    private static void checkPrefix(String key, int i, String prefix) {
        String problem = PathPolicy.lexicalProblem(prefix);
        if (problem != null) {
            throw new InvalidSettingsException("plugins.settings.file." + key,
                "config key 'plugins.settings.file." + key + "[" + i + "]' " + problem);
        }
    }
}
