package plugin.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A test CA and a server certificate it signs for 127.0.0.1 (and a second one for a name the tests never connect to),
 * made once per test JVM with the JDK's keytool: real certificates, made at test time, nothing checked in.
 */
final class TestTls {
    private static TestTls instance;

    final Path dir;
    final Path caPem;
    final Path serverKeystore;
    final Path wrongNameKeystore;
    static final char[] PASSWORD = "changeit".toCharArray();

    private TestTls(Path dir) throws Exception {
        this.dir = dir;
        Path ca = dir.resolve("ca.p12");
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=Outpost dataset test CA",
            "-ext", "bc:c", "-validity", "2", "-keystore", ca.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
        caPem = dir.resolve("ca.pem");
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-storepass", "changeit", "-file", caPem.toString());
        serverKeystore = server(ca, "server", "san=ip:127.0.0.1");
        wrongNameKeystore = server(ca, "elsewhere", "san=dns:data.example.org");
    }

    private Path server(Path ca, String alias, String san) throws Exception {
        Path ks = dir.resolve(alias + ".p12");
        keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + alias, "-validity", "2",
            "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
        Path csr = dir.resolve(alias + ".csr");
        keytool("-certreq", "-alias", alias, "-keystore", ks.toString(), "-storepass", "changeit", "-file", csr.toString());
        Path cert = dir.resolve(alias + ".pem");
        keytool("-gencert", "-alias", "ca", "-keystore", ca.toString(), "-storepass", "changeit", "-infile", csr.toString(), "-outfile",
            cert.toString(), "-rfc", "-ext", san, "-ext", "eku=serverAuth", "-validity", "2");
        keytool("-importcert", "-alias", "ca", "-file", caPem.toString(), "-keystore", ks.toString(), "-storepass", "changeit", "-noprompt");
        keytool("-importcert", "-alias", alias, "-file", cert.toString(), "-keystore", ks.toString(), "-storepass", "changeit", "-noprompt");
        return ks;
    }

    static synchronized TestTls get() throws Exception {
        if (instance == null) {
            Path dir = Files.createTempDirectory("dataset-tls");
            dir.toFile().deleteOnExit();
            instance = new TestTls(dir);
        }
        return instance;
    }

    SSLContext serverContext(Path keystore) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    private static void keytool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("keytool %s: %s", args[0], out).isZero();
    }
}
