package agent.api;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.function.LongConsumer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Files on the agent's server, fetched and sent with the agent's own credentials, TLS settings and proxy
 * (docs/protocol.md §7.1): what a relative {@code url} in a command names, and where a plugin keeps what must
 * survive the loss of the host (backups). A plugin never holds the agent's credentials; it asks this service.
 *
 * <p>A service of the agent while it has a server (managed and one-shot modes); there is none in offline mode, so
 * take it optionally and say so when it is missing:
 * {@code @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC) volatile ServerFiles server;}
 *
 * @since 1.2
 */
@ProviderType
public interface ServerFiles {
    /**
     * Opens a file of the server for reading: {@code GET} of the path, from {@code offset} with a {@code Range}
     * request (and {@code If-Range} when {@code etag} is given). The server may answer with the whole file instead
     * of the range ({@link Download#offset()} is then 0, e.g. when the file changed since {@code etag}).
     *
     * @param path   a path on the server, starting with {@code /} (a query may follow), e.g.
     *               {@code /agent/v1/backups/web.tar.gz}
     * @param offset the first byte wanted, 0 for all
     * @param etag   the validator of the part already held ({@link Download#etag()} of an earlier download), or null
     * @return the open download: read {@link Download#body()} and close it
     * @throws IllegalArgumentException if the path does not start with a single {@code /} (absolute URLs are not the
     *                                  server's: fetch them yourself, without the agent's credentials)
     * @throws ServerFileException      if the server answers an error status (404 for a file it does not have)
     * @throws IOException              if the server cannot be reached (the message names the URL, never a token)
     * @throws InterruptedException     if interrupted
     */
    Download open(String path, long offset, String etag) throws IOException, InterruptedException;

    /**
     * Uploads a file to the server, resuming what the server holds of it already: asks first ({@code HEAD}), sends
     * the rest ({@code PUT}), asks again and continues after a dropped connection, up to {@code attempts} times. The
     * server checks the sha256 when the last byte arrives.
     *
     * @param path     where on the server, starting with {@code /}, e.g. {@code /agent/v1/backups/web.tar.gz}
     * @param file     the file, which must not change while it is sent
     * @param sha256   its sha256, as 64 lower-case hex digits
     * @param meta     a small JSON object describing it (at most 4 KiB as JSON text), or null
     * @param attempts how many requests a dropped connection may cost before giving up, at least 1
     * @param progress told how many bytes of the file have been sent, never fewer than before, or null
     * @return what the server stored and how the upload went
     * @throws ServerFileException  if the server refuses it (413 too large, 409 another file under the name, 422 the
     *                              sha256 that arrived differs)
     * @throws IOException          if the file cannot be read, or the server could not be reached in every attempt
     * @throws InterruptedException if interrupted (what arrived stays on the server for a later upload to resume)
     */
    Upload upload(String path, Path file, String sha256, String meta, int attempts, LongConsumer progress)
        throws IOException, InterruptedException;

    /** An open download of {@link #open}. */
    interface Download extends Closeable {
        /** @return the bytes from {@link #offset()} to the end */
        InputStream body();

        /** @return where the body starts: the offset asked for, or 0 when the server sent the whole file */
        long offset();

        /** @return the whole file's size, or -1 if the server did not say */
        long size();

        /** @return the server's validator ({@code ETag}) for resuming, or null */
        String etag();

        /** Closes the body and the request. */
        @Override
        void close() throws IOException;
    }

    /**
     * How an upload went.
     *
     * @param size        the file's size
     * @param resumedFrom the bytes the server already held when this upload started
     * @param requests    how many {@code PUT}s it took
     * @param record      the server's record of the stored file, as JSON text
     */
    record Upload(long size, long resumedFrom, int requests, String record) {}

    /** The server answered a request with an error status. */
    final class ServerFileException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int status;

        /** @param status the HTTP status @param message what was asked and what the server said */
        public ServerFileException(int status, String message) {
            super(message);
            this.status = status;
        }

        /** @return the HTTP status, e.g. 404 */
        public int status() { return status; }
    }
}
