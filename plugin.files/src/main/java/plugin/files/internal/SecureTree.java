package plugin.files.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import agent.api.CommandException;

/**
 * Opens the directory a path lives in without ever letting the kernel follow a symlink: from {@code /}, each
 * directory is opened relative to the one before it ({@code openat} with {@code O_NOFOLLOW}, which the JDK's {@link
 * SecureDirectoryStream} is on Linux). A symlink on the way is read and resolved here, and the walk starts again from
 * {@code /} along the resolved path, so the directory finally held open is known by its real path; what is then done
 * inside it (create, rename, unlink, stat) goes through that open directory, so no one can swap a component for a
 * link between the policy check (on the real path) and the use.
 */
final class SecureTree {
    /** As the kernel's MAXSYMLINKS. */
    static final int MAX_LINKS = 40;
    private static final Path ROOT = Path.of("/");
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

    private SecureTree() {}

    /** Makes a missing directory inside an open one, after checking it may. */
    @FunctionalInterface
    interface DirMaker {
        /**
         * @param parent     the open directory
         * @param parentPath its real path
         * @param name       the directory to create in it
         * @return true if it was made; false to stop the walk there (a dry run), which then locates the missing
         *         directory, with what lies below it in {@link Located#below}
         */
        boolean make(SecureDirectoryStream<Path> parent, Path parentPath, String name) throws IOException, CommandException;
    }

    /** A file's directory, held open, and the file's name in it. Closing it closes the directory. */
    static final class Located implements Closeable {
        final SecureDirectoryStream<Path> dir;
        /** The directory's real path when it was opened: no symlink in it. */
        final Path dirPath;
        final String name;
        /** The entry's own attributes (a link is not followed), or null if there is none. */
        final BasicFileAttributes attrs;
        /** When a {@link DirMaker} stopped the walk at the missing directory {@link #name}: the names below it. */
        final List<String> below;

        Located(SecureDirectoryStream<Path> dir, Path dirPath, String name, BasicFileAttributes attrs, List<String> below) {
            this.dir = dir;
            this.dirPath = dirPath;
            this.name = name;
            this.attrs = attrs;
            this.below = List.copyOf(below);
        }

        /** @return the entry's real path (for a stopped walk: where the file would be once the directories exist) */
        Path realPath() {
            Path p = dirPath.resolve(name);
            for (String b : below) p = p.resolve(b);
            return p;
        }

        boolean exists() { return attrs != null; }

        /** @return the entry's attributes now (a link is not followed), or null if it is gone */
        BasicFileAttributes lstat() throws IOException { return SecureTree.lstat(dir, name); }

        /** Flushes the directory itself to disk, so that a rename or unlink in it survives a crash. */
        void syncDir() throws IOException { SecureTree.syncDir(dir); }

        @Override
        public void close() throws IOException { dir.close(); }
    }

    /**
     * @param path        an absolute path without {@code .} or {@code ..} segments
     * @param followFinal whether a symlink in the last place is followed (get, put) or is itself the entry (delete)
     * @param maker       makes missing directories; null to fail on one
     * @return the last component's directory, open, and its name
     * @throws NoSuchFileException    if a directory on the way is missing (and no maker)
     * @throws NotDirectoryException  if something on the way is not a directory
     * @throws FileSystemException    for a loop of links, or a component swapped while it was opened
     */
    static Located locate(Path path, boolean followFinal, DirMaker maker) throws IOException, CommandException {
        List<String> names = new ArrayList<>();
        for (Path p : path) names.add(p.toString());
        int links = 0;
        // every restart either consumes a '..' or follows a link (bounded): the walk ends
        for (int restarts = 0; restarts < 64 * MAX_LINKS; restarts++) {
            Step s = walk(names, followFinal, maker);
            if (s.located != null) return s.located;
            if (s.viaLink && ++links > MAX_LINKS) {
                throw new FileSystemException(path.toString(), null, "too many levels of symbolic links");
            }
            names = s.next;
        }
        throw new FileSystemException(path.toString(), null, "too many levels of symbolic links");
    }

    private static final class Step {
        final Located located;
        final List<String> next;
        final boolean viaLink;

        Step(Located located, List<String> next, boolean viaLink) {
            this.located = located;
            this.next = next;
            this.viaLink = viaLink;
        }
    }

    private static Step walk(List<String> names, boolean followFinal, DirMaker maker) throws IOException, CommandException {
        SecureDirectoryStream<Path> dir = openRoot();
        Path dirPath = ROOT;
        try {
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                List<String> rest = names.subList(i + 1, names.size());
                if (name.equals(".")) continue;
                if (name.equals("..")) { // only from a link's text; dirPath has no links, so its parent is the real one
                    List<String> next = components(dirPath.getParent() == null ? ROOT : dirPath.getParent());
                    next.addAll(rest);
                    return new Step(null, next, false);
                }
                boolean last = rest.isEmpty();
                BasicFileAttributes a = lstat(dir, name);
                if (a != null && a.isSymbolicLink() && (!last || followFinal)) {
                    Path target = Files.readSymbolicLink(dirPath.resolve(name));
                    List<String> next = target.isAbsolute() ? new ArrayList<>() : components(dirPath);
                    for (Path t : target) next.add(t.toString());
                    next.addAll(rest);
                    return new Step(null, next, true);
                }
                if (last) {
                    Located l = new Located(dir, dirPath, name, a, List.of());
                    dir = null; // handed over
                    return new Step(l, null, false);
                }
                if (a == null) {
                    if (maker == null) throw new NoSuchFileException(dirPath.resolve(name).toString(), null, "directory does not exist");
                    if (!maker.make(dir, dirPath, name)) {
                        Located l = new Located(dir, dirPath, name, null, rest);
                        dir = null;
                        return new Step(l, null, false);
                    }
                    a = lstat(dir, name);
                    if (a == null) throw new NoSuchFileException(dirPath.resolve(name).toString(), null, "directory vanished after it was made");
                }
                if (!a.isDirectory()) throw new NotDirectoryException(dirPath.resolve(name).toString());
                // O_NOFOLLOW: if a link was swapped in since the lstat, this fails instead of following it
                SecureDirectoryStream<Path> sub = dir.newDirectoryStream(Path.of(name), NOFOLLOW);
                dir.close();
                dir = sub;
                dirPath = dirPath.resolve(name);
            }
            throw new NoSuchFileException("/", null, "not a file");
        } finally {
            if (dir != null) dir.close();
        }
    }

    private static List<String> components(Path p) {
        List<String> out = new ArrayList<>();
        for (Path c : p) out.add(c.toString());
        return out;
    }

    private static SecureDirectoryStream<Path> openRoot() throws IOException {
        DirectoryStream<Path> root = Files.newDirectoryStream(ROOT);
        if (root instanceof SecureDirectoryStream) return (SecureDirectoryStream<Path>) root;
        root.close();
        throw new IOException("this JVM offers no SecureDirectoryStream (openat) on " + System.getProperty("os.name")
            + "; the file actions refuse to work without it");
    }

    /** @return the entry's own attributes (no link followed), or null if there is none */
    static BasicFileAttributes lstat(SecureDirectoryStream<Path> dir, String name) throws IOException {
        try {
            return dir.getFileAttributeView(Path.of(name), BasicFileAttributeView.class, NOFOLLOW).readAttributes();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * @param dir an open directory
     * @return {@code /proc/self/fd/N} of a descriptor holding the same directory (found by its identity)
     */
    static Path procPath(SecureDirectoryStream<Path> dir) throws IOException {
        Object key = dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes().fileKey();
        return ProcFd.byIdentity(key).orElseThrow(() -> new IOException("no descriptor of this process holds the open directory"));
    }

    static void syncDir(SecureDirectoryStream<Path> dir) throws IOException {
        try (FileChannel ch = FileChannel.open(procPath(dir), StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Makes a directory inside an open one: {@code mkdir} through {@code /proc/self/fd/N/name} (there is no
     * {@code mkdirat} in the JDK), then its mode set through its own descriptor, so the umask does not decide it.
     */
    static void mkdir(SecureDirectoryStream<Path> parent, String name, String mode) throws IOException {
        Files.createDirectory(procPath(parent).resolve(name));
        try (SecureDirectoryStream<Path> made = parent.newDirectoryStream(Path.of(name), NOFOLLOW)) {
            made.getFileAttributeView(PosixFileAttributeView.class).setPermissions(PosixFilePermissions.fromString(mode));
        }
    }
}
