package plugin.backup.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A directory of archives and their manifests ({@code <data_dir>/backups} unless told otherwise). Archives are named
 * {@code <name>-<UTC time>.tar[.gz|.zst]}; work in progress lives under hidden {@code .tmp-} names until it is
 * complete, fsync'd and renamed. Owner-only: backups hold whatever the files they copy hold.
 */
final class Destination {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern ARCHIVE = Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]{0,63})-(\\d{8}T\\d{6}\\.\\d{3}Z)\\.tar(\\.gz|\\.zst)?");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    static final String TEMP = ".tmp-";

    private final Path dir;

    Destination(Path dir) { this.dir = dir; }

    Path dir() { return dir; }

    /** An archive of the directory and its manifest (null if it has none: an unfinished or foreign file). */
    record Stored(Path archive, Manifest manifest, String problem) {
        String fileName() { return archive.getFileName().toString(); }
    }

    /** @return the directory, created owner-only if missing */
    Path create() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        return dir;
    }

    /** @return a file name for a new archive */
    static String archiveName(String name, Instant at, Compression c) { return name + "-" + STAMP.format(at) + c.suffix; }

    /** @return whether a file name is one of this plugin's archives */
    static boolean isArchiveName(String fileName) { return ARCHIVE.matcher(fileName).matches(); }

    /**
     * @return a new empty owner-only file for work in progress, e.g. {@code .tmp-<archive>-<random>}
     */
    Path temporary(String forName) throws IOException {
        for (int i = 0; ; i++) {
            Path p = dir.resolve(TEMP + forName + "-" + Long.toHexString(System.nanoTime()) + i);
            try {
                Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                return p;
            } catch (FileAlreadyExistsException e) {
                // next name
            }
        }
    }

    /** Removes the work of backups that never finished (the agent stopped); backups never run side by side. */
    int removeTemporaries() throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        int n = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, TEMP + "*")) {
            for (Path p : ds) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(p)) n++;
            }
        }
        return n;
    }

    /** @return every archive of the directory, newest first; those without a readable manifest too, with why */
    List<Stored> list() throws IOException {
        List<Stored> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                if (!isArchiveName(f) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) continue;
                Path mf = manifestOf(p);
                if (!Files.exists(mf)) {
                    out.add(new Stored(p, null, "it has no manifest: the backup that wrote it did not finish"));
                    continue;
                }
                try {
                    out.add(new Stored(p, Manifest.read(mf), null));
                } catch (IOException e) {
                    out.add(new Stored(p, null, "its manifest cannot be read: " + e.getMessage()));
                }
            }
        }
        // the file names carry the creation time: newest first, whatever the clock did since
        out.sort(Comparator.comparing(Stored::fileName, Comparator.comparing(Destination::stamp)).reversed());
        return out;
    }

    private static String stamp(String fileName) {
        var m = ARCHIVE.matcher(fileName);
        return m.matches() ? m.group(2) : "";
    }

    /**
     * @param ref a file name of this directory, an absolute path, or an archive's sha256
     * @return the archive, if there is one
     */
    Optional<Stored> find(String ref) throws IOException {
        if (SHA256.matcher(ref).matches()) {
            return list().stream().filter(s -> s.manifest() != null && s.manifest().sha256().equals(ref)).findFirst();
        }
        Path p = ref.startsWith("/") ? Path.of(ref) : dir.resolve(ref);
        if (!Files.isRegularFile(p)) return Optional.empty();
        Path mf = manifestOf(p);
        if (!Files.exists(mf)) return Optional.of(new Stored(p, null, "it has no manifest"));
        try {
            return Optional.of(new Stored(p, Manifest.read(mf), null));
        } catch (IOException e) {
            return Optional.of(new Stored(p, null, "its manifest cannot be read: " + e.getMessage()));
        }
    }

    /** @param archive an archive @return where its manifest is */
    static Path manifestOf(Path archive) { return archive.resolveSibling(archive.getFileName() + Manifest.SUFFIX); }

    /** Deletes an archive and its manifest (manifest first: an archive without one is never taken for complete). */
    void delete(Stored s) throws IOException {
        Files.deleteIfExists(manifestOf(s.archive()));
        Files.deleteIfExists(s.archive());
        syncDirectory(s.archive().getParent());
    }

    /**
     * @param name a backup name
     * @param keep how many of the newest to keep
     * @return the archives of that name beyond the newest {@code keep}, oldest last
     */
    List<Stored> beyond(String name, int keep) throws IOException {
        List<Stored> same = list().stream().filter(s -> s.manifest() != null && s.manifest().name().equals(name)).toList();
        return same.size() <= keep ? List.of() : same.subList(keep, same.size());
    }

    /** Writes a file whole: a temp file, fsync, rename, fsync of the directory. */
    static void writeAtomically(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(TEMP + file.getFileName());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(file.getParent());
    }

    static void syncDirectory(Path d) throws IOException {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * @param file a file
     * @param sync whether to fsync it too (a new archive, before its rename)
     * @return its sha256, hex
     */
    static String sha256(Path file, boolean sync) throws IOException { return sha256(file, sync, () -> false); }

    /**
     * @param file    a file
     * @param sync    whether to fsync it too
     * @param stopped when to give up (the command was cancelled)
     * @return its sha256, hex
     */
    static String sha256(Path file, boolean sync, java.util.function.BooleanSupplier stopped) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0;) {
                md.update(buf, 0, n);
                if (stopped.getAsBoolean() || Thread.currentThread().isInterrupted()) {
                    throw new java.io.InterruptedIOException("stopped while reading " + file);
                }
            }
        }
        if (sync) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** @param p a path that may not exist @return it, or what it resolves to if it does */
    static Path realOrSelf(Path p) {
        try {
            return p.toRealPath();
        } catch (NoSuchFileException e) {
            return p;
        } catch (IOException e) {
            return p;
        }
    }
}
