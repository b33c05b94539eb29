package agent.store;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/** Opens the command store of a data directory. A DS service of agent.store. */
@ProviderType
public interface CommandStoreFactory {
    /** The database file in the data directory. */
    String FILE = "commands.db";

    /**
     * Opens (creating or migrating) {@code <dataDir>/commands.db}. A data directory whose store existed before
     * (it holds the store's marker, or the agent's credentials) but whose database is now missing or empty is
     * refused: the at-most-once record would be gone, and commands could run a second time. The operator either
     * restores the file or starts over with {@code reset}, which keeps what is left of the old file beside it and
     * records the reset in {@code <dataDir>/store-resets.log}.
     *
     * @param dataDir the agent's data directory
     * @param reset   start a new, empty store even though the old one is missing or empty (recorded)
     * @return the open store; close it when done
     * @throws StoreException if the database cannot be opened, is from a newer agent, or is missing after the agent
     *                        ran (the message names the file and the operator's choices)
     * @since 2.0
     */
    CommandStore open(Path dataDir, boolean reset) throws StoreException;

    /**
     * {@link #open(Path, boolean)} without a reset.
     *
     * @param dataDir the agent's data directory
     * @return the open store
     * @throws StoreException as {@link #open(Path, boolean)}
     */
    default CommandStore open(Path dataDir) throws StoreException { return open(dataDir, false); }
}
