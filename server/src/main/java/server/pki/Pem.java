package server.pki;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/** PEM files and the TLS contexts built from them (server, operator CLI, tests, the load tool). */
public final class Pem {
    private Pem() {}

    public static String toPem(Object certOrKey) {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            w.writeObject(certOrKey instanceof PrivateKey k ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : certOrKey);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode PEM", e);
        }
        return sw.toString();
    }

    /** Every certificate in a PEM file (a CA bundle may hold several). */
    public static List<X509Certificate> readCertificates(Path file) throws IOException {
        List<X509Certificate> out = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof X509CertificateHolder h) {
                    try {
                        out.add(new JcaX509CertificateConverter().getCertificate(h));
                    } catch (CertificateException e) {
                        throw new IOException("'" + file + "' holds a certificate that cannot be read: " + e.getMessage(), e);
                    }
                }
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("'" + file)) throw e;
            throw new IOException("cannot read PEM certificates from '" + file + "': " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw new IOException("'" + file + "' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return out;
    }

    /** A private key in PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM form, unencrypted. */
    public static PrivateKey readPrivateKey(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o;
            while ((o = p.readObject()) != null) {
                JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
                if (o instanceof PrivateKeyInfo info) return conv.getPrivateKey(info);
                if (o instanceof PEMKeyPair pair) return conv.getKeyPair(pair).getPrivate();
            }
        } catch (IOException e) {
            throw new IOException("cannot read a PEM private key from '" + file + "': " + e.getMessage(), e);
        }
        throw new IOException("'" + file + "' holds no unencrypted PEM private key");
    }

    public static KeyStore trustStore(List<X509Certificate> cas) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (X509Certificate ca : cas) ks.setCertificateEntry("ca" + i++, ca);
            return ks;
        } catch (Exception e) {
            throw new IllegalStateException("cannot build a trust store", e);
        }
    }

    public static KeyStore keyStore(PrivateKey key, List<X509Certificate> chain, char[] password) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("key", key, password, chain.toArray(new X509Certificate[0]));
            return ks;
        } catch (Exception e) {
            throw new IllegalStateException("cannot build a key store", e);
        }
    }

    /**
     * A client TLS context that trusts only the certificates in {@code caFile}, presenting {@code certFile} /
     * {@code keyFile} when both are given (mutual TLS).
     */
    public static SSLContext clientContext(Path caFile, Path certFile, Path keyFile) throws IOException {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore(readCertificates(caFile)));
            KeyManagerFactory kmf = null;
            if (certFile != null && keyFile != null) {
                char[] pw = "client".toCharArray();
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keyStore(readPrivateKey(keyFile), readCertificates(certFile), pw), pw);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot set up TLS: " + e.getMessage(), e);
        }
    }
}
