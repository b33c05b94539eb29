package plugin.files.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.Optional;

/**
 * This process's open files as {@code /proc/self/fd/N} paths. The kernel resolves such a path to the object the
 * descriptor holds, not by name, so {@code chmod}, {@code chown} or {@code stat} through it reach exactly that object,
 * whatever was renamed or swapped since it was opened: Java 17 has no {@code fchmod} or {@code fchown} on a channel,
 * and this is how the plugin gets them.
 */
final class ProcFd {
    static final Path SELF_FD = Path.of("/proc/self/fd");

    private ProcFd() {}

    /**
     * The descriptor of a file this process created under a name nobody else knows (a random temporary name): the one
     * whose link names it. Another process cannot add a descriptor to ours, so the match is the channel we opened; if
     * the file was renamed or removed meanwhile, its link text changed and nothing matches.
     *
     * @param dir  the real path of the directory the file was created in
     * @param name its unique name
     * @return {@code /proc/self/fd/N}
     * @throws IOException if no descriptor names it
     */
    static Path byUniqueName(Path dir, String name) throws IOException {
        String expected = dir.resolve(name).toString();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(SELF_FD)) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals(expected)) return fd;
                } catch (NoSuchFileException e) {
                    // closed while we looked (the directory stream's own descriptor, another thread's file)
                }
            }
        }
        throw new IOException("the temporary file " + expected + " was renamed or removed while it was being written");
    }

    /**
     * A descriptor of this process that holds the object with this identity (device and inode, {@link
     * BasicFileAttributes#fileKey()}), for an object whose name is not unique (a directory we hold open).
     *
     * @param key the identity, as an open handle's own {@code fstat} gives it
     * @return {@code /proc/self/fd/N}, if one holds it
     */
    static Optional<Path> byIdentity(Object key) throws IOException {
        Objects.requireNonNull(key, "key");
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(SELF_FD)) {
            for (Path fd : fds) {
                try {
                    if (key.equals(Files.readAttributes(fd, BasicFileAttributes.class).fileKey())) return Optional.of(fd);
                } catch (IOException e) {
                    // closed meanwhile, or a socket or pipe that has no attributes to compare
                }
            }
        }
        return Optional.empty();
    }
}
