package agent.store.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Component;

import agent.store.CommandStore;
import agent.store.CommandStoreFactory;
import agent.store.StoreException;

/** The DS service that opens SQLite command stores. */
@Component(service = CommandStoreFactory.class)
public final class CommandStoreFactoryImpl implements CommandStoreFactory {
    private static final Logger LOG = Logger.getLogger("agent.store");
    /** Written beside the database when it is created: its presence says a store existed here. */
    static final String MARKER = "commands.db.created";
    /** Written by the transport at enrolment: an agent that enrolled has run, so it had a store. */
    private static final String CREDENTIALS = "credentials.json";

    @Override
    public CommandStore open(Path dataDir, boolean reset) {
        Path db = dataDir.resolve(FILE);
        Path marker = dataDir.resolve(MARKER);
        boolean missing = !Files.exists(db) || size(db) == 0;
        boolean ranBefore = Files.exists(marker) || Files.exists(dataDir.resolve(CREDENTIALS));
        if (missing && ranBefore) {
            if (!reset) {
                throw new StoreException("the command store " + db + " is " + (Files.exists(db) ? "empty" : "missing")
                    + ", but this data dir has been used by an agent before (" + (Files.exists(marker) ? marker : dataDir.resolve(CREDENTIALS))
                    + " exists): without it the agent cannot know which commands already ran, and could run one twice."
                    + " Restore " + db + " from a backup, or start over with an empty store: outpost run --reset-store"
                    + " (the reset is recorded in " + dataDir.resolve("store-resets.log") + ")");
            }
            recordReset(dataDir, db);
        }
        Path nativeDir = dataDir.resolve("native");
        try {
            Files.createDirectories(nativeDir);
            removeStaleNativeLibraries(nativeDir);
        } catch (IOException e) {
            throw new StoreException("cannot create " + nativeDir + ": " + e.getMessage(), e);
        }
        // sqlite-jdbc extracts its native library to java.io.tmpdir unless told otherwise, before its
        // first class loads; keep it under the data dir (and out of a shared /tmp).
        System.setProperty("org.sqlite.tmpdir", nativeDir.toString());
        SqliteCommandStore store = SqliteCommandStore.open(db);
        try {
            if (!Files.exists(marker)) Files.writeString(marker, Instant.now() + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            store.close();
            throw new StoreException("cannot write " + marker + ": " + e.getMessage(), e);
        }
        LOG.fine(() -> "opened command store " + db);
        return store;
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The old file (if any) is kept beside, renamed; the reset is appended to store-resets.log and logged. */
    private static void recordReset(Path dataDir, Path db) {
        String when = Instant.now().toString();
        try {
            for (String suffix : new String[] {"", "-wal", "-shm"}) {
                Path f = dataDir.resolve(FILE + suffix);
                if (Files.exists(f)) Files.move(f, dataDir.resolve(FILE + suffix + ".before-reset-" + when.replace(':', '-')));
            }
            Files.writeString(dataDir.resolve("store-resets.log"), when + " the command store " + db
                + " was missing or empty and was started over (--reset-store): commands that ran before may run again\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new StoreException("cannot record the reset of " + db + ": " + e.getMessage(), e);
        }
        LOG.warning("the command store " + db + " was missing or empty and is started over (--reset-store);"
            + " recorded in " + dataDir.resolve("store-resets.log"));
    }

    /**
     * sqlite-jdbc extracts its library under a new name at every start and deletes it at a clean exit only: each
     * start that ended in a kill left a 1 MB copy (70 MB after 115 kills). One agent per data dir owns this
     * directory, and nothing here is loaded before the store opens, so whatever is left is stale.
     */
    private static void removeStaleNativeLibraries(Path nativeDir) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(nativeDir, "sqlite-*")) {
            for (Path f : files) Files.deleteIfExists(f);
        }
    }
}
