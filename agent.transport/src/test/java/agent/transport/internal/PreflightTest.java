package agent.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.transport.ServerRequests.Check;
import agent.transport.TransportSettings;

/**
 * The preflight's clock line against an HTTPS server whose {@code Date} the test chooses (the reference server
 * sends none): a real TLS server on loopback with certificates made by openssl at test time ({@link LoopbackHttpsServer}).
 */
class PreflightTest {
    @TempDir
    Path dir;
    private LoopbackHttpsServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
        server = null;
    }

    private Path certificates() throws Exception { return LoopbackHttpsServer.certificates(dir); }

    /** An HTTPS server on loopback answering every request 200 with a JSON body, and the Date header given. */
    private int serve(Function<String, String> date) throws Exception {
        server = LoopbackHttpsServer.start(dir, x -> {
            x.body().readAllBytes();
            String body = x.target.equals("/agent/v1/enroll") ? "{\"agentId\": \"a-1\", \"agentToken\": \"t-1\"}" : "{\"ack\": []}";
            Map<String, String> headers = new LinkedHashMap<>();
            String d = date.apply(x.target);
            if (d != null) headers.put("Date", d);
            headers.put("Content-Type", "application/json");
            x.respond(200, headers, body.getBytes(StandardCharsets.UTF_8));
        });
        return server.port();
    }

    private TransportSettings settings(Path ca, int port) {
        TransportSettings s = new TransportSettings();
        s.serverUrl = URI.create("https://127.0.0.1:" + port);
        s.serverCa = ca;
        s.enrollmentToken = "token";
        s.dataDir = dir.resolve("data");
        s.machineId = "m-1";
        s.hostname = "h";
        s.maxClockSkewSeconds = 300;
        return s;
    }

    private static Check line(List<Check> checks, String name) {
        return checks.stream().filter(c -> c.name().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no line '" + name + "' in " + checks));
    }

    private static String httpDate(ZonedDateTime t) { return DateTimeFormatter.RFC_1123_DATE_TIME.format(t); }

    @Test
    void aServerClockAnHourBehindFailsTheClockLineAndOnlyIt() throws Exception {
        Path ca = certificates();
        int port = serve(path -> httpDate(ZonedDateTime.now(ZoneOffset.UTC).minus(Duration.ofHours(1))));

        List<Check> checks = new Preflight(settings(ca, port)).run();

        Check clock = line(checks, "clock");
        assertThat(clock.ok()).as("%s", checks).isFalse();
        assertThat(clock.detail()).matches("this host's clock is 360[01] s ahead of the server's: more than the 300 s allowed.*");
        assertThat(clock.hint()).contains("synchronise the clock");
        assertThat(checks).filteredOn(c -> !c.name().equals("clock")).allSatisfy(c -> assertThat(c.ok()).as("%s", c).isTrue());
        assertThat(checks).extracting(Check::name)
            .containsExactly("dns", "proxy", "tcp", "tls", "certificate", "host name", "clock", "credentials");
        assertThat(line(checks, "credentials").detail()).contains("enrolled as agent a-1");
    }

    @Test
    void aServerClockInStepPassesAndAServerWithoutDateSaysItCouldNotMeasure() throws Exception {
        Path ca = certificates();
        int port = serve(path -> httpDate(ZonedDateTime.now(ZoneOffset.UTC)));
        Check clock = line(new Preflight(settings(ca, port)).run(), "clock");
        assertThat(clock.ok()).as("%s", clock).isTrue();
        assertThat(clock.detail()).matches("this host's clock (agrees with the server's.*|is 1 s (ahead of|behind) the server's.*)");
        stop();

        int bare = serve(path -> null);
        Check unmeasured = line(new Preflight(settings(ca, bare)).run(), "clock");
        assertThat(unmeasured.ok()).isTrue();
        assertThat(unmeasured.detail()).startsWith("not measured: the server's answers carry no Date header");
    }
}
