package plugin.disk.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import agent.api.CommandException;

/**
 * The fstab file: read, edited as lines (comments and layout are kept), and replaced atomically with the
 * previous version kept beside it, because a torn or wrong fstab can stop the machine from booting.
 */
final class Fstab {
    /** One active line: the fields of fstab(5); {@code line} is its 0-based index. */
    record Entry(int line, String spec, String file, String vfstype, String options) {}

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Path path;
    private final String original;
    private final List<String> lines;

    private Fstab(Path path, String original) {
        this.path = path;
        this.original = original;
        this.lines = new ArrayList<>(original.isEmpty() ? List.of() : List.of(original.split("\n", -1)));
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) lines.remove(lines.size() - 1);
    }

    /** @param path an fstab file; a missing one reads as empty @return its contents */
    static Fstab read(Path path) throws CommandException {
        try {
            return new Fstab(path, Files.exists(path) ? Files.readString(path, StandardCharsets.UTF_8) : "");
        } catch (IOException e) {
            throw new CommandException("cannot read fstab " + path + ": " + e.getMessage(), e);
        }
    }

    /** @return the file */
    Path path() { return path; }

    /** @return the text as read */
    String original() { return original; }

    /** @return the active (non-comment) lines */
    List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.isEmpty() || l.startsWith("#")) continue;
            String[] f = l.split("\\s+");
            if (f.length < 2) continue;
            out.add(new Entry(i, MountTable.unescape(f[0]), MountTable.unescape(f[1]), f.length > 2 ? f[2] : "",
                f.length > 3 ? f[3] : ""));
        }
        return out;
    }

    /** @param mountPoint a normalised path @return the active lines that mount something there */
    List<Entry> at(String mountPoint) {
        return entries().stream().filter(e -> stripSlash(e.file()).equals(mountPoint)).toList();
    }

    private static String stripSlash(String p) {
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    /** Turns an active line into a comment that says why, keeping the original text. */
    void commentOut(Entry e, String why) {
        lines.set(e.line(), "# " + why + ": " + lines.get(e.line()));
    }

    /** @param line appended as is */
    void append(String line) { lines.add(line); }

    /** @return the edited text */
    String text() { return lines.isEmpty() ? "" : String.join("\n", lines) + "\n"; }

    /**
     * Replaces the file with the edited text: a temp file in the same directory, fsync, the previous file
     * hard-linked (else copied) to {@code <name>.outpost-<UTC time>.bak}, rename over, fsync of the directory.
     *
     * @param now the time for the backup's name
     * @return the backup's path, or null if there was no previous file
     * @throws IOException if anything fails; the original file is then untouched
     */
    Path write(Instant now) throws IOException { return write(path, text(), now); }

    /** @see #write(Instant) */
    static Path write(Path file, String content, Instant now) throws IOException {
        // replace the target of a symlinked fstab, not the link
        Path target = Files.exists(file) ? file.toRealPath() : file.toAbsolutePath();
        Path dir = target.getParent();
        String name = target.getFileName().toString();
        Path tmp = Files.createTempFile(dir, "." + name + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            Path backup = null;
            if (Files.exists(target)) {
                PosixFileAttributes attrs = Files.readAttributes(target, PosixFileAttributes.class);
                Files.setPosixFilePermissions(tmp, attrs.permissions());
                PosixFileAttributeView view = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
                view.setOwner(attrs.owner());
                view.setGroup(attrs.group());
                backup = backup(target, now);
            } else {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true); // makes the rename and the backup's name durable
            }
            return backup;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Path backup(Path target, Instant now) throws IOException {
        String base = target.getFileName() + ".outpost-" + STAMP.format(now);
        for (int i = 0; ; i++) {
            Path b = target.resolveSibling(base + (i == 0 ? "" : "-" + i) + ".bak");
            if (Files.exists(b, java.nio.file.LinkOption.NOFOLLOW_LINKS)) continue;
            try {
                Files.createLink(b, target); // the old inode itself: no copy that could be torn
            } catch (FileAlreadyExistsException e) {
                continue;
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(target, b, StandardCopyOption.COPY_ATTRIBUTES);
                try (FileChannel ch = FileChannel.open(b, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
            }
            return b;
        }
    }
}
