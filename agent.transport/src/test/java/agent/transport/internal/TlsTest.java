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

    private Path openssl(String name, String... args) throws Exception {
        Path out = dir.resolve(name);
        // openssl SUBCOMMAND -out FILE OPTIONS...: genrsa wants its bit count last
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("openssl", args[0], "-out", out.toString()));
        cmd.addAll(java.util.List.of(args).subList(1, args.length));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("openssl (package openssl) must be installed: %s", log).isZero();
        return out;
    }

    @Test
    void traditionalPkcs1RsaAndSec1EcKeysReadAsTheSameKeyAsTheirPkcs8Form() throws Exception {
        Path rsa = openssl("rsa1.pem", "genrsa", "-traditional", "2048");
        assertThat(Files.readString(rsa)).contains("BEGIN RSA PRIVATE KEY");
        Path rsa8 = openssl("rsa8.pem", "pkcs8", "-topk8", "-nocrypt", "-in", rsa.toString());
        java.security.interfaces.RSAPrivateCrtKey a = (java.security.interfaces.RSAPrivateCrtKey) Tls.privateKey(rsa);
        java.security.interfaces.RSAPrivateCrtKey b = (java.security.interfaces.RSAPrivateCrtKey) Tls.privateKey(rsa8);
        assertThat(a.getModulus()).isEqualTo(b.getModulus());
        assertThat(a.getPrivateExponent()).isEqualTo(b.getPrivateExponent());

        for (String curve : new String[] {"prime256v1", "secp384r1"}) {
            Path ec = openssl("sec1-" + curve + ".pem", "ecparam", "-name", curve, "-genkey", "-noout");
            assertThat(Files.readString(ec)).contains("BEGIN EC PRIVATE KEY");
            Path ec8 = openssl("ec8-" + curve + ".pem", "pkcs8", "-topk8", "-nocrypt", "-in", ec.toString());
            java.security.interfaces.ECPrivateKey x = (java.security.interfaces.ECPrivateKey) Tls.privateKey(ec);
            java.security.interfaces.ECPrivateKey y = (java.security.interfaces.ECPrivateKey) Tls.privateKey(ec8);
            assertThat(x.getS()).isEqualTo(y.getS());
            assertThat(x.getParams().getCurve()).isEqualTo(y.getParams().getCurve());
        }
    }

    @Test
    void keysThatCannotBeUsedAreExplained() throws Exception {
        Path rsa1 = dir.resolve("rsa1.pem");
        Files.writeString(rsa1, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        assertThatThrownBy(() -> Tls.privateKey(rsa1)).hasMessageContaining("config key 'client_key'")
            .hasMessageContaining("is not a valid RSA, EC or Ed25519 key");
        Path enc = dir.resolve("enc.pem");
        Files.writeString(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assertThatThrownBy(() -> Tls.privateKey(enc)).hasMessageContaining("is encrypted");
        Path junk = dir.resolve("junk.pem");
        Files.writeString(junk, "hello");
        assertThatThrownBy(() -> Tls.privateKey(junk)).hasMessageContaining("config key 'client_key'")
            .hasMessageContaining("holds no PEM private key");
    }

    @Test
    void aFileWithoutCertificatesIsRefusedNamingTheKey() throws Exception {
        Path notCert = dir.resolve("ca.pem");
        Files.writeString(notCert, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        assertThatThrownBy(() -> Tls.certificates(notCert, "server_ca")).hasMessageContaining("config key 'server_ca'");
    }
}
