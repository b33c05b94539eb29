package agent.core.internal.plugins;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.CommandRefusedException;
import agent.core.internal.config.ConfigException;

/** The signed-jar policy against jars signed at test time by the JDK's own keytool and jarsigner. */
class JarSignaturesTest {
    @TempDir
    Path dir;
    Path unsigned;

    @BeforeEach
    void jar() throws Exception {
        Manifest mf = new Manifest();
        mf.getMainAttributes().putValue("Manifest-Version", "1.0");
        mf.getMainAttributes().putValue("Bundle-SymbolicName", "com.acme.signed");
        unsigned = dir.resolve("plugin.jar");
        try (OutputStream os = Files.newOutputStream(unsigned); JarOutputStream out = new JarOutputStream(os, mf)) {
            out.putNextEntry(new JarEntry("com/acme/Handler.class"));
            out.write("not really a class, but content to sign".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
    }

    @Test
    void aJarSignedByATrustedKeyIsAccepted() throws Exception {
        Path ks = keyPair("acme");
        Path signed = sign(unsigned, ks, "acme", "signed.jar");
        List<X509Certificate> trust = JarSignatures.trustStore(exportCert(ks, "acme"));
        assertThatCode(() -> JarSignatures.verify(signed, trust, "signed.jar")).doesNotThrowAnyException();
    }

    @Test
    void aJarSignedByACertificateIssuedByATrustedCaIsAccepted() throws Exception {
        Path ca = keyPair("ca", "-ext", "bc:c");
        Path leaf = keyPair("leaf");
        // the CA issues the leaf's certificate; the leaf's key store then holds the chain leaf → ca
        Path csr = dir.resolve("leaf.csr");
        tool("keytool", "-certreq", "-alias", "leaf", "-keystore", leaf.toString(), "-storepass", "changeit", "-file", csr.toString());
        Path issued = dir.resolve("leaf.pem");
        tool("keytool", "-gencert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-storepass", "changeit",
            "-infile", csr.toString(), "-outfile", issued.toString());
        Path caPem = exportCert(ca, "ca");
        Path chain = dir.resolve("chain.pem");
        Files.writeString(chain, Files.readString(issued) + Files.readString(caPem));
        tool("keytool", "-importcert", "-noprompt", "-alias", "leaf", "-keystore", leaf.toString(), "-storepass", "changeit",
            "-file", chain.toString());
        Path signed = sign(unsigned, leaf, "leaf", "by-leaf.jar");
        assertThatCode(() -> JarSignatures.verify(signed, JarSignatures.trustStore(caPem), "by-leaf.jar"))
            .doesNotThrowAnyException();
    }

    @Test
    void anUnsignedJarIsRefusedNamingTheEntryAndTheConfigKey() throws Exception {
        List<X509Certificate> trust = JarSignatures.trustStore(exportCert(keyPair("acme"), "acme"));
        assertThatThrownBy(() -> JarSignatures.verify(unsigned, trust, "plugin.jar"))
            .isInstanceOf(CommandRefusedException.class)
            .hasMessage("plugin.jar is not signed (entry 'com/acme/Handler.class' has no signature) and config key"
                + " 'plugins.require_signed' is true; nothing was installed");
    }

    @Test
    void aJarSignedBySomeoneElseIsRefusedNamingTheSigner() throws Exception {
        Path mallory = keyPair("mallory");
        Path signed = sign(unsigned, mallory, "mallory", "other.jar");
        List<X509Certificate> trust = JarSignatures.trustStore(exportCert(keyPair("acme"), "acme"));
        assertThatThrownBy(() -> JarSignatures.verify(signed, trust, "other.jar"))
            .isInstanceOf(CommandRefusedException.class)
            .hasMessageContaining("is signed by 'CN=mallory,O=Outpost test'")
            .hasMessageContaining("not in or issued by config key 'plugins.trust_store'");
    }

    @Test
    void aSignedJarWhoseContentWasChangedAfterSigningIsRefused() throws Exception {
        Path ks = keyPair("acme");
        Path signed = sign(unsigned, ks, "acme", "signed.jar");
        Path tampered = dir.resolve("tampered.jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(signed));
             OutputStream os = Files.newOutputStream(tampered); JarOutputStream out = new JarOutputStream(os, in.getManifest())) {
            for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                out.putNextEntry(new JarEntry(e.getName()));
                byte[] b = in.readAllBytes();
                if (e.getName().endsWith(".class")) b = "evil content of the same kind".getBytes(StandardCharsets.UTF_8);
                out.write(b);
                out.closeEntry();
            }
        }
        List<X509Certificate> trust = JarSignatures.trustStore(exportCert(ks, "acme"));
        assertThatThrownBy(() -> JarSignatures.verify(tampered, trust, "tampered.jar"))
            .isInstanceOf(CommandRefusedException.class)
            .hasMessageContaining("tampered.jar: entry 'com/acme/Handler.class' does not match its signature");
    }

    @Test
    void aTrustStoreThatIsNotPemStopsTheAgentNamingTheKey() throws Exception {
        Path bad = Files.writeString(dir.resolve("trust.pem"), "hello");
        assertThatThrownBy(() -> JarSignatures.trustStore(bad)).isInstanceOf(ConfigException.class)
            .hasMessageStartingWith("config key 'plugins.trust_store': " + bad + " is not a PEM file of certificates");
        assertThatThrownBy(() -> JarSignatures.trustStore(dir.resolve("missing.pem"))).isInstanceOf(ConfigException.class)
            .hasMessage("config key 'plugins.trust_store': cannot read " + dir.resolve("missing.pem"));
    }

    private Path keyPair(String alias, String... extra) throws Exception {
        Path ks = dir.resolve(alias + ".p12");
        List<String> args = new ArrayList<>(List.of("keytool", "-genkeypair", "-alias", alias, "-keyalg", "EC", "-dname",
            "CN=" + alias + ",O=Outpost test", "-validity", "2", "-keystore", ks.toString(), "-storetype", "PKCS12",
            "-storepass", "changeit"));
        args.addAll(List.of(extra));
        tool(args.toArray(String[]::new));
        return ks;
    }

    private Path exportCert(Path ks, String alias) throws Exception {
        Path pem = dir.resolve(alias + "-cert.pem");
        tool("keytool", "-exportcert", "-rfc", "-alias", alias, "-keystore", ks.toString(), "-storepass", "changeit",
            "-file", pem.toString());
        return pem;
    }

    private Path sign(Path jar, Path ks, String alias, String name) throws Exception {
        Path out = dir.resolve(name);
        tool("jarsigner", "-keystore", ks.toString(), "-storepass", "changeit", "-signedjar", out.toString(),
            jar.toString(), alias);
        return out;
    }

    /** Runs a JDK tool of the JDK running the tests; a failure names the tool and shows its output. */
    private void tool(String... argv) throws IOException, InterruptedException {
        Path bin = Path.of(System.getProperty("java.home"), "bin", argv[0]);
        assertThat(bin).as("the JDK's %s (needed to sign jars at test time)", argv[0]).isExecutable();
        argv[0] = bin.toString();
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", String.join(" ", argv), out).isZero();
    }
}
