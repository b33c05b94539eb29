package packager;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;

/**
 * A reproducible .tar.gz of a folder: entries sorted by name, owned by root (0:0), one fixed time, modes reduced to
 * 0755 (folders and executables), 0644 (other files) or a link; the gzip header carries no time or name. The same
 * tree gives the same bytes whoever builds it, wherever and whenever.
 */
final class TarGz {
    private TarGz() {}

    /**
     * @param root   the folder
     * @param prefix the archive's top folder, e.g. "outpost-acme-1.0.0"
     * @param out    the file to write
     * @param epoch  the time every entry carries, in seconds since 1970 (SOURCE_DATE_EPOCH)
     * @throws IOException when the tree cannot be read or the file written
     */
    static void write(Path root, String prefix, Path out, long epoch) throws IOException {
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(paths::add);
        }
        // by the name in the archive, byte by byte (Path order would depend on the file system's)
        paths.sort((a, b) -> name(root, prefix, a).compareTo(name(root, prefix, b)));
        GzipParameters gz = new GzipParameters();
        gz.setCompressionLevel(9);
        gz.setModificationTime(0);
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out));
             GzipCompressorOutputStream gzip = new GzipCompressorOutputStream(os, gz);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(gzip, "UTF-8")) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Path p : paths) {
                String name = name(root, prefix, p);
                TarArchiveEntry e;
                boolean regular = false;
                if (Files.isSymbolicLink(p)) {
                    e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
                    e.setLinkName(Files.readSymbolicLink(p).toString());
                    e.setMode(0120777);
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    e = new TarArchiveEntry(name + "/", TarConstants.LF_DIR);
                    e.setMode(040755);
                } else {
                    e = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
                    e.setMode(executable(p) ? 0100755 : 0100644);
                    e.setSize(Files.size(p));
                    regular = true;
                }
                e.setIds(0, 0);
                e.setUserName("root");
                e.setGroupName("root");
                e.setModTime(FileTime.from(java.time.Instant.ofEpochSecond(epoch)));
                tar.putArchiveEntry(e);
                if (regular) Files.copy(p, tar);
                tar.closeArchiveEntry();
            }
            tar.finish();
        }
    }

    private static String name(Path root, String prefix, Path p) {
        String rel = root.relativize(p).toString();
        return rel.isEmpty() ? prefix : prefix + "/" + rel;
    }

    static boolean executable(Path p) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        return perms.contains(PosixFilePermission.OWNER_EXECUTE);
    }
}
