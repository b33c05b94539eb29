package server.pki;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.logging.Logger;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The server's own small CA and its TLS certificate, made with BouncyCastle on first start and reused after.
 * EC P-256 keys: a cheap handshake matters when thousands of agents reconnect at once.
 */
public final class Pki {
    private static final Logger LOG = Logger.getLogger(Pki.class.getName());
    private static final Pattern DNS_NAME = Pattern.compile("(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    private static final Duration SERVER_VALIDITY = Duration.ofDays(825);
    /** A server certificate closer than this to its end is made anew (signed by the same CA). */
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);

    public static final String CA_CERT = "ca.pem";
    public static final String CA_KEY = "ca-key.pem";
    public static final String SERVER_CERT = "server.pem";
    public static final String SERVER_KEY = "server-key.pem";

    private final X509Certificate caCertificate;
    private final X509Certificate serverCertificate;
    private final PrivateKey serverKey;

    private Pki(X509Certificate ca, X509Certificate cert, PrivateKey key) {
        this.caCertificate = ca;
        this.serverCertificate = cert;
        this.serverKey = key;
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    public X509Certificate serverCertificate() {
        return serverCertificate;
    }

    public PrivateKey serverKey() {
        return serverKey;
    }

    /** Loads the CA and server certificate from {@code dir}, making whichever is missing (or about to expire). */
    public static Pki loadOrCreate(Path dir) throws IOException {
        try {
            Path caCert = dir.resolve(CA_CERT);
            Path caKey = dir.resolve(CA_KEY);
            X509Certificate ca;
            PrivateKey caPrivate;
            boolean newCa = false;
            if (Files.exists(caCert) && Files.exists(caKey)) {
                ca = Pem.readCertificates(caCert).get(0);
                caPrivate = Pem.readPrivateKey(caKey);
            } else {
                KeyPair kp = ecKeyPair();
                X500Name name = new X500Name("CN=Outpost Server CA " + Long.toHexString(new SecureRandom().nextLong() & 0xffffffffL)
                    + ",O=Outpost");
                ca = caCertificate(name, kp);
                caPrivate = kp.getPrivate();
                writeSecret(caKey, Pem.toPem(caPrivate));
                writePublic(caCert, Pem.toPem(ca));
                newCa = true;
                LOG.info("made a new CA: " + caCert);
            }
            Path cert = dir.resolve(SERVER_CERT);
            Path key = dir.resolve(SERVER_KEY);
            if (!newCa && Files.exists(cert) && Files.exists(key)) {
                X509Certificate existing = Pem.readCertificates(cert).get(0);
                boolean fresh = existing.getNotAfter().toInstant().isAfter(Instant.now().plus(RENEW_BEFORE));
                boolean ours = existing.getIssuerX500Principal().equals(ca.getSubjectX500Principal());
                if (fresh && ours) return new Pki(ca, existing, Pem.readPrivateKey(key));
                LOG.info("the server certificate " + cert + (fresh ? " is not signed by " + caCert : " expires soon")
                    + ": making a new one");
            }
            KeyPair kp = ecKeyPair();
            X509Certificate serverCert = serverCertificate(ca, caPrivate, kp.getPublic(), subjectAltNames());
            writeSecret(key, Pem.toPem(kp.getPrivate()));
            writePublic(cert, Pem.toPem(serverCert) + Pem.toPem(ca));
            LOG.info("made a new server certificate: " + cert);
            return new Pki(ca, serverCert, kp.getPrivate());
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot make the server's certificates: " + e.getMessage(), e);
        }
    }

    /** localhost, 127.0.0.1, ::1 and this machine's host name. */
    static List<GeneralName> subjectAltNames() {
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.dNSName, "localhost"));
        names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
        names.add(new GeneralName(GeneralName.iPAddress, "::1"));
        String host = hostname();
        if (host != null && !host.equalsIgnoreCase("localhost")) names.add(new GeneralName(GeneralName.dNSName, host));
        return names;
    }

    /** The kernel's host name (what `hostname` prints), else what Java resolves; null if neither is a DNS name. */
    public static String hostname() {
        String h = null;
        try {
            h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            try {
                h = InetAddress.getLocalHost().getHostName();
            } catch (IOException e2) {
                return null;
            }
        }
        return h != null && DNS_NAME.matcher(h).matches() ? h : null;
    }

    public static KeyPair ecKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, new SecureRandom()).add(BigInteger.ONE);
    }

    public static X509Certificate caCertificate(X500Name name, KeyPair kp) throws GeneralSecurityException, OperatorCreationException, IOException {
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(CA_VALIDITY)), name, kp.getPublic());
        JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(kp.getPublic()));
        return new JcaX509CertificateConverter().getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
    }

    /** A leaf certificate signed by {@code ca}: server certificates (with SANs) and, in tests, client certificates. */
    public static X509Certificate leafCertificate(X509Certificate ca, PrivateKey caKey, PublicKey key, X500Name subject,
                                                  List<GeneralName> sans, KeyPurposeId purpose)
        throws GeneralSecurityException, OperatorCreationException, IOException {
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(SERVER_VALIDITY)), subject, key);
        JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(key));
        b.addExtension(Extension.authorityKeyIdentifier, false, u.createAuthorityKeyIdentifier(ca));
        if (!sans.isEmpty()) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
        }
        return new JcaX509CertificateConverter().getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey)));
    }

    private static X509Certificate serverCertificate(X509Certificate ca, PrivateKey caKey, PublicKey key, List<GeneralName> sans)
        throws GeneralSecurityException, OperatorCreationException, IOException {
        String host = hostname();
        return leafCertificate(ca, caKey, key, new X500Name("CN=" + (host == null ? "localhost" : host) + ",O=Outpost"),
            sans, KeyPurposeId.id_kp_serverAuth);
    }

    /** Writes a file readable by its owner only (0600), atomically. */
    public static void writeSecret(Path file, String content) throws IOException {
        write(file, content, "rw-------");
    }

    public static void writePublic(Path file, String content) throws IOException {
        write(file, content, "rw-r--r--");
    }

    private static void write(Path file, String content, String mode) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
        Files.writeString(tmp, content, StandardCharsets.US_ASCII);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
