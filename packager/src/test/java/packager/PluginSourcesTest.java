package packager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import packager.PackagerConfig.Builtin;
import packager.PackagerConfig.FromMaven;
import packager.PackagerConfig.FromUrl;

/** Plugin jars from an https URL and a Maven repository served on loopback over real TLS, and from the checkout. */
class PluginSourcesTest {
    static final String HANDLER = RuntimeJarTest.HANDLER;
    @TempDir
    static Path shared;
    static HttpsServer server;
    static SSLContext tls;
    static final Map<String, byte[]> served = new ConcurrentHashMap<>();
    static byte[] hello;

    @TempDir
    Path dir;

    /** A certificate made now with keytool, a server that serves {@link #served}, a client that trusts it. */
    @BeforeAll
    static void serve() throws Exception {
        Path ks = shared.resolve("server.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", "s",
            "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2",
            "-keystore", ks.toString(), "-storepass", "changeit", "-storetype", "PKCS12").redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext serverTls = SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        server.createContext("/", x -> {
            byte[] body = served.get(x.getRequestURI().getPath());
            x.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                try (OutputStream os = x.getResponseBody()) {
                    os.write(body);
                }
            }
            x.close();
        });
        server.start();
        hello = RuntimeJarTest.bundle("com.acme.hello", "1.0.0", HANDLER);
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private String base() { return "https://127.0.0.1:" + server.getAddress().getPort(); }

    private PluginSources sources(Path local, Path home) {
        return new PluginSources(new OutpostHome(home, "2.0.0"), dir.resolve("packager.json"), new Progress(new PrintStream(OutputStream.nullOutputStream()), false),
            local, base() + "/maven2", HttpClient.newBuilder().sslContext(tls).build());
    }

    private PluginSources sources() { return sources(dir.resolve("empty-m2"), dir); }

    static String hex(String algorithm, byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(b));
    }

    @Test
    void aUrlWithItsChecksumGivesThePlugin() throws Exception {
        served.put("/plugins/hello.jar", hello);
        BundleJar b = sources().fetch("com.acme.hello", new FromUrl(URI.create(base() + "/plugins/hello.jar"), hex("SHA-256", hello)));
        assertThat(b.bsn()).isEqualTo("com.acme.hello");
        assertThat(b.plugin()).isTrue();
        assertThat(b.bytes()).isEqualTo(hello);
    }

    @Test
    void aUrlWhoseJarHasAnotherChecksumIsRefusedNamingBoth() throws Exception {
        served.put("/plugins/hello.jar", hello);
        String wrong = "0".repeat(64);
        assertThatThrownBy(() -> sources().fetch("com.acme.hello", new FromUrl(URI.create(base() + "/plugins/hello.jar"), wrong)))
            .isInstanceOf(PackagerException.class)
            .hasMessageContaining("config key 'plugins.com.acme.hello.sha256'")
            .hasMessageContaining("has sha256 " + hex("SHA-256", hello) + ", the config expects " + wrong)
            .satisfies(e -> assertThat(((PackagerException) e).exitCode()).isEqualTo(2));
    }

    @Test
    void aJarOfAnotherBundleThanItsKeyIsRefused() throws Exception {
        served.put("/plugins/hello.jar", hello);
        assertThatThrownBy(() -> sources().fetch("com.acme.hi", new FromUrl(URI.create(base() + "/plugins/hello.jar"), hex("SHA-256", hello))))
            .hasMessageContaining("config key 'plugins.com.acme.hi'").hasMessageContaining("names bundle 'com.acme.hello'");
    }

    @Test
    void aUrlTheServerDoesNotHaveIsNamed() {
        assertThatThrownBy(() -> sources().fetch("com.acme.hello", new FromUrl(URI.create(base() + "/nope.jar"), "0".repeat(64))))
            .hasMessageContaining("config key 'plugins.com.acme.hello.url'").hasMessageContaining("answered 404");
    }

    @Test
    void aMavenArtifactComesFromTheLocalRepositoryFirst() throws Exception {
        Path local = dir.resolve("m2");
        Path jar = local.resolve("com/acme/hello/1.0.0/hello-1.0.0.jar");
        Files.createDirectories(jar.getParent());
        Files.write(jar, hello);
        // nothing is served: a download would fail
        BundleJar b = sources(local, dir).fetch("com.acme.hello", new FromMaven("com.acme", "hello", "1.0.0", null));
        assertThat(b.bytes()).isEqualTo(hello);
    }

    @Test
    void aMavenArtifactNotHereIsDownloadedAndCheckedAgainstTheRepositorysSha1() throws Exception {
        served.put("/maven2/com/acme/hello/1.1.0/hello-1.1.0.jar", hello);
        served.put("/maven2/com/acme/hello/1.1.0/hello-1.1.0.jar.sha1", (hex("SHA-1", hello) + "  hello-1.1.0.jar\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(sources().fetch("com.acme.hello", new FromMaven("com.acme", "hello", "1.1.0", null)).bytes()).isEqualTo(hello);

        served.put("/maven2/com/acme/hello/1.2.0/hello-1.2.0.jar", hello);
        served.put("/maven2/com/acme/hello/1.2.0/hello-1.2.0.jar.sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> sources().fetch("com.acme.hello", new FromMaven("com.acme", "hello", "1.2.0", null)))
            .hasMessageContaining("config key 'plugins.com.acme.hello.maven'")
            .hasMessageContaining("is not the repository's da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    @Test
    void aBuiltinPluginIsTheCheckoutsModuleJarAndAnUnknownOneIsRefusedListingTheBuiltins() throws Exception {
        Path home = dir.resolve("checkout");
        for (String m : new String[] {"plugin.disk", "plugin.timezone"}) {
            Files.createDirectories(home.resolve(m + "/target"));
            Files.writeString(home.resolve(m + "/pom.xml"), "<project/>");
        }
        Files.write(home.resolve("plugin.timezone/target/plugin.timezone-2.0.0.jar"), RuntimeJarTest.bundle("plugin.timezone", "2.0.0", HANDLER));

        assertThat(sources(dir, home).fetch("plugin.timezone", new Builtin()).bsn()).isEqualTo("plugin.timezone");
        assertThatThrownBy(() -> sources(dir, home).fetch("plugin.backup", new Builtin()))
            .hasMessageContaining("config key 'plugins.plugin.backup'")
            .hasMessageContaining("has no built-in plugin of that name (built-in: plugin.disk, plugin.timezone)");
        assertThatThrownBy(() -> sources(dir, home).fetch("plugin.disk", new Builtin()))
            .hasMessageContaining("built-in plugin plugin.disk is not built")
            .satisfies(e -> assertThat(((PackagerException) e).exitCode()).isEqualTo(1));
    }

    @Test
    void aFileThatIsNoBundleIsRefused() throws IOException {
        Path notBundle = dir.resolve("x.jar");
        Files.writeString(notBundle, "not a zip");
        assertThatThrownBy(() -> sources().fetch("x", new PackagerConfig.FromFile(notBundle, null)))
            .hasMessageContaining("config key 'plugins.x'").hasMessageContaining("does not name a plugin");
    }
}
