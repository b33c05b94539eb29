package agent.core.internal.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.LongConsumer;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.ServerFiles;
import agent.core.internal.config.AgentConfig;
import agent.transport.ServerRequests;

/**
 * agent.api's {@link ServerFiles} for plugins: the server's files under the agent's own credentials, with the
 * connection's TLS settings and proxy. Registered only in a run that has a server (its config reference is satisfied
 * only then), so an offline agent offers none and plugins say so.
 */
@Component(service = ServerFiles.class)
public final class ServerFilesService implements ServerFiles {
    private final ServerFiles files;

    /**
     * @param config   the agent's config, in a run that talks to a server
     * @param requests the transport's requests outside a connection
     */
    @Activate
    public ServerFilesService(@Reference(target = "(" + AgentConfig.CONNECTS + "=true)") AgentConfig config,
                              @Reference ServerRequests requests) {
        this.files = requests.files(ServerConnection.settings(config));
    }

    @Override
    public Download open(String path, long offset, String etag) throws IOException, InterruptedException {
        return files.open(path, offset, etag);
    }

    @Override
    public Upload upload(String path, Path file, String sha256, String meta, int attempts, LongConsumer progress)
            throws IOException, InterruptedException {
        return files.upload(path, file, sha256, meta, attempts, progress);
    }
}
