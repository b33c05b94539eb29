package plugin.disk.internal;

import java.nio.file.Path;

import agent.api.InvalidSettingsException;

/**
 * plugin.disk's section of the agent's config (the top-level {@code "disk"} key), checked by the agent when it
 * starts: {@code {"fstab": "/etc/fstab"}}.
 *
 * @param fstab the fstab file that disk.initialize adds to and the checks read (an absolute path)
 */
record DiskSettings(Path fstab) {
    static DiskSettings defaults() { return new DiskSettings(Path.of("/etc/fstab")); }

    DiskSettings {
        if (fstab == null || !fstab.isAbsolute()) {
            throw new InvalidSettingsException("disk.fstab", "config key 'disk.fstab' must be an absolute path, got '" + fstab + "'");
        }
    }
}
