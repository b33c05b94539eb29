package agent.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsTest {
    @TempDir
    Path dir;

    @Test
    void pkcs8KeysOfEachAlgorithmAreRead() throws Exception {
        for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
            KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
            byte[] der = g.generateKeyPair().getPrivate().getEncoded();
            Path pem = dir.resolve(alg + ".pem");
            Files.writeString(pem, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(der)
                + "\n-----END PRIVATE KEY-----\n");
            assertThat(Tls.privateKey(pem).getAlgorithm()).isIn(alg, "EdDSA", "Ed25519");
        }
    }

    @Test
    void keysTheJdkCannotReadAreExplained() throws Exception {
        Path rsa1 = dir.resolve("rsa1.pem");
        Files.writeString(rsa1, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> Tls.privateKey(rsa1)).hasMessageContaining("config key 'client_key'")
            .hasMessageContaining("openssl pkcs8 -topk8");
        Path junk = dir.resolve("junk.pem");
        Files.writeString(junk, "hello");
        assertThatThrownBy(() -> Tls.privateKey(junk)).hasMessageContaining("holds no PEM private key");
    }

    @Test
    void aFileWithoutCertificatesIsRefusedNamingTheKey() throws Exception {
        Path notCert = dir.resolve("ca.pem");
        Files.writeString(notCert, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> Tls.certificates(notCert, "server_ca")).hasMessageContaining("config key 'server_ca'");
    }
}
