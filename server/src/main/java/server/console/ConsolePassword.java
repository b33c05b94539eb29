package server.console;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

import server.pki.Pki;

/**
 * The console's password: made at the server's first start, printed once beside the operator token's file, and kept
 * only as a PBKDF2 hash ({@code console-password}, 0600). Deleting the file has a new one made and printed at the next
 * start. An operator may sign in with it or with the operator token.
 */
public final class ConsolePassword {
    public static final String FILE = "console-password";
    private static final SecureRandom RANDOM = new SecureRandom();
    /** No 0/o, 1/l/i: a password read off a terminal is typed again by hand. */
    private static final String ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";
    /**
     * PBKDF2-HMAC-SHA256 rounds. The password is 24 random characters (118 bits), so the hash need not make up for a
     * weak one; the rounds only slow down a stolen file's guesses. About 40 ms a check here; wrong guesses are also
     * rate-limited per address (Guard).
     */
    private static final int ROUNDS = 100_000;
    private static final String SCHEME = "pbkdf2-sha256";

    private final int rounds;
    private final byte[] salt;
    private final byte[] hash;
    private final String madeNow;

    private ConsolePassword(int rounds, byte[] salt, byte[] hash, String madeNow) {
        this.rounds = rounds;
        this.salt = salt;
        this.hash = hash;
        this.madeNow = madeNow;
    }

    /** Reads the hash in {@code dataDir}, or makes a new password and stores its hash. */
    public static ConsolePassword loadOrCreate(Path dataDir) throws IOException {
        Path file = dataDir.resolve(FILE);
        if (Files.exists(file)) {
            String line = Files.readString(file, StandardCharsets.US_ASCII).trim();
            String[] f = line.split("\\$");
            try {
                if (f.length != 4 || !f[0].equals(SCHEME)) throw new IllegalArgumentException("not " + SCHEME + "$ROUNDS$SALT$HASH");
                int rounds = Integer.parseInt(f[1]);
                if (rounds < 1) throw new IllegalArgumentException("rounds must be positive");
                return new ConsolePassword(rounds, Base64.getDecoder().decode(f[2]), Base64.getDecoder().decode(f[3]), null);
            } catch (IllegalArgumentException e) {
                throw new IOException("'" + file + "' holds no password hash (" + e.getMessage() + "); delete it to have a new password made");
            }
        }
        StringBuilder pw = new StringBuilder();
        for (int i = 0; i < 24; i++) {
            if (i > 0 && i % 6 == 0) pw.append('-');
            pw.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        byte[] hash = pbkdf2(pw.toString(), salt, ROUNDS);
        Pki.writeSecret(file, SCHEME + "$" + ROUNDS + "$" + Base64.getEncoder().encodeToString(salt) + "$"
            + Base64.getEncoder().encodeToString(hash) + "\n");
        return new ConsolePassword(ROUNDS, salt, hash, pw.toString());
    }

    /** The password in clear if it was made by this start (to print once), else null. */
    public String madeNow() {
        return madeNow;
    }

    /** Whether {@code candidate} is the password (constant time in the hash). */
    boolean matches(String candidate) {
        if (candidate == null || candidate.isEmpty() || candidate.length() > 200) return false;
        return MessageDigest.isEqual(pbkdf2(candidate.trim(), salt, rounds), hash);
    }

    private static byte[] pbkdf2(String password, byte[] salt, int rounds) {
        try {
            PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, rounds, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is missing from this Java runtime", e);
        }
    }
}
