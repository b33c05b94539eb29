package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code outpost check} against the reference server: it passes on a right config, and each wrong thing fails the
 * one line that names it (the lines before pass, the ones that depend on it are not tried), with a hint.
 */
class CheckIT {
    static final Duration T = Duration.ofSeconds(90);
    static final List<String> LINES = List.of("config", "data dir", "free space", "dns", "proxy", "tcp", "tls", "certificate",
        "host name", "clock", "credentials");

    @TempDir
    static Path dir;
    static ServerProcess server;
    static String token;

    @BeforeAll
    static void startTheServer() throws Exception {
        server = ServerProcess.start(dir.resolve("server"), 0);
        token = Files.readString(server.dir.resolve("enrollment.token")).trim();
    }

    @AfterAll
    static void stopTheServer() throws Exception {
        if (server != null) server.close();
    }

    /** Writes a config of these keys (0600) and runs check with a data dir of that name. */
    private static HostCommand.Result check(String name, String url, Path ca, String enrollmentToken) throws Exception {
        return check(name, url, ca, enrollmentToken, "");
    }

    private static HostCommand.Result check(String name, String url, Path ca, String enrollmentToken, String extra) throws Exception {
        String json = "{\"server_url\": \"" + url + "\", \"server_ca\": \"" + ca + "\", \"enrollment_token\": \"" + enrollmentToken
            + "\"" + extra + "}";
        Path config = AgentProcess.write(dir.resolve(name + ".json"), json);
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
        return HostCommand.of(AgentProcess.LAUNCHER.toString(), "check", "--config", config.toString(), "--data-dir",
            dir.resolve(name + "-data").toString()).run(T);
    }

    /** The check's lines by name: "✔ detail" or "✘ detail", each hint after its line's detail. */
    private static Map<String, String> lines(String out) {
        Map<String, String> m = new LinkedHashMap<>();
        String last = null;
        for (String line : out.split("\n")) {
            if (line.startsWith("✔ ") || line.startsWith("✘ ")) {
                String rest = line.substring(2);
                String name = LINES.stream().filter(n -> rest.startsWith(n + "  ")).findFirst()
                    .orElseThrow(() -> new AssertionError("a line of no known check: " + line));
                last = name;
                m.put(name, line.charAt(0) + " " + rest.substring(name.length()).trim());
            } else if (line.trim().startsWith("hint: ") && last != null) {
                m.put(last, m.get(last) + "\nhint: " + line.trim().substring(6));
            }
        }
        return m;
    }

    /** Every line up to the failing one passes; it fails as expected; the later ones of the network are not tried. */
    private static void failsAt(HostCommand.Result r, String failing, String detail, String hint) {
        assertThat(r.exitCode()).as(r.both()).isEqualTo(1);
        Map<String, String> lines = lines(r.stdout());
        assertThat(lines.keySet()).as(r.stdout()).containsExactlyElementsOf(LINES);
        int at = LINES.indexOf(failing);
        for (String name : LINES.subList(0, at)) assertThat(lines.get(name)).as("%s\n%s", name, r.stdout()).startsWith("✔ ");
        assertThat(lines.get(failing)).as(r.stdout()).startsWith("✘ ").contains(detail).contains("\nhint: " + hint);
        for (String name : LINES.subList(at + 1, LINES.size())) {
            if (name.equals("certificate") || name.equals("host name")) continue; // judged apart from each other, below
            assertThat(lines.get(name)).as("%s\n%s", name, r.stdout()).startsWith("✘ not tried: the " + failing + " check failed");
        }
        assertThat(r.stdout()).endsWith(" checks failed\n");
    }

    @Test
    void passesAgainstTheReferenceServerEnrollingTheAgentOnce() throws Exception {
        HostCommand.Result first = check("good", server.url(), server.dir.resolve("ca.pem"), token);

        assertThat(first.exitCode()).as(first.both()).isZero();
        Map<String, String> lines = lines(first.stdout());
        assertThat(lines.keySet()).containsExactlyElementsOf(LINES);
        assertThat(lines.values()).allSatisfy(l -> assertThat(l).startsWith("✔ "));
        assertThat(lines.get("tcp")).startsWith("✔ connected to 127.0.0.1:" + server.port());
        assertThat(lines.get("certificate")).contains("trusted by server_ca " + server.dir.resolve("ca.pem"));
        assertThat(lines.get("credentials")).contains("the enrolment token was accepted: enrolled as agent ");
        assertThat(first.stdout()).endsWith("all 11 checks passed\n").doesNotContain(token);
        assertThat(dir.resolve("good-data/credentials.json")).exists();

        int enrolled = server.agents().size();
        HostCommand.Result again = check("good", server.url(), server.dir.resolve("ca.pem"), token);
        assertThat(again.exitCode()).as(again.both()).isZero();
        assertThat(lines(again.stdout()).get("credentials")).startsWith("✔ the server accepts the agent's credentials");
        assertThat(server.agents()).as("an agent enrolled by the second check").hasSize(enrolled);
        System.out.printf("outpost check took %d ms%n", again.elapsed().toMillis());
    }

    @Test
    void aWrongCaFailsTheCertificateLine() throws Exception {
        Path otherCa = dir.resolve("other-ca.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", dir.resolve("other-ca.key").toString(), "-out", otherCa.toString(), "-days", "2", "-subj",
            "/CN=Not The Outpost CA").redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("openssl (package openssl): %s", log).isZero();

        HostCommand.Result r = check("wrong-ca", server.url(), otherCa, token);

        failsAt(r, "certificate", "is not trusted by server_ca " + otherCa, "server_ca must be the CA that signed the server's certificate");
        assertThat(lines(r.stdout()).get("host name")).startsWith("✔ '127.0.0.1' is a name of the server's certificate");
        assertThat(dir.resolve("wrong-ca-data/credentials.json")).as("enrolled over an untrusted connection").doesNotExist();
    }

    @Test
    void aHostNameTheCertificateDoesNotNameFailsTheHostNameLine() throws Exception {
        // 127.0.0.2 reaches the server (it listens on every address) but is not among its certificate's names
        String url = "https://127.0.0.2:" + server.port();

        HostCommand.Result r = check("wrong-host", url, server.dir.resolve("ca.pem"), token);

        failsAt(r, "host name", "'127.0.0.2' is not a name of the server's certificate (it names: localhost, 127.0.0.1",
            "use one of those names in server_url");
        assertThat(lines(r.stdout()).get("certificate")).startsWith("✔ ");
    }

    @Test
    void aBadTokenFailsTheCredentialsLine() throws Exception {
        HostCommand.Result r = check("bad-token", server.url(), server.dir.resolve("ca.pem"), "not-the-token-SECRET");

        failsAt(r, "credentials", "enrolment refused by " + server.url() + "/agent/v1/enroll (HTTP 401)",
            "enrollment_token must be the server's enrolment token");
        assertThat(r.stdout() + r.stderr()).doesNotContain("not-the-token-SECRET");
        assertThat(dir.resolve("bad-token-data/credentials.json")).doesNotExist();
    }

    @Test
    void anUnreachablePortFailsTheTcpLine() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }

        HostCommand.Result r = check("no-port", "https://127.0.0.1:" + port, server.dir.resolve("ca.pem"), token);

        failsAt(r, "tcp", "cannot connect to 127.0.0.1:" + port + " (127.0.0.1): Connection refused",
            "nothing listens on 127.0.0.1:" + port + ": is the server running");
        assertThat(lines(r.stdout()).get("certificate")).startsWith("✘ not tried");
    }

    @Test
    void passesThroughAProxyAndFailsTheProxyLineWhenNoProxyListens() throws Exception {
        try (ConnectProxy proxy = new ConnectProxy()) {
            HostCommand.Result r = check("proxied", server.url(), server.dir.resolve("ca.pem"), token,
                ", \"https_proxy\": \"" + proxy.url() + "\"");

            assertThat(r.exitCode()).as(r.both()).isZero();
            Map<String, String> lines = lines(r.stdout());
            assertThat(lines.get("proxy")).isEqualTo("✔ the proxy " + proxy.url().substring(7) + " opened a tunnel to 127.0.0.1:" + server.port());
            assertThat(lines.get("tcp")).isEqualTo("✔ reached 127.0.0.1:" + server.port() + " through the proxy");
            assertThat(proxy.connects).contains("127.0.0.1:" + server.port());
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HostCommand.Result r = check("no-proxy", server.url(), server.dir.resolve("ca.pem"), token,
            ", \"https_proxy\": \"http://127.0.0.1:" + port + "\"");
        failsAt(r, "proxy", "cannot connect to the proxy 127.0.0.1:" + port + ": Connection refused", "check https_proxy");
    }

    @Test
    void aBadConfigIsItsFirstLineAndExitTwo() throws Exception {
        Path config = AgentProcess.write(dir.resolve("typo.json"), "{\"server_url\": \"" + server.url() + "\", \"sever_ca\": \"x\"}");

        HostCommand.Result r = HostCommand.of(AgentProcess.LAUNCHER.toString(), "check", "--config", config.toString(),
            "--data-dir", dir.resolve("typo-data").toString()).run(T);

        assertThat(r.exitCode()).as(r.both()).isEqualTo(2);
        assertThat(r.stdout()).startsWith("✘ config  config file " + config + ": unknown key 'sever_ca' (known keys: ")
            .endsWith("1 of 1 checks failed\n");
        List<String> hints = new ArrayList<>(r.stdout().lines().filter(l -> l.contains("hint:")).toList());
        assertThat(hints).hasSize(1);
    }
}
