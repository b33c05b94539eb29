package server;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Level;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import server.console.ConsolePassword;
import server.http.Guard;
import server.store.StoreLimits;

/** {@code outpost-server [--data-dir D] [--port P] [--bind ADDR] [--client-ca FILE] [--check-in-interval S]}: runs until stopped. */
@Command(name = "outpost-server", mixinStandardHelpOptions = true, version = "outpost-server 0.1.0",
    description = "The Outpost reference management server: agents (WebSocket and HTTPS polling) and the operator API "
        + "on one HTTPS port. Makes its CA, certificate and tokens on first start.",
    exitCodeOnInvalidInput = 2, exitCodeOnExecutionException = 1)
public final class Main implements Callable<Integer> {
    @Option(names = "--data-dir", paramLabel = "D", description = "state, certificates and tokens (default: $OUTPOST_SERVER_DATA_DIR, else /var/lib/outpost-server)")
    Path dataDir;

    @Option(names = "--port", paramLabel = "P", defaultValue = "8443", description = "HTTPS port; 0 = any free port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--bind", paramLabel = "ADDR", description = "listen on this address only (default: every interface)")
    String bind;

    @Option(names = "--client-ca", paramLabel = "FILE", description = "PEM CA: require TLS client certificates signed by it (mutual TLS), in addition to tokens")
    Path clientCa;

    @Option(names = "--check-in-interval", paramLabel = "S", defaultValue = "30",
        description = "seconds between check-ins asked of polling agents (default: ${DEFAULT-VALUE})")
    int checkInSeconds;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "INFO", description = "java.util.logging level (default: ${DEFAULT-VALUE})")
    String logLevel;

    @Option(names = "--max-output-bytes", paramLabel = "N", defaultValue = "262144",
        description = "a result's output kept, first and last halves, as the agent's max_output_bytes (default: ${DEFAULT-VALUE})")
    int maxOutputBytes;

    @Option(names = "--max-offline-results", paramLabel = "N", defaultValue = "10000",
        description = "offline results (reports, ids the server did not issue) one agent may store; more are refused (default: ${DEFAULT-VALUE})")
    int maxOfflineResults;

    @Option(names = "--max-offline-result-bytes", paramLabel = "N", defaultValue = "268435456",
        description = "their total size per agent (default: ${DEFAULT-VALUE})")
    long maxOfflineResultBytes;

    @Option(names = "--max-events", paramLabel = "N", defaultValue = "100000",
        description = "events kept per agent; beyond it the oldest are dropped (default: ${DEFAULT-VALUE})")
    int maxEvents;

    @Option(names = "--max-event-bytes", paramLabel = "N", defaultValue = "67108864",
        description = "their total size per agent; beyond it the oldest are dropped (default: ${DEFAULT-VALUE})")
    long maxEventBytes;

    @Option(names = "--max-backup-bytes", paramLabel = "N", defaultValue = "68719476736",
        description = "the largest backup one agent may upload (Upload-Length); larger ones are refused with 413 (default: ${DEFAULT-VALUE}, 64 GiB)")
    long maxBackupBytes;

    @Option(names = "--max-backup-bytes-per-agent", paramLabel = "N", defaultValue = "274877906944",
        description = "what one agent may keep in backups, complete and partial; more is refused with 413 (default: ${DEFAULT-VALUE}, 256 GiB)")
    long maxBackupBytesPerAgent;

    @Option(names = "--enroll-per-minute", paramLabel = "N", defaultValue = "60",
        description = "enrolments per minute from one source address, after the burst; 0: no limit (default: ${DEFAULT-VALUE})")
    int enrollPerMinute;

    @Option(names = "--enroll-burst", paramLabel = "N", defaultValue = "1000",
        description = "enrolments one source address may make at once (default: ${DEFAULT-VALUE})")
    int enrollBurst;

    @Option(names = "--auth-failures-per-minute", paramLabel = "N", defaultValue = "60",
        description = "refused authentications per minute from one source address, after the burst; 0: no limit (default: ${DEFAULT-VALUE})")
    int authFailuresPerMinute;

    @Option(names = "--auth-failures-burst", paramLabel = "N", defaultValue = "100",
        description = "refused authentications one source address may have at once (default: ${DEFAULT-VALUE})")
    int authFailuresBurst;

    @Option(names = "--no-console", description = "do not serve the web console (/console/); the APIs are unchanged")
    boolean noConsole;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Level level;
        try {
            level = Level.parse(logLevel.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            System.err.println("outpost-server: --log-level must be a java.util.logging level (SEVERE, WARNING, INFO, FINE, ...), got '" + logLevel + "'");
            return 2;
        }
        LogSetup.configure(level);
        Path dir = dataDir;
        if (dir == null) {
            String env = System.getenv("OUTPOST_SERVER_DATA_DIR");
            dir = Path.of(env == null || env.isBlank() ? "/var/lib/outpost-server" : env);
        }
        if (port < 0 || port > 65535) {
            System.err.println("outpost-server: --port must be 0..65535, got " + port);
            return 2;
        }
        if (checkInSeconds < 1 || checkInSeconds > 86400) {
            System.err.println("outpost-server: --check-in-interval must be 1..86400 seconds, got " + checkInSeconds);
            return 2;
        }
        if (clientCa != null && !Files.isReadable(clientCa)) {
            System.err.println("outpost-server: --client-ca '" + clientCa + "' is not a readable file");
            return 2;
        }
        for (Object[] rate : new Object[][] {{"--enroll-per-minute", enrollPerMinute, 0}, {"--enroll-burst", enrollBurst, 1},
            {"--auth-failures-per-minute", authFailuresPerMinute, 0}, {"--auth-failures-burst", authFailuresBurst, 1}}) {
            if ((int) rate[1] < (int) rate[2]) {
                System.err.println("outpost-server: " + rate[0] + " must be at least " + rate[2] + ", got " + rate[1]);
                return 2;
            }
        }
        OutpostServer.Limits limits;
        try {
            limits = new OutpostServer.Limits(maxOutputBytes,
                new StoreLimits(maxOfflineResults, maxOfflineResultBytes, maxEvents, maxEventBytes),
                new Guard.Rate(enrollPerMinute, enrollBurst), new Guard.Rate(authFailuresPerMinute, authFailuresBurst),
                new BackupStore.Limits(maxBackupBytes, maxBackupBytesPerAgent));
        } catch (IllegalArgumentException e) {
            System.err.println("outpost-server: " + e.getMessage());
            return 2;
        }
        dir = dir.toAbsolutePath();
        if (System.getProperty("org.sqlite.tmpdir") == null) {
            // sqlite-jdbc extracts its native library on every start: keep it in the data dir, not in /tmp
            Path nativeDir = dir.resolve("native");
            OutpostServer.makePrivateDir(dir);
            Files.createDirectories(nativeDir);
            System.setProperty("org.sqlite.tmpdir", nativeDir.toString());
        }
        OutpostServer server;
        try {
            server = OutpostServer.start(new OutpostServer.Options(dir, port, bind, clientCa, 30, checkInSeconds, limits, !noConsole));
        } catch (IllegalStateException e) {
            System.err.println("outpost-server: " + e.getMessage());
            return 2;
        } catch (java.io.IOException e) {
            System.err.println("outpost-server: " + e.getMessage());
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            // java.util.logging resets itself in a shutdown hook of its own: say it plainly
            System.err.println("outpost-server: stopped");
            stopped.countDown();
        }, "shutdown"));
        System.out.printf("""
            outpost-server: data dir %1$s
              CA certificate (agents' server_ca):      %1$s/ca.pem
              enrolment token (agents' enrollment_token): %1$s/%2$s
              operator token (outpostctl):             %1$s/%3$s
              server URL (outpostctl --server-dir):    %1$s/%4$s
            outpost-server: listening on %5$s (port %6$d)
            """, dir, OutpostServer.ENROLLMENT_TOKEN, OutpostServer.OPERATOR_TOKEN, OutpostServer.SERVER_URL, server.url(), server.port());
        if (server.console() != null) {
            System.out.printf("outpost-server: console at %s/console/ (sign in with the operator token or the console password)%n", server.url());
            if (server.consolePasswordMadeNow() != null) {
                // shown this once: only its hash is kept
                System.out.printf("""
                    outpost-server: console password (shown only now; delete %s/%s for a new one): %s
                    """, dir, ConsolePassword.FILE, server.consolePasswordMadeNow());
            }
        }
        System.out.flush();
        stopped.await();
        return 0;
    }
}
