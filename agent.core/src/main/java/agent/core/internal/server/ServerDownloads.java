package agent.core.internal.server;

import java.io.IOException;
import java.nio.file.Path;

/** Files from the server (plugin jars) with the connection's TLS settings and credentials; a service while connected. */
public interface ServerDownloads {
    /**
     * @param url    a relative URL (the server's) or an absolute https URL
     * @param target where to write it
     * @throws IOException naming the URL and the HTTP status or cause
     * @throws InterruptedException if interrupted
     */
    void download(String url, Path target) throws IOException, InterruptedException;
}
