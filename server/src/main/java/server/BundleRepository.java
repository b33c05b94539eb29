package server;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

import server.http.ApiException;
import server.http.Exchange;
import server.store.Records.Bundle;
import server.store.ServerStore;

/** Plugin jars uploaded by the operator, kept as {@code <data>/bundles/<sha256>.jar} and served to agents by sha256. */
public final class BundleRepository {
    public static final long MAX_BUNDLE_BYTES = 64L << 20;
    /**
     * The largest manifest read. Real ones are kilobytes; a signed jar's, with a digest per entry, can reach a
     * megabyte. A bigger one is refused before it is read: one that claimed 2 GiB used to fail the upload with 500.
     */
    public static final int MAX_MANIFEST_BYTES = 4 << 20;
    private static final String MANIFEST = "META-INF/MANIFEST.MF";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern BSN = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
    private static final Pattern VERSION = Pattern.compile("\\d+(\\.\\d+(\\.\\d+(\\.[A-Za-z0-9_-]+)?)?)?");

    private final Path dir;
    private final ServerStore store;

    public BundleRepository(Path dir, ServerStore store) throws IOException {
        this.dir = dir;
        this.store = store;
        Files.createDirectories(dir);
    }

    public static boolean isSha256(String s) {
        return s != null && SHA256.matcher(s).matches();
    }

    /** The path a bundle is served from (relative: the agent resolves it against its server URL). */
    public static String url(String sha256) {
        return "/agent/v1/bundles/" + sha256;
    }

    /** Reads an upload, checks it is an OSGi bundle jar and stores it under its sha256. */
    public Bundle upload(Exchange ex) throws IOException {
        Path tmp = Files.createTempFile(dir, ".upload-", ".tmp");
        try {
            MessageDigest sha;
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            long size;
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), sha)) {
                size = ex.bodyTo(out, MAX_BUNDLE_BYTES);
            }
            if (size == 0) throw ApiException.badRequest("the request body is empty: send the bundle's jar bytes");
            String bsn;
            String version;
            try (ZipFile jar = new ZipFile(tmp.toFile())) {
                Manifest mf = manifest(jar);
                Attributes a = mf.getMainAttributes();
                String rawBsn = a.getValue("Bundle-SymbolicName");
                if (rawBsn == null || rawBsn.isBlank()) {
                    throw ApiException.badRequest("the jar's manifest has no Bundle-SymbolicName: not an OSGi bundle");
                }
                bsn = rawBsn.split(";", 2)[0].trim();
                if (!BSN.matcher(bsn).matches()) {
                    throw ApiException.badRequest("the jar's Bundle-SymbolicName '" + rawBsn + "' is not a valid symbolic name");
                }
                String rawVersion = a.getValue("Bundle-Version");
                version = rawVersion == null || rawVersion.isBlank() ? "0.0.0" : rawVersion.trim();
                if (!VERSION.matcher(version).matches()) {
                    throw ApiException.badRequest("the jar's Bundle-Version '" + rawVersion + "' is not an OSGi version (major.minor.micro.qualifier)");
                }
            } catch (ZipException | SecurityException e) {
                throw ApiException.badRequest("the request body is not a jar (zip) file: " + e.getMessage());
            } catch (IOException e) {
                throw ApiException.badRequest("the jar cannot be read: " + e.getMessage());
            }
            String hex = HexFormat.of().formatHex(sha.digest());
            Path target = file(hex);
            if (!Files.exists(target)) Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return store.addBundle(new Bundle(hex, bsn, version, size, Times.now()));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The jar's manifest, read within {@link #MAX_MANIFEST_BYTES} whatever its entry claims. */
    private static Manifest manifest(ZipFile jar) throws IOException {
        ZipEntry entry = jar.getEntry(MANIFEST);
        if (entry == null) {
            // the JDK finds it whatever the case of its name
            for (var e = jar.entries(); e.hasMoreElements() && entry == null; ) {
                ZipEntry z = e.nextElement();
                if (z.getName().equalsIgnoreCase(MANIFEST)) entry = z;
            }
        }
        if (entry == null) throw ApiException.badRequest("the jar has no " + MANIFEST + ": not an OSGi bundle");
        if (entry.getSize() > MAX_MANIFEST_BYTES) {
            throw ApiException.badRequest("the jar's " + MANIFEST + " is larger than " + MAX_MANIFEST_BYTES + " bytes (it claims "
                + entry.getSize() + "): not a plugin bundle this server takes");
        }
        byte[] bytes;
        try (InputStream in = jar.getInputStream(entry)) {
            bytes = in.readNBytes(MAX_MANIFEST_BYTES + 1); // what it claims may be false: read no more than the limit
        }
        if (bytes.length > MAX_MANIFEST_BYTES) {
            throw ApiException.badRequest("the jar's " + MANIFEST + " is larger than " + MAX_MANIFEST_BYTES
                + " bytes: not a plugin bundle this server takes");
        }
        try {
            return new Manifest(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            throw ApiException.badRequest("the jar's " + MANIFEST + " is not a valid manifest: " + e.getMessage());
        }
    }

    public Path file(String sha256) {
        return dir.resolve(sha256 + ".jar");
    }

    /** The jar's file, or null when no bundle has that sha256. */
    public Path stored(String sha256) {
        if (!isSha256(sha256) || store.bundle(sha256) == null) return null;
        Path f = file(sha256);
        return Files.exists(f) ? f : null;
    }

    public List<Bundle> list() {
        return store.bundles();
    }
}
