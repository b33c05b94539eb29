package agent.store;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/** Opens the command store of a data directory. A DS service of agent.store. */
@ProviderType
public interface CommandStoreFactory {
    /**
     * Opens (creating or migrating) {@code <dataDir>/commands.db}.
     *
     * @param dataDir the agent's data directory
     * @return the open store; close it when done
     * @throws StoreException if the database cannot be opened or is from a newer agent
     */
    CommandStore open(Path dataDir) throws StoreException;
}
