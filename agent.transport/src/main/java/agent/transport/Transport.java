package agent.transport;

import java.time.Duration;

import org.osgi.annotation.versioning.ProviderType;

import agent.api.Result;

/** An open channel to the server. Sends are queued and never block the caller; on a lost connection the transport
 * reconnects forever and the outbox is re-sent, so a send may be dropped while disconnected without loss. */
@ProviderType
public interface Transport extends AutoCloseable {

    /** Starts connecting (in the background) and keeps reconnecting until closed. */
    void start();

    /** @param id a command now durably recorded, or a duplicate still pending */
    void accepted(String id);

    /** @param result a result now durably stored, or the stored result of a finished duplicate */
    void result(Result result);

    /** @param id a running command @param percent 0..100 or null @param message text */
    void progress(String id, Integer percent, String message);

    /**
     * New events were recorded ({@link AgentLink#pendingEvents}): send them soon.
     *
     * @since 2.0
     */
    void eventsRecorded();

    /** Tells the server the plugin list changed (hello's {@code plugins}, re-read from the link). */
    void capabilities();

    /**
     * One-shot mode: checks in until nothing is queued, running or unacked, or the time runs out.
     *
     * @param limit the longest to try
     * @return true if everything was delivered
     * @throws InterruptedException if interrupted
     * @since 2.0
     */
    boolean runOnce(Duration limit) throws InterruptedException;

    /**
     * Downloads a file (a plugin jar) with the connection's TLS settings. A relative URL is resolved against the
     * server URL; the agent's credentials are sent only to the server's own origin.
     *
     * @param url    absolute https URL or a path such as {@code /agent/v1/bundles/<sha256>}
     * @param target where to write it (replaced)
     * @throws java.io.IOException naming the URL and the HTTP status or cause
     * @throws InterruptedException if interrupted
     */
    void download(String url, java.nio.file.Path target) throws java.io.IOException, InterruptedException;

    /** @return a one-line state for status displays, e.g. "connected to https://... since ..." */
    String state();

    /** Closes the connection (code 1000) and stops reconnecting. */
    @Override
    void close();
}
