package agent.transport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Requests to the server outside a connection, with the same TLS settings, proxy and credentials a transport uses:
 * uploading an offline report (docs/protocol.md §8, {@code outpost inject}) and the network half of the preflight
 * ({@code outpost check}). A DS service of agent.transport.
 *
 * @since 2.1
 */
@ProviderType
public interface ServerRequests {
    /**
     * Uploads an offline report as it was written, under the agent's credentials (enrolling first with the settings'
     * token when there are none yet). The server stores each result and event once, so uploading a report again
     * stores nothing new.
     *
     * @param settings where the server is, TLS, proxy, the data dir with the credentials
     * @param report   a report file of docs/protocol.md §8
     * @return what the server acknowledged
     * @throws DocumentException    if the file is not a report (the message names the file and the field)
     * @throws IOException          if the server cannot be reached, refuses the credentials or answers an error (the
     *                              message names the URL and the HTTP status; never a token)
     * @throws InterruptedException if interrupted
     */
    ReportReceipt uploadReport(TransportSettings settings, Path report) throws DocumentException, IOException, InterruptedException;

    /**
     * The network checks of a preflight, in order: the server's address (DNS), the proxy, TCP reach, the TLS
     * handshake, the certificate chain, the host name, the clock against the server's {@code Date}, and the
     * credentials (or the enrolment token: a token that is accepted enrols the agent, as its first start would).
     * A check that cannot be tried because an earlier one failed is listed as failed, saying so.
     *
     * @param settings where the server is, TLS, proxy, the data dir with the credentials
     * @return one check per line of the preflight
     * @throws InterruptedException if interrupted
     */
    List<Check> preflight(TransportSettings settings) throws InterruptedException;

    /**
     * Files of the server under the agent's credentials (docs/protocol.md §7.1), for agent.api's
     * {@link agent.api.ServerFiles} service: each download or upload makes its own client, so an agent that never
     * uses it keeps nothing open for it.
     *
     * @param settings where the server is, TLS, proxy, the data dir with the credentials
     * @return the files of that server
     * @since 2.1
     */
    agent.api.ServerFiles files(TransportSettings settings);

    /**
     * @param dataDir an agent's data dir
     * @return the agent id the server gave at enrolment (kept with the credentials), or null if the agent has not
     *         enrolled; nothing else of the credentials is read out
     */
    String enrolledAgentId(Path dataDir);

    /**
     * What the server acknowledged of an uploaded report.
     *
     * @param agentId      the agent the server stored it under (from the credentials)
     * @param results      the ids of the report's results, in order
     * @param acked        the result ids the server acknowledged
     * @param events       the ids of the report's events, in order
     * @param ackedEvents  the event ids the server acknowledged, or null when its answer did not say
     */
    record ReportReceipt(String agentId, List<String> results, List<String> acked, List<String> events, List<String> ackedEvents) {}

    /**
     * One line of a preflight.
     *
     * @param name   what was checked, e.g. {@code tcp}
     * @param ok     whether it passed
     * @param detail what was found, or why it failed
     * @param hint   what to do about a failure, or null
     */
    record Check(String name, boolean ok, String detail, String hint) {}
}
