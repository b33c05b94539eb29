package agent.transport.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import agent.transport.TransportSettings;

/** The TLS context of a transport: the server's CA (or the system trust store) and an optional client key pair. */
final class Tls {
    private Tls() {}

    static SSLContext context(TransportSettings s) {
        try {
            TrustManagerFactory tmf = null;
            if (s.serverCa != null) {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                List<Certificate> cas = certificates(s.serverCa, "server_ca");
                for (int i = 0; i < cas.size(); i++) trust.setCertificateEntry("ca-" + i, cas.get(i));
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
            }
            KeyManagerFactory kmf = null;
            if (s.clientCert != null) {
                char[] none = new char[0];
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                List<Certificate> chain = certificates(s.clientCert, "client_cert");
                keys.setKeyEntry("client", privateKey(s.clientKey), none, chain.toArray(new Certificate[0]));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, none);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    static List<Certificate> certificates(Path pem, String key) throws IOException {
        try (InputStream in = Files.newInputStream(pem)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) throw new IllegalArgumentException("config key '" + key + "': no certificate in " + pem);
            return new ArrayList<>(certs);
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalArgumentException("config key '" + key + "': " + pem + " is not a PEM certificate: " + e.getMessage());
        }
    }

    /** PKCS#8 PEM ("BEGIN PRIVATE KEY"), RSA, EC or Ed25519. */
    static PrivateKey privateKey(Path pem) throws IOException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        if (text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY")) {
            throw new IllegalArgumentException("config key 'client_key': " + pem + " is a PKCS#1/SEC1 key; convert it"
                + " with: openssl pkcs8 -topk8 -nocrypt -in " + pem + " -out client-key.pk8.pem");
        }
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < 0) {
            throw new IllegalArgumentException("config key 'client_key': " + pem + " holds no PEM private key"
                + " (an encrypted key is not supported)");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
        for (String alg : new String[] {"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException tryNext) {
                // the PEM does not say the algorithm; the DER does, and the wrong factory refuses it
            }
        }
        throw new IllegalArgumentException("config key 'client_key': " + pem + " is not an RSA, EC or Ed25519 key");
    }
}
