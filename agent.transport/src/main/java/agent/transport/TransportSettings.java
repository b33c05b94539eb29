package agent.transport;

import java.net.URI;
import java.nio.file.Path;

/** What a transport is opened with: the validated subset of the agent's config. */
public final class TransportSettings {
    /** {@code websocket} or {@code poll}. */
    public String kind = "websocket";
    /** https://host[:port]. */
    public URI serverUrl;
    /** PEM CA file, or null for the system trust store. */
    public Path serverCa;
    /** PEM client certificate and key for mutual TLS, or null. */
    public Path clientCert;
    /** PEM client key (PKCS#8, PKCS#1 RSA or SEC1 EC), or null. */
    public Path clientKey;
    /** Used once to enrol, or null. */
    public String enrollmentToken;
    /** Where the credentials file lives (0600). */
    public Path dataDir;
    /** Sent as the enrolment's machineId. */
    public String machineId;
    /** Sent at enrolment. */
    public String hostname;
    /** Seconds between WebSocket pings; two silent intervals mean a dead connection. */
    public int heartbeatSeconds = 30;
    /** Cap of the reconnect backoff. */
    public int maxBackoffSeconds = 300;
    /** Seconds between check-ins (poll). */
    public int checkInInterval = 30;
    /** Largest frame accepted or sent. */
    public int maxFrameBytes = 1 << 20;
    /** http(s)://host:port of a proxy, or null. */
    public URI httpsProxy;
    /** Allow http:// and ws:// (development only; warned on every connect). */
    public boolean insecureHttp;
    /**
     * The clock difference with the server that the preflight accepts, in seconds.
     *
     * @since 2.1
     */
    public int maxClockSkewSeconds = 300;
}
