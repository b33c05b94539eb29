package agent.core.internal.plugins;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import agent.api.CommandRefusedException;
import agent.core.internal.config.ConfigException;

/**
 * The signed-jar policy of {@code plugins.require_signed}: every entry of a plugin jar must be signed (as
 * {@code jarsigner} does) by a certificate that is in the trust store or issued by one in it. The JDK's jar
 * verification checks the digests; this class checks who signed.
 */
final class JarSignatures {
    private JarSignatures() {}

    /** Reads the PEM certificates of {@code plugins.trust_store}; a missing or empty file stops the agent. */
    static List<X509Certificate> trustStore(Path pem) throws ConfigException {
        String key = "config key 'plugins.trust_store'";
        if (!Files.isReadable(pem)) throw new ConfigException(key + ": cannot read " + pem);
        List<X509Certificate> out = new ArrayList<>();
        try (InputStream in = Files.newInputStream(pem)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                out.add((X509Certificate) c);
            }
        } catch (IOException | CertificateException e) {
            throw new ConfigException(key + ": " + pem + " is not a PEM file of certificates: " + e.getMessage());
        }
        if (out.isEmpty()) throw new ConfigException(key + ": " + pem + " holds no certificate");
        return List.copyOf(out);
    }

    /**
     * @param where the jar's URL, for messages
     * @throws CommandRefusedException naming the first entry that is unsigned, tampered with or signed by no one
     *     trusted
     */
    static void verify(Path jar, List<X509Certificate> trusted, String where) throws CommandRefusedException {
        int signed = 0;
        try (JarFile jf = new JarFile(jar.toFile(), true)) {
            byte[] buf = new byte[8192];
            for (Enumeration<JarEntry> en = jf.entries(); en.hasMoreElements();) {
                JarEntry e = en.nextElement();
                if (e.isDirectory() || isSignatureFile(e.getName())) continue;
                try (InputStream in = jf.getInputStream(e)) {
                    while (in.read(buf) >= 0) {
                        // reading to the end is what makes JarFile check the entry's digest
                    }
                } catch (SecurityException tampered) {
                    throw new CommandRefusedException(where + ": entry '" + e.getName() + "' does not match its signature ("
                        + tampered.getMessage() + "); nothing was installed");
                }
                CodeSigner[] signers = e.getCodeSigners();
                if (signers == null || signers.length == 0) {
                    throw new CommandRefusedException(where + " is not signed (entry '" + e.getName() + "' has no signature)"
                        + " and config key 'plugins.require_signed' is true; nothing was installed");
                }
                if (!anyTrusted(signers, trusted)) {
                    throw new CommandRefusedException(where + ": entry '" + e.getName() + "' is signed by "
                        + subject(signers[0]) + ", which is not in or issued by config key 'plugins.trust_store'; nothing"
                        + " was installed");
                }
                signed++;
            }
        } catch (SecurityException e) {
            throw new CommandRefusedException(where + ": its signature is invalid (" + e.getMessage() + "); nothing was installed");
        } catch (IOException e) {
            throw new CommandRefusedException(where + " is not a jar: " + e.getMessage());
        }
        if (signed == 0) throw new CommandRefusedException(where + " has no signed content; nothing was installed");
    }

    private static boolean anyTrusted(CodeSigner[] signers, List<X509Certificate> trusted) {
        for (CodeSigner s : signers) {
            for (Certificate c : s.getSignerCertPath().getCertificates()) {
                for (X509Certificate t : trusted) {
                    if (t.equals(c)) return true;
                    try {
                        c.verify(t.getPublicKey());
                        return true;
                    } catch (GeneralSecurityException notIssuedByIt) {
                        // try the next trusted certificate
                    }
                }
            }
        }
        return false;
    }

    private static String subject(CodeSigner s) {
        Certificate c = s.getSignerCertPath().getCertificates().get(0);
        return c instanceof X509Certificate ? "'" + ((X509Certificate) c).getSubjectX500Principal().getName() + "'" : "an unknown signer";
    }

    /** The manifest and the signature block files themselves are not signed content. */
    private static boolean isSignatureFile(String name) {
        String n = name.toUpperCase(Locale.ROOT);
        if (n.equals("META-INF/MANIFEST.MF")) return true;
        if (!n.startsWith("META-INF/") || n.indexOf('/', "META-INF/".length()) >= 0) return false;
        return n.endsWith(".SF") || n.endsWith(".RSA") || n.endsWith(".DSA") || n.endsWith(".EC")
            || n.startsWith("META-INF/SIG-");
    }
}
