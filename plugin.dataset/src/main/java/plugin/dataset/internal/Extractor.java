package plugin.dataset.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Extracts an archive into a fresh staging directory and nothing outside it:
 *
 * <ul>
 *   <li>names that are absolute, hold a {@code ..} segment or a NUL, or are empty are refused;</li>
 *   <li>symbolic links are made last, after every file, so no entry is ever written through one; each must be
 *       relative and, once all exist, resolve (following every link) to something inside the staging directory:
 *       links out, and links to nothing, are refused;</li>
 *   <li>a hard link must name a regular file extracted before it;</li>
 *   <li>device nodes, FIFOs and sparse files are refused; a name that appears twice is refused;</li>
 *   <li>modes keep their permission bits only (no setuid, setgid or sticky bit); owners are not restored (everything
 *       belongs to the agent's user);</li>
 *   <li>the bytes written and the entries made are counted as they happen, not believed from headers, and the
 *       extraction stops at {@code max_extracted_bytes} or {@code max_entries} (archive bombs).</li>
 * </ul>
 *
 * Zip entries are files and directories only: Java's zip reader does not expose the Unix mode that marks a link, so
 * a link stored in a zip is extracted as a small file holding its target, never as a link.
 */
final class Extractor {
    /** The archive is hostile or too big: nothing from it may be used. */
    static final class RefusedException extends IOException {
        private static final long serialVersionUID = 1L;

        RefusedException(String message) { super(message); }
    }

    record Limits(long maxBytes, long maxEntries) {}

    record Stats(long files, long directories, long links, long bytes) {}

    /** Lets a long extraction stop on a cancel and report progress. */
    interface Watcher {
        void check() throws IOException;
    }

    private record PendingLink(Path path, String target, String entry) {}

    private record DirTimes(Path dir, int mode, long mtime) {}

    private final Path staging;
    private final Limits limits;
    private final Watcher watcher;
    private final byte[] buf = new byte[64 * 1024];
    private long files;
    private long directories;
    private long links;
    private long bytes;
    private long entries;
    private final List<PendingLink> pendingLinks = new ArrayList<>();
    private final List<DirTimes> dirs = new ArrayList<>();

    Extractor(Path staging, Limits limits, Watcher watcher) {
        this.staging = staging.toAbsolutePath().normalize();
        this.limits = limits;
        this.watcher = watcher;
    }

    /** @param in a tar stream (already decompressed) @return what was extracted */
    Stats tar(InputStream in) throws IOException {
        TarReader tar = new TarReader(in);
        TarReader.Entry e;
        while ((e = tar.next()) != null) {
            watcher.check();
            countEntry(e.name());
            Path p = resolve(e.name());
            if (e.isDirectory()) {
                directory(p, e.mode(), e.mtime() * 1000);
            } else if (e.isFile()) {
                if (e.size() > limits.maxBytes() - bytes) tooBig();
                parents(p);
                try (OutputStream out = create(p, e.name())) {
                    int n;
                    while ((n = tar.read(buf, 0, buf.length)) > 0) write(out, n);
                }
                finishFile(p, e.mode(), e.mtime() * 1000);
            } else if (e.isSymlink()) {
                symlink(p, e.linkName(), e.name());
            } else if (e.isHardLink()) {
                Path target = resolve(e.linkName());
                if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw new RefusedException("entry " + Text.quote(e.name()) + " is a hard link to " + Text.quote(e.linkName())
                        + ", which is not a file extracted before it");
                }
                parents(p);
                try {
                    Files.createLink(p, target);
                } catch (FileAlreadyExistsException x) {
                    throw duplicate(e.name());
                }
                links++;
            } else if (e.type() == '3' || e.type() == '4') {
                throw new RefusedException("entry " + Text.quote(e.name()) + " is a device node; an archive of data has none");
            } else if (e.type() == '6') {
                throw new RefusedException("entry " + Text.quote(e.name()) + " is a FIFO; an archive of data has none");
            } else {
                throw new RefusedException("entry " + Text.quote(e.name()) + " has tar type '" + e.type() + "', which is not extracted");
            }
        }
        finish();
        return new Stats(files, directories, links, bytes);
    }

    /** @param file a zip archive @return what was extracted */
    Stats zip(Path file) throws IOException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            if (zip.size() > limits.maxEntries()) {
                throw new RefusedException("the archive has " + zip.size() + " entries, more than max_entries (" + limits.maxEntries() + ")");
            }
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry z = all.nextElement();
                watcher.check();
                countEntry(z.getName());
                Path p = resolve(z.getName());
                long mtime = z.getLastModifiedTime() == null ? 0 : z.getLastModifiedTime().toMillis();
                if (z.isDirectory()) {
                    directory(p, 0755, mtime);
                    continue;
                }
                parents(p);
                try (InputStream in = zip.getInputStream(z); OutputStream out = create(p, z.getName())) {
                    int n;
                    while ((n = in.read(buf)) > 0) write(out, n);
                }
                finishFile(p, 0644, mtime);
            }
        } catch (java.util.zip.ZipException e) {
            throw new IOException("not a valid zip archive: " + e.getMessage(), e);
        }
        finish();
        return new Stats(files, directories, links, bytes);
    }

    /** A plain file: copied under its name. @return what was written */
    Stats file(Path source, String name) throws IOException {
        Path p = resolve(name);
        try (InputStream in = Files.newInputStream(source); OutputStream out = create(p, name)) {
            int n;
            while ((n = in.read(buf)) > 0) write(out, n);
        }
        finishFile(p, 0644, Files.getLastModifiedTime(source).toMillis());
        return new Stats(files, directories, links, bytes);
    }

    private void countEntry(String name) throws RefusedException {
        if (++entries > limits.maxEntries()) {
            throw new RefusedException("the archive has more than max_entries (" + limits.maxEntries() + ") entries (stopped at "
                + Text.quote(name) + ")");
        }
    }

    private void write(OutputStream out, int n) throws IOException {
        if (bytes + n > limits.maxBytes()) tooBig();
        out.write(buf, 0, n);
        bytes += n;
        if ((bytes & 0xFFFFFF) < n) watcher.check(); // every 16 MiB or so
    }

    private void tooBig() throws RefusedException {
        throw new RefusedException("the archive expands to more than max_extracted_bytes (" + limits.maxBytes() + " bytes, "
            + Text.bytes(limits.maxBytes()) + "); an archive bomb, or raise the limit");
    }

    /**
     * @param name an entry's name
     * @return where it goes in the staging directory
     * @throws RefusedException if the name is absolute, climbs with {@code ..}, holds a NUL or is empty
     */
    Path resolve(String name) throws RefusedException {
        if (name == null || name.isEmpty()) throw new RefusedException("an entry has an empty name");
        if (name.indexOf('\0') >= 0) throw new RefusedException("entry " + Text.quote(name) + " has a NUL in its name");
        if (name.startsWith("/")) throw new RefusedException("entry " + Text.quote(name) + " has an absolute name");
        StringBuilder rel = new StringBuilder();
        for (String seg : name.split("/")) {
            if (seg.isEmpty() || seg.equals(".")) continue;
            if (seg.equals("..")) throw new RefusedException("entry " + Text.quote(name) + " climbs out with '..'");
            if (rel.length() > 0) rel.append('/');
            rel.append(seg);
        }
        if (rel.length() == 0) return staging; // "./": the top itself
        Path p = staging.resolve(rel.toString()).normalize();
        if (!p.startsWith(staging) || p.equals(staging)) throw new RefusedException("entry " + Text.quote(name) + " lies outside the data set");
        return p;
    }

    private void parents(Path p) throws IOException {
        Path parent = p.getParent();
        if (parent.startsWith(staging) && !Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(parent);
        }
    }

    private void directory(Path p, int mode, long mtime) throws IOException {
        if (p.equals(staging)) return;
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            throw duplicate(staging.relativize(p).toString());
        }
        Files.createDirectories(p);
        directories++;
        dirs.add(new DirTimes(p, mode, mtime));
    }

    private OutputStream create(Path p, String name) throws IOException {
        try {
            return Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        } catch (FileAlreadyExistsException e) {
            throw duplicate(name);
        }
    }

    private void finishFile(Path p, int mode, long mtime) throws IOException {
        Files.setPosixFilePermissions(p, permissions(mode | 0400)); // the agent can always read what it installed
        if (mtime > 0) Files.setLastModifiedTime(p, FileTime.fromMillis(mtime));
        files++;
    }

    private void symlink(Path p, String target, String name) throws RefusedException {
        if (target == null || target.isEmpty()) throw new RefusedException("entry " + Text.quote(name) + " is a link to nothing");
        if (target.startsWith("/")) {
            throw new RefusedException("entry " + Text.quote(name) + " is a link to the absolute path " + Text.quote(target)
                + ", outside the data set");
        }
        Path lexical = p.getParent().resolve(target).normalize();
        if (!lexical.startsWith(staging)) {
            throw new RefusedException("entry " + Text.quote(name) + " is a link to " + Text.quote(target) + ", outside the data set");
        }
        pendingLinks.add(new PendingLink(p, target, name));
    }

    private void finish() throws IOException {
        for (PendingLink l : pendingLinks) {
            parents(l.path());
            try {
                Files.createSymbolicLink(l.path(), Path.of(l.target()));
            } catch (FileAlreadyExistsException e) {
                throw duplicate(l.entry());
            }
            links++;
        }
        // with every link in place, each must resolve inside: a chain of links that are each inside can still lead out
        Path realStaging = staging.toRealPath();
        for (PendingLink l : pendingLinks) {
            Path real;
            try {
                real = l.path().toRealPath();
            } catch (NoSuchFileException e) {
                throw new RefusedException("entry " + Text.quote(l.entry()) + " is a link to " + Text.quote(l.target())
                    + ", which does not exist in the data set");
            } catch (java.nio.file.FileSystemException e) {
                throw new RefusedException("entry " + Text.quote(l.entry()) + " is a link that cannot be resolved (" + e.getReason() + ")");
            }
            if (!real.startsWith(realStaging)) {
                throw new RefusedException("entry " + Text.quote(l.entry()) + " is a link to " + Text.quote(l.target())
                    + ", which leads outside the data set (through other links)");
            }
        }
        // directory modes and times last: making entries inside would change them again
        for (int i = dirs.size() - 1; i >= 0; i--) {
            DirTimes d = dirs.get(i);
            Files.setPosixFilePermissions(d.dir(), permissions(d.mode() | 0700));
            if (d.mtime() > 0) Files.setLastModifiedTime(d.dir(), FileTime.fromMillis(d.mtime()));
        }
    }

    private static RefusedException duplicate(String name) {
        return new RefusedException("entry " + Text.quote(name) + " appears twice in the archive (or collides with another entry)");
    }

    /** @return the permission bits of a mode; setuid, setgid and sticky are dropped */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < 9; i++) if ((mode & (1 << i)) != 0) s.add(order[i]);
        return s;
    }
}
