package agent.store.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Component;

import agent.store.CommandStore;
import agent.store.CommandStoreFactory;
import agent.store.StoreException;

/** The DS service that opens SQLite command stores. */
@Component(service = CommandStoreFactory.class)
public final class CommandStoreFactoryImpl implements CommandStoreFactory {
    private static final Logger LOG = Logger.getLogger("agent.store");

    @Override
    public CommandStore open(Path dataDir) {
        Path nativeDir = dataDir.resolve("native");
        try {
            Files.createDirectories(nativeDir);
        } catch (IOException e) {
            throw new StoreException("cannot create " + nativeDir + ": " + e.getMessage(), e);
        }
        // sqlite-jdbc extracts its native library to java.io.tmpdir unless told otherwise, before its
        // first class loads; keep it under the data dir (and out of a shared /tmp).
        System.setProperty("org.sqlite.tmpdir", nativeDir.toString());
        SqliteCommandStore store = SqliteCommandStore.open(dataDir.resolve("commands.db"));
        LOG.fine(() -> "opened command store " + dataDir.resolve("commands.db"));
        return store;
    }
}
