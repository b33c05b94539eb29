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

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

import agent.transport.TransportSettings;

/** The TLS context of a transport: the server's CA (or the system trust store) and an optional client key pair. */
final class Tls {
    private Tls() {}

    static SSLContext context(TransportSettings s) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keyManagers(s), trustManagers(s), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** @return the trust managers of {@code server_ca}, or null for the system trust store */
    static TrustManager[] trustManagers(TransportSettings s) {
        if (s.serverCa == null) return null;
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            List<Certificate> cas = certificates(s.serverCa, "server_ca");
            for (int i = 0; i < cas.size(); i++) trust.setCertificateEntry("ca-" + i, cas.get(i));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            return tmf.getTrustManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** @return the key managers of the client certificate, or null without mutual TLS */
    static KeyManager[] keyManagers(TransportSettings s) {
        if (s.clientCert == null) return null;
        try {
            char[] none = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            List<Certificate> chain = certificates(s.clientCert, "client_cert");
            keys.setKeyEntry("client", privateKey(s.clientKey), none, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, none);
            return kmf.getKeyManagers();
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

    /** PKCS#8 ("BEGIN PRIVATE KEY": RSA, EC or Ed25519), PKCS#1 RSA or SEC1 EC PEM. */
    static PrivateKey privateKey(Path pem) throws IOException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        if (text.contains("ENCRYPTED")) {
            throw new IllegalArgumentException("config key 'client_key': " + pem + " is encrypted; the agent starts"
                + " unattended and needs an unencrypted key file (mode 0600)");
        }
        byte[] der;
        String[] algorithms;
        try {
            if (text.contains("-----BEGIN RSA PRIVATE KEY-----")) {
                der = Pkcs8.fromPkcs1Rsa(pemBody(text, "RSA PRIVATE KEY"));
                algorithms = new String[] {"RSA"};
            } else if (text.contains("-----BEGIN EC PRIVATE KEY-----")) {
                der = Pkcs8.fromSec1Ec(pemBody(text, "EC PRIVATE KEY"));
                algorithms = new String[] {"EC"};
            } else if (text.contains("-----BEGIN PRIVATE KEY-----")) {
                der = pemBody(text, "PRIVATE KEY");
                algorithms = new String[] {"RSA", "EC", "Ed25519"};
            } else {
                throw new IllegalArgumentException("holds no PEM private key");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config key 'client_key': " + pem + " " + e.getMessage());
        }
        for (String alg : algorithms) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException tryNext) {
                // the PEM does not say the algorithm; the DER does, and the wrong factory refuses it
            }
        }
        throw new IllegalArgumentException("config key 'client_key': " + pem + " is not a valid RSA, EC or Ed25519 key");
    }

    private static byte[] pemBody(String text, String label) {
        int begin = text.indexOf("-----BEGIN " + label + "-----");
        int end = text.indexOf("-----END " + label + "-----");
        if (begin < 0 || end < begin) throw new IllegalArgumentException("has no complete '" + label + "' PEM block");
        String body = text.substring(begin + label.length() + 16, end);
        if (body.contains(":")) throw new IllegalArgumentException("is encrypted (Proc-Type header); the agent needs an unencrypted key");
        try {
            return Base64.getMimeDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is not valid base64 PEM: " + e.getMessage());
        }
    }
}
