package packager;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarGzTest {
    @TempDir
    Path dir;

    /** The same files, made in the given order, with their own times and modes as a build machine leaves them. */
    private Path tree(String name, boolean reversed, String fileMode, long mtime) throws IOException {
        Path root = dir.resolve(name);
        List<String> files = new ArrayList<>(List.of("lib/outpost.jar", "bin/outpost", "README.md", "jre/legal/java.base/LICENSE"));
        if (reversed) java.util.Collections.reverse(files);
        for (String f : files) {
            Path p = root.resolve(f);
            Files.createDirectories(p.getParent());
            Files.writeString(p, "content of " + f);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(f.startsWith("bin/") ? "rwxrwxr-x" : fileMode));
            Files.setLastModifiedTime(p, FileTime.from(Instant.ofEpochSecond(mtime)));
        }
        Files.createDirectories(root.resolve("jre/legal/java.sql"));
        Files.createSymbolicLink(root.resolve("jre/legal/java.sql/LICENSE"), Path.of("../java.base/LICENSE"));
        return root;
    }

    @Test
    void theSameTreeGivesTheSameBytesWhateverItsFileTimesModesAndCreationOrder() throws Exception {
        Path a = dir.resolve("a.tar.gz");
        Path b = dir.resolve("b.tar.gz");
        TarGz.write(tree("one", false, "rw-r--r--", 1_000_000_000L), "outpost-acme-1.0.0", a, Packager.DEFAULT_EPOCH);
        TarGz.write(tree("two", true, "r--r-----", 1_700_000_000L), "outpost-acme-1.0.0", b, Packager.DEFAULT_EPOCH);

        assertThat(a).hasSameBinaryContentAs(b);
    }

    @Test
    void entriesAreSortedOwnedByRootAtTheFixedTimeWithTheirModesReduced() throws Exception {
        Path a = dir.resolve("a.tar.gz");
        TarGz.write(tree("one", true, "r--r-----", 1_000_000_000L), "top", a, 1234567890L);

        List<String> listing = new ArrayList<>();
        try (InputStream in = Files.newInputStream(a); TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null;) {
                assertThat(e.getLongUserId()).isZero();
                assertThat(e.getLongGroupId()).isZero();
                assertThat(e.getUserName()).isEqualTo("root");
                assertThat(e.getModTime().toInstant()).isEqualTo(Instant.ofEpochSecond(1234567890L));
                listing.add(Integer.toOctalString(e.getMode()) + " " + e.getName() + (e.isSymbolicLink() ? " -> " + e.getLinkName() : ""));
            }
        }
        assertThat(listing).containsExactly(
            "40755 top/",
            "100644 top/README.md",
            "40755 top/bin/",
            "100755 top/bin/outpost",
            "40755 top/jre/",
            "40755 top/jre/legal/",
            "40755 top/jre/legal/java.base/",
            "100644 top/jre/legal/java.base/LICENSE",
            "40755 top/jre/legal/java.sql/",
            "120777 top/jre/legal/java.sql/LICENSE -> ../java.base/LICENSE",
            "40755 top/lib/",
            "100644 top/lib/outpost.jar");
        // no time and no name in the gzip header either
        byte[] header = Files.readAllBytes(a);
        assertThat(new byte[] {header[4], header[5], header[6], header[7]}).containsOnly(0);
        assertThat(header[3] & 0x08).as("FNAME flag").isZero();
    }
}
