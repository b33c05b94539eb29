package server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;

import javax.net.ssl.SSLContext;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import server.pki.Pem;
import server.pki.Pki;

class StartupAndTlsTest {
    @TempDir Path dir;

    @Test
    void firstStartMakesCaCertificateAndTokensWithPrivateModes() throws Exception {
        Path data = dir.resolve("data");
        try (TestServer s = TestServer.start(data)) {
            assertThat(mode(data)).isEqualTo("rwx------");
            for (String secret : List.of("ca-key.pem", "server-key.pem", "enrollment.token", "operator.token")) {
                assertThat(mode(data.resolve(secret))).as(secret).isEqualTo("rw-------");
            }
            assertThat(Files.readString(data.resolve("server.url")).trim()).isEqualTo("https://127.0.0.1:" + s.server.port());
            X509Certificate cert = Pem.readCertificates(data.resolve("server.pem")).get(0);
            X509Certificate ca = Pem.readCertificates(data.resolve("ca.pem")).get(0);
            cert.verify(ca.getPublicKey());
            assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
            assertThat(cert.getSubjectAlternativeNames()).extracting(l -> l.get(1).toString())
                .contains("localhost", "127.0.0.1")
                .anyMatch(v -> v.equals("0:0:0:0:0:0:0:1") || v.equals("::1"));
            String host = Pki.hostname();
            if (host != null) assertThat(cert.getSubjectAlternativeNames()).extracting(l -> l.get(1).toString()).contains(host);
            // the CA the server wrote is all a client needs: TLS 1.2+ works, TLS 1.1 does not
            assertThat(s.operatorGet("/api/v1/agents").status()).isEqualTo(200);
        }
    }

    @Test
    void laterStartsReuseTheCaAndTokens() throws Exception {
        String ca;
        String operator;
        String enrollment;
        try (TestServer s = TestServer.start(dir)) {
            ca = Files.readString(dir.resolve("ca.pem"));
            operator = s.operatorToken;
            enrollment = s.enrollmentToken;
            s.enroll("survivor");
        }
        try (TestServer s = TestServer.start(dir)) {
            assertThat(Files.readString(dir.resolve("ca.pem"))).isEqualTo(ca);
            assertThat(s.operatorToken).isEqualTo(operator);
            assertThat(s.enrollmentToken).isEqualTo(enrollment);
            assertThat(s.operatorGet("/api/v1/agents").json().getAsJsonArray()).hasSize(1);
        }
    }

    @Test
    void aSecondServerOnTheSameDataDirIsRefused() throws Exception {
        try (TestServer s = TestServer.start(dir)) {
            assertThatThrownBy(() -> OutpostServer.start(OutpostServer.Options.defaults(dir).withPort(0).withBindHost("127.0.0.1")))
                .hasMessageContaining("another outpost-server");
        }
    }

    @Test
    void onlyTls12AndUpAreOffered() throws Exception {
        try (TestServer s = TestServer.start(dir)) {
            SSLContext ctx = Pem.clientContext(dir.resolve("ca.pem"), null, null);
            javax.net.ssl.SSLParameters p = ctx.getDefaultSSLParameters();
            p.setProtocols(new String[] {"TLSv1.1"});
            HttpClient old = HttpClient.newBuilder().sslContext(ctx).sslParameters(p).build();
            assertThatThrownBy(() -> old.send(HttpRequest.newBuilder(s.base.resolve("/api/v1/agents")).build(),
                HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void withClientCaTheHandshakeNeedsACertificateSignedByIt() throws Exception {
        // an operator-made client CA and one client certificate, as an installer would make them
        KeyPair caKeys = Pki.ecKeyPair();
        X509Certificate clientCa = Pki.caCertificate(new X500Name("CN=Test Client CA"), caKeys);
        KeyPair clientKeys = Pki.ecKeyPair();
        X509Certificate clientCert = Pki.leafCertificate(clientCa, caKeys.getPrivate(), clientKeys.getPublic(),
            new X500Name("CN=agent-1"), List.of(), KeyPurposeId.id_kp_clientAuth);
        Path caFile = dir.resolve("client-ca.pem");
        Path certFile = dir.resolve("client.pem");
        Path keyFile = dir.resolve("client-key.pem");
        Files.writeString(caFile, Pem.toPem(clientCa));
        Files.writeString(certFile, Pem.toPem(clientCert));
        Files.writeString(keyFile, Pem.toPem(clientKeys.getPrivate()));

        Path data = dir.resolve("data");
        try (TestServer s = TestServer.start(OutpostServer.Options.defaults(data).withPort(0).withBindHost("127.0.0.1").withClientCa(caFile))) {
            HttpRequest rq = HttpRequest.newBuilder(s.base.resolve("/api/v1/agents"))
                .header("Authorization", "Bearer " + s.operatorToken).build();
            assertThatThrownBy(() -> s.http.send(rq, HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);

            HttpClient withCert = HttpClient.newBuilder().sslContext(Pem.clientContext(data.resolve("ca.pem"), certFile, keyFile)).build();
            assertThat(withCert.send(rq, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            // the certificate is in addition to the token, not instead of it
            HttpRequest noToken = HttpRequest.newBuilder(s.base.resolve("/api/v1/agents")).build();
            assertThat(withCert.send(noToken, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        }
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
