package agent.core.internal.main;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.osgi.framework.BundleContext;

import agent.core.internal.config.AgentConfig;
import agent.core.internal.config.ConfigException;

/**
 * One agent per data dir, and the framework storage inside it. bin/outpost reads no config file, so the data dir
 * it gave the framework (the command line, OUTPOST_DATA_DIR, or the default) must be the one the config names:
 * otherwise runtime-installed plugins would live in another directory than the store. The agent holds a lock on
 * {@code <data_dir>/agent.lock} for as long as it runs (beside the launcher's own flock, for agents started
 * without it).
 */
final class DataDirLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static DataDirLock take(AgentConfig config, BundleContext context) throws ConfigException, IOException {
        String storage = context.getProperty("org.osgi.framework.storage");
        if (storage == null) storage = System.getProperty("launch.storage.dir");
        if (storage != null) {
            Path expected = config.dataDir.resolve("framework");
            Path actual = Path.of(storage);
            if (!same(expected, actual)) {
                throw new ConfigException("config key 'data_dir'" + (config.configFile == null ? "" : " in " + config.configFile)
                    + " is " + config.dataDir + " but the runtime was started with data dir " + actual.getParent()
                    + " (bin/outpost reads no config file): pass --data-dir " + config.dataDir + " or set OUTPOST_DATA_DIR="
                    + config.dataDir);
            }
        }
        FileChannel ch = FileChannel.open(config.dataDir.resolve("agent.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            ch.close();
            throw new ConfigException("another agent is running with data dir " + config.dataDir);
        }
        return new DataDirLock(ch, l);
    }

    private static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) return Files.isSameFile(a, b);
        } catch (IOException e) {
            // compared by name below
        }
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the process is ending: the kernel drops the lock with it
        }
    }
}
