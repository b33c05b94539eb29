package plugin.dataset.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import agent.api.InvalidParamException;

/**
 * Where a data set lives. For a target {@code /srv/data/geoip}:
 *
 * <pre>
 *   /srv/data/geoip                  → .geoip.outpost/2024-05 (a relative symbolic link: the target)
 *   /srv/data/.geoip.outpost/        the store, beside the target so that every rename stays on one filesystem
 *       2024-05/                     an installed version (the previous one is kept until the switch has happened)
 *       .download-SHA256.part        a download in progress, kept across restarts to be resumed
 *       .download-SHA256.properties  its validators (ETag, Last-Modified, length) for If-Range
 *       .staging-UUID/               an extraction in progress
 * </pre>
 *
 * A switch makes a new link beside the target and renames it over the target: one rename, atomic.
 */
final class Layout {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
    static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final Set<String> OFF_LIMITS = Set.of("/proc", "/sys", "/dev");
    static final String STORE_SUFFIX = ".outpost";

    final Path target;
    final Path store;

    Layout(Path target) {
        this.target = target;
        this.store = target.resolveSibling("." + target.getFileName() + STORE_SUFFIX);
    }

    Path version(String version) { return store.resolve(version); }

    Path part(String sha256) { return store.resolve(".download-" + sha256 + ".part"); }

    Path partMeta(String sha256) { return store.resolve(".download-" + sha256 + ".properties"); }

    Path newStaging() { return store.resolve(".staging-" + UUID.randomUUID()); }

    /** @return the link text for a path in the store: relative, so that it holds wherever the tree is mounted */
    String linkTo(Path inStore) { return target.getParent().relativize(inStore).toString(); }

    /** @return where the target link points, resolved against its directory, or null if it is not a link */
    Path linked() {
        try {
            return target.getParent().resolve(Files.readSymbolicLink(target)).normalize();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    /** @return whether the target is a link this layout made (into its own store) */
    boolean managed() {
        Path l = linked();
        return l != null && l.startsWith(store) && !l.equals(store);
    }

    /** Points the target at {@code inStore}: a new link renamed over the old target, then the directory synced. */
    void switchTo(Path inStore) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".outpost-switch-" + UUID.randomUUID());
        try {
            Files.createSymbolicLink(tmp, Path.of(linkTo(inStore)));
            Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(target.getParent());
    }

    /** @param param the param's name @param value an absolute path @return it as a path, checked */
    static Path target(String param, String value) throws InvalidParamException {
        if (!value.startsWith("/")) throw new InvalidParamException(param, Text.quote(value) + " must be an absolute path");
        for (char c : value.toCharArray()) {
            if (c < 0x20 || c == 0x7f) throw new InvalidParamException(param, Text.quote(value) + " has a control character");
        }
        Path p = Path.of(value);
        if (!p.normalize().toString().equals(value)) {
            throw new InvalidParamException(param, Text.quote(value) + " must be a plain path: no '.' or '..' segments, no '//', no trailing '/'");
        }
        if (p.getNameCount() < 2) {
            throw new InvalidParamException(param, Text.quote(value) + " is / or a top-level directory; a data set goes at least one level"
                + " deeper (e.g. /srv/data/NAME), because its target is replaced on every install");
        }
        for (String off : OFF_LIMITS) {
            if (p.startsWith(off)) throw new InvalidParamException(param, Text.quote(value) + " is under " + off + ", a kernel filesystem");
        }
        if (p.getFileName().toString().startsWith(".") && p.getFileName().toString().endsWith(STORE_SUFFIX)) {
            throw new InvalidParamException(param, Text.quote(value) + " looks like a data set store; name the target itself");
        }
        return p;
    }

    /** Deletes a tree without following links (a link is removed, never what it points to). */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) return;
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.delete(root);
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) throw exc;
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** @return the program's path in the usual directories (a service's PATH may lack the sbin ones), or null */
    static Path program(String name) {
        for (String d : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin")) {
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        return null;
    }
}
