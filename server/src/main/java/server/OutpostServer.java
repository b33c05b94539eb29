package server;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.logging.Logger;

import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

import server.console.Console;
import server.console.ConsolePassword;
import server.gateway.AgentGateway;
import server.http.Guard;
import server.http.HealthDatasetApi;
import server.http.Router;
import server.http.Tokens;
import server.pki.Pem;
import server.pki.Pki;
import server.store.ServerStore;
import server.store.StoreLimits;

/**
 * The reference management server: one HTTPS port for the agents (WebSocket, check-in, reports, bundles) and the
 * operator API, state in a SQLite file in the data dir, certificates and tokens made on first start.
 */
public final class OutpostServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OutpostServer.class.getName());
    public static final String ENROLLMENT_TOKEN = "enrollment.token";
    public static final String OPERATOR_TOKEN = "operator.token";
    public static final String SERVER_URL = "server.url";
    public static final String DATABASE = "server.db";
    public static final String LOCK = "server.lock";

    /**
     * How to run.
     *
     * @param bindHost the address to listen on; null for every interface
     * @param clientCa PEM file of the CA that signs agents' client certificates; null for no mutual TLS
     */
    /**
     * @param checkInSeconds the {@code nextCheckinSeconds} told to polling agents (docs/protocol.md §4)
     * @param console        whether to serve the web console under {@code /console/} (issue 22)
     */
    public record Options(Path dataDir, int port, String bindHost, Path clientCa, int heartbeatSeconds, int checkInSeconds,
                          Limits limits, boolean console) {
        public Options {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be 0..65535, got " + port);
            if (heartbeatSeconds < 1) throw new IllegalArgumentException("heartbeatSeconds must be at least 1, got " + heartbeatSeconds);
            if (checkInSeconds < 1 || checkInSeconds > 86400) {
                throw new IllegalArgumentException("--check-in-interval must be 1..86400 seconds, got " + checkInSeconds);
            }
            if (limits == null) throw new IllegalArgumentException("limits are required");
        }

        public static Options defaults(Path dataDir) {
            return new Options(dataDir, 8443, null, null, 30, 30, Limits.DEFAULTS, true);
        }

        public Options withPort(int p) {
            return new Options(dataDir, p, bindHost, clientCa, heartbeatSeconds, checkInSeconds, limits, console);
        }

        public Options withBindHost(String h) {
            return new Options(dataDir, port, h, clientCa, heartbeatSeconds, checkInSeconds, limits, console);
        }

        public Options withClientCa(Path ca) {
            return new Options(dataDir, port, bindHost, ca, heartbeatSeconds, checkInSeconds, limits, console);
        }

        public Options withLimits(Limits l) {
            return new Options(dataDir, port, bindHost, clientCa, heartbeatSeconds, checkInSeconds, l, console);
        }

        public Options withConsole(boolean on) {
            return new Options(dataDir, port, bindHost, clientCa, heartbeatSeconds, checkInSeconds, limits, on);
        }
    }

    /**
     * What the server takes from agents and from any source (issue 23, item 3; server/README.md "Limits").
     *
     * @param maxOutputBytes the output kept of a result, first and last halves (the agent's max_output_bytes)
     * @param store          what one agent may keep in the store
     * @param enrol          enrolments per source address
     * @param authFailures   refused authentications per source address
     * @param backups        what agents may upload as backups (docs/protocol.md §7.1)
     */
    public record Limits(int maxOutputBytes, StoreLimits store, Guard.Rate enrol, Guard.Rate authFailures, BackupStore.Limits backups) {
        public static final Limits DEFAULTS = new Limits(AgentGateway.DEFAULT_MAX_OUTPUT_BYTES, StoreLimits.DEFAULTS,
            Guard.DEFAULT_ENROL, Guard.DEFAULT_AUTH_FAILURES, BackupStore.Limits.DEFAULTS);

        public Limits {
            if (maxOutputBytes < 1024) throw new IllegalArgumentException("--max-output-bytes must be at least 1024, got " + maxOutputBytes);
            if (backups == null) throw new IllegalArgumentException("backup limits are required");
        }

        public Limits withStore(StoreLimits s) {
            return new Limits(maxOutputBytes, s, enrol, authFailures, backups);
        }

        public Limits withEnrol(Guard.Rate r) {
            return new Limits(maxOutputBytes, store, r, authFailures, backups);
        }

        public Limits withAuthFailures(Guard.Rate r) {
            return new Limits(maxOutputBytes, store, enrol, r, backups);
        }

        public Limits withMaxOutputBytes(int n) {
            return new Limits(n, store, enrol, authFailures, backups);
        }

        public Limits withBackups(BackupStore.Limits b) {
            return new Limits(maxOutputBytes, store, enrol, authFailures, b);
        }
    }

    private final Path dataDir;
    private final FileChannel lockChannel;
    private final ServerStore store;
    private final AgentGateway gateway;
    private final Guard guard;
    private final BackupStore backups;
    private final Server jetty;
    private final Console console;
    /** The console password in clear when this start made it (printed once), else null. */
    private final String consolePasswordMadeNow;
    private final int port;
    private final String url;

    private OutpostServer(Options o) throws Exception {
        this.dataDir = o.dataDir().toAbsolutePath();
        makePrivateDir(dataDir);
        lockChannel = FileChannel.open(dataDir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null; // held by this very JVM (tests start servers in-process)
        }
        if (lock == null) {
            lockChannel.close();
            throw new IllegalStateException("another outpost-server is running with data dir " + dataDir);
        }
        ServerStore openedStore = null;
        AgentGateway openedGateway = null;
        Console openedConsole = null;
        this.guard = new Guard(o.limits().enrol(), o.limits().authFailures());
        try {
            Pki pki = Pki.loadOrCreate(dataDir);
            String enrollmentToken = readOrCreateToken(dataDir.resolve(ENROLLMENT_TOKEN));
            String operatorToken = readOrCreateToken(dataDir.resolve(OPERATOR_TOKEN));
            openedStore = ServerStore.open(dataDir.resolve(DATABASE), o.limits().store());
            this.store = openedStore;
            BundleRepository bundles = new BundleRepository(dataDir.resolve("bundles"), store);
            DatasetRepository datasets = new DatasetRepository(dataDir.resolve("datasets"));
            this.backups = new BackupStore(dataDir.resolve("backups"), o.limits().backups());
            openedGateway = new AgentGateway(store, o.heartbeatSeconds(), o.limits().maxOutputBytes(), guard);
            this.gateway = openedGateway;
            if (o.console()) {
                ConsolePassword password = ConsolePassword.loadOrCreate(dataDir);
                this.consolePasswordMadeNow = password.madeNow();
                openedConsole = new Console(store, gateway, new HealthDatasetApi(store, datasets, operatorToken), backups, guard,
                    operatorToken, password, o.checkInSeconds());
            } else {
                this.consolePasswordMadeNow = null;
            }
            this.console = openedConsole;

            QueuedThreadPool threads = new QueuedThreadPool(200, 8);
            threads.setName("http");
            threads.setDaemon(true);
            jetty = new Server(threads);
            jetty.setStopTimeout(5000);
            HttpConfiguration http = new HttpConfiguration();
            http.setSendServerVersion(false);
            http.setSendDateHeader(false);
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            // hostname checks are the client's job; a name missing from the certificate fails there, with a clear error
            secure.setSniHostCheck(false);
            http.addCustomizer(secure);
            ServerConnector connector = new ServerConnector(jetty, new SslConnectionFactory(tls(pki, o.clientCa()), "http/1.1"),
                new HttpConnectionFactory(http));
            connector.setPort(o.port());
            connector.setHost(o.bindHost());
            connector.setAcceptQueueSize(4096);
            connector.setIdleTimeout(60_000);
            jetty.addConnector(connector);
            WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(jetty, gateway::configure);
            ws.setHandler(new Router(store, gateway, bundles, datasets, backups, guard, enrollmentToken, operatorToken, o.checkInSeconds(), console));
            jetty.setHandler(ws);
            jetty.start();
            this.port = connector.getLocalPort();
            this.url = "https://" + urlHost(o.bindHost()) + ":" + port;
            Pki.writePublic(dataDir.resolve(SERVER_URL), url + "\n");
            LOG.info("listening on " + url + (o.clientCa() == null ? "" : " (client certificates required, CA " + o.clientCa() + ")"));
        } catch (Exception | Error e) {
            if (openedConsole != null) openedConsole.close();
            if (openedGateway != null) openedGateway.close();
            if (openedStore != null) openedStore.close();
            guard.close();
            lockChannel.close();
            throw e;
        }
    }

    /** Starts a server; the returned one is listening. */
    public static OutpostServer start(Options o) throws Exception {
        return new OutpostServer(o);
    }

    private static String urlHost(String bindHost) throws IOException {
        if (bindHost == null || bindHost.isBlank()) return "127.0.0.1";
        InetAddress a = InetAddress.getByName(bindHost);
        if (a.isAnyLocalAddress()) return "127.0.0.1";
        String h = bindHost.contains(":") && !bindHost.startsWith("[") ? "[" + bindHost + "]" : bindHost;
        return h;
    }

    private static SslContextFactory.Server tls(Pki pki, Path clientCa) throws IOException {
        SslContextFactory.Server f = new SslContextFactory.Server();
        char[] pw = Tokens.newToken().toCharArray();
        f.setKeyStore(Pem.keyStore(pki.serverKey(), List.of(pki.serverCertificate(), pki.caCertificate()), pw));
        f.setKeyStorePassword(new String(pw));
        f.setKeyManagerPassword(new String(pw));
        f.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        if (clientCa != null) {
            if (!Files.isReadable(clientCa)) throw new IOException("--client-ca '" + clientCa + "' is not a readable file");
            f.setTrustStore(Pem.trustStore(Pem.readCertificates(clientCa)));
            f.setNeedClientAuth(true);
        }
        return f;
    }

    static void makePrivateDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir.getParent() == null ? dir : dir.getParent());
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    private static String readOrCreateToken(Path file) throws IOException {
        if (Files.exists(file)) {
            String t = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (t.length() < 16) throw new IOException("'" + file + "' holds no token of at least 16 characters; delete it to make a new one");
            return t;
        }
        String t = Tokens.newToken();
        Pki.writeSecret(file, t + "\n");
        LOG.info("made a new token: " + file);
        return t;
    }

    public int port() {
        return port;
    }

    /** {@code https://host:port} as written to {@code server.url}. */
    public String url() {
        return url;
    }

    public Path dataDir() {
        return dataDir;
    }

    public AgentGateway gateway() {
        return gateway;
    }

    public ServerStore store() {
        return store;
    }

    public Guard guard() {
        return guard;
    }

    /** What agents keep here (docs/protocol.md §7.1). */
    public BackupStore backups() {
        return backups;
    }

    /** The web console, or null when it is off. */
    public Console console() {
        return console;
    }

    /** The console password in clear if this start made it (to print once beside the token files), else null. */
    public String consolePasswordMadeNow() {
        return consolePasswordMadeNow;
    }

    @Override
    public void close() {
        if (console != null) console.close(); // ends the live streams, which would otherwise hold the stop up
        try {
            jetty.stop();
        } catch (Exception e) {
            LOG.warning("stopping the HTTPS server: " + e);
        }
        gateway.close();
        guard.close();
        store.close();
        try {
            lockChannel.close();
        } catch (IOException e) {
            LOG.warning("releasing " + dataDir.resolve(LOCK) + ": " + e);
        }
        LOG.info("stopped");
    }
}
