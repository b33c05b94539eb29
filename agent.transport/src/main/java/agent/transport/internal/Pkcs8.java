package agent.transport.internal;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Wraps PKCS#1 RSA and SEC1 EC private keys (the "traditional" PEM formats, which the JDK's key factories do not
 * take) into a PKCS#8 PrivateKeyInfo (RFC 5208), which they do. Only the fixed DER envelope is written here; the
 * key itself is parsed by the JDK. Hand-written rather than BouncyCastle: its bundles cost 8 MB of jar, 5 MB of
 * idle RSS and over 100 ms of start-up on every agent, for a 40-line envelope.
 */
final class Pkcs8 {
    /** AlgorithmIdentifier of rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
        (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    /** OID id-ecPublicKey (1.2.840.10045.2.1). */
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    private Pkcs8() {}

    static byte[] fromPkcs1Rsa(byte[] pkcs1) {
        return privateKeyInfo(RSA_ALGORITHM, pkcs1);
    }

    /** @throws IllegalArgumentException if the SEC1 key does not name its curve */
    static byte[] fromSec1Ec(byte[] sec1) {
        // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] parameters OPTIONAL, [1] ... }
        int[] seq = header(sec1, 0, 0x30);
        int p = seq[0];
        int[] version = header(sec1, p, 0x02);
        p = version[0] + version[1];
        int[] key = header(sec1, p, 0x04);
        p = key[0] + key[1];
        if (p >= sec1.length || sec1[p] != (byte) 0xa0) {
            throw new IllegalArgumentException("the SEC1 key does not name its curve (no parameters)");
        }
        int[] params = header(sec1, p, 0xa0);
        int[] oid = header(sec1, params[0], 0x06);
        byte[] curve = Arrays.copyOfRange(sec1, params[0], oid[0] + oid[1]);
        byte[] algorithm = tlv(0x30, concat(EC_PUBLIC_KEY_OID, curve));
        return privateKeyInfo(algorithm, sec1);
    }

    private static byte[] privateKeyInfo(byte[] algorithm, byte[] key) {
        return tlv(0x30, concat(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, key)));
    }

    /** @return {offset of the contents, length of the contents} of the element at {@code at}, which must have this tag */
    private static int[] header(byte[] der, int at, int tag) {
        if (at + 2 > der.length || (der[at] & 0xff) != tag) {
            throw new IllegalArgumentException("not the DER structure of a key (expected tag " + tag + " at byte " + at + ")");
        }
        int first = der[at + 1] & 0xff;
        if (first < 0x80) return new int[] {at + 2, first};
        int n = first & 0x7f;
        if (n < 1 || n > 3 || at + 2 + n > der.length) throw new IllegalArgumentException("bad DER length at byte " + at);
        int len = 0;
        for (int i = 0; i < n; i++) len = (len << 8) | (der[at + 2 + i] & 0xff);
        if (at + 2 + n + len > der.length) throw new IllegalArgumentException("truncated DER at byte " + at);
        return new int[] {at + 2 + n, len};
    }

    private static byte[] tlv(int tag, byte[] contents) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(contents.length + 5);
        out.write(tag);
        int len = contents.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len & 0xff);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write((len >> 8) & 0xff);
            out.write(len & 0xff);
        }
        out.writeBytes(contents);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
