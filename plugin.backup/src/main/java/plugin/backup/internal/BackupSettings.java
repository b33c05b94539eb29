package plugin.backup.internal;

import java.nio.file.Path;

/**
 * {@code plugins.settings.backup}.
 *
 * @param destination where archives go when a command names none; null for {@code <data_dir>/backups}
 * @param keep        how many archives of a name {@code backup.create} keeps when the command does not say; 0 keeps all
 */
record BackupSettings(Path destination, int keep) {
    BackupSettings {
        if (destination != null && !destination.isAbsolute()) {
            throw new IllegalArgumentException("destination must be an absolute path, got '" + destination + "'");
        }
        if (keep < 0 || keep > 10000) throw new IllegalArgumentException("keep must be 0..10000 (0 keeps all), got " + keep);
    }

    static BackupSettings defaults() { return new BackupSettings(null, 0); }

    /** @param dataDir the agent's data directory @return the default destination */
    Path destinationOr(Path dataDir) { return destination != null ? destination : dataDir.resolve("backups"); }
}
