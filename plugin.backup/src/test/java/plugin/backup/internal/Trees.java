package plugin.backup.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Test trees: one with every kind of metadata a backup must keep, and an entry-by-entry description to compare. */
final class Trees {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private Trees() {}

    /**
     * Owners (root, and ids with no name), modes (setuid, private, sticky), mtimes with nanoseconds, a relative, an
     * absolute and a dangling symbolic link, a hard link, an empty directory, a fifo, a user xattr and a POSIX ACL
     * (default and access), names with a space, a newline and non-ASCII letters.
     */
    static Path rich(Path root) throws Exception {
        Files.createDirectories(root.resolve("etc/app"));
        Files.createDirectories(root.resolve("empty"));
        Files.createDirectories(root.resolve("shared"));
        Path conf = Files.writeString(root.resolve("etc/app/app.conf"), "key = value\n");
        Path secret = Files.writeString(root.resolve("etc/app/secret"), "s3cr3t\n");
        Path tool = Files.write(root.resolve("etc/app/tool"), new byte[] {0, 1, 2, (byte) 0xff, 10});
        Path odd = Files.writeString(root.resolve("etc/with space and\nnewline é"), "odd\n");
        Path big = root.resolve("etc/app/big.bin");
        byte[] chunk = new byte[1 << 16];
        new java.util.Random(42).nextBytes(chunk);
        try (var out = Files.newOutputStream(big)) {
            for (int i = 0; i < 40; i++) out.write(chunk);
        }
        Files.createLink(root.resolve("etc/app/app.conf.hardlink"), conf);
        Files.createSymbolicLink(root.resolve("etc/app/current"), Path.of("app.conf"));
        Files.createSymbolicLink(root.resolve("etc/localtime"), Path.of("/usr/share/zoneinfo/Etc/UTC"));
        Files.createSymbolicLink(root.resolve("etc/dangling"), Path.of("../nowhere"));
        run("mkfifo", root.resolve("etc/app/pipe").toString());

        Files.setAttribute(secret, "unix:mode", 0600);
        Files.setAttribute(tool, "unix:mode", 04755);
        Files.setAttribute(root.resolve("shared"), "unix:mode", 01777);
        Files.setAttribute(secret, "unix:uid", 1234);
        Files.setAttribute(secret, "unix:gid", 5678);
        Files.setAttribute(root.resolve("etc/app/current"), "unix:uid", 4321, NOFOLLOW);
        Files.setAttribute(root.resolve("empty"), "unix:gid", 2468);
        Files.getFileAttributeView(conf, UserDefinedFileAttributeView.class).write("user.origin",
            ByteBuffer.wrap("outpost-test".getBytes()));
        run("setfacl", "-m", "u:1234:r", conf.toString());
        run("setfacl", "-d", "-m", "g:5678:rx", root.resolve("shared").toString());

        // touch -h: symbolic links get their own times, and a fifo is not opened (which would block)
        Instant when = Instant.parse("2021-03-04T05:06:07.123456789Z");
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) { // a directory's time is set last
                run("touch", "-h", "--date=@" + when.getEpochSecond() + "." + String.format("%09d", when.getNano()), p.toString());
                when = when.plusSeconds(3601);
            }
        }
        return root;
    }

    /** @return every entry under the root, by relative path: what a restore must reproduce exactly */
    static Map<String, String> describe(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        Map<Object, String> firstOfInode = new TreeMap<>(java.util.Comparator.comparing(Object::toString));
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted().toList()) {
                String rel = root.relativize(p).toString();
                if (rel.isEmpty()) rel = ".";
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime,ino,nlink", NOFOLLOW);
                int mode = (Integer) a.get("mode");
                StringBuilder d = new StringBuilder();
                d.append(String.format("mode=%06o uid=%s gid=%s mtime=%s", mode, a.get("uid"), a.get("gid"),
                    ((FileTime) a.get("lastModifiedTime")).toInstant()));
                if (Files.isSymbolicLink(p)) {
                    d.append(" -> ").append(Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p, NOFOLLOW)) {
                    d.append(" size=").append(a.get("size")).append(" sha256=").append(sha256(p));
                    if ((Integer) a.get("nlink") > 1) {
                        String first = firstOfInode.putIfAbsent(a.get("ino"), rel);
                        d.append(" hardlink-group=").append(first == null ? rel : first);
                    }
                    UserDefinedFileAttributeView x = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
                    for (String n : new java.util.TreeSet<>(x.list())) {
                        ByteBuffer b = ByteBuffer.allocate(x.size(n));
                        x.read(n, b);
                        d.append(" xattr ").append(n).append('=').append(new String(b.array()));
                    }
                }
                if (!Files.isSymbolicLink(p)) d.append(" acl=").append(acl(p));
                out.put(rel, d.toString());
            }
        }
        return out;
    }

    /** Fails unless both trees hold the same entries with the same metadata and content, naming what differs. */
    static void assertSame(Path expected, Path actual) throws Exception {
        Map<String, String> e = describe(expected);
        Map<String, String> a = describe(actual);
        e.remove(".");
        a.remove("."); // the top directory is the target's, not the archive's
        assertThat(a.keySet()).as("entries of " + actual).containsExactlyElementsOf(e.keySet());
        for (String k : e.keySet()) assertThat(a.get(k)).as(k).isEqualTo(e.get(k));
    }

    private static String acl(Path p) throws Exception {
        Process pr = new ProcessBuilder("getfacl", "--omit-header", "--absolute-names", "--physical", p.toString())
            .redirectErrorStream(true).start();
        String out = new String(pr.getInputStream().readAllBytes()).strip().replace('\n', ',');
        if (pr.waitFor() != 0) fail("getfacl failed on " + p + ": " + out);
        return out;
    }

    private static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    /** @return the system's python3 (a version manager's shim costs seconds per start) */
    static String python() { return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3"; }

    /** Runs a command as test setup, failing with its output (and naming a missing tool) unless it exits 0. */
    static String run(String... argv) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        } catch (IOException e) {
            fail(argv[0] + " is needed by this test and cannot be run (" + e.getMessage() + "): install it (setfacl and"
                + " getfacl: package acl; python3; GNU tar)");
            return null;
        }
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) fail(String.join(" ", argv) + " failed (exit " + p.exitValue() + "): " + out);
        return out;
    }
}
