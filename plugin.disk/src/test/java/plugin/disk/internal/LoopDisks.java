package plugin.disk.internal;

import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Loop devices over sparse image files in a test's temp dir, and the clean-up that must run even when the
 * test fails: unmount everything mounted under the temp dir, detach every loop device over its images.
 */
final class LoopDisks implements AutoCloseable {
    /** The programs the tests run themselves or that the actions under test need. */
    private static final List<String> NEEDED = List.of("losetup", "lsblk", "blkid", "wipefs", "partx", "sgdisk",
        "growpart", "mkfs.ext4", "resize2fs", "e2fsck", "dumpe2fs", "mkfs.xfs", "xfs_growfs", "mount", "umount", "findmnt");

    private final Path dir;
    private final List<Path> images = new ArrayList<>();

    LoopDisks(Path dir) { this.dir = dir; }

    /** Fails the test, saying what is missing, unless it can run for real here: root, loop devices, the tools. */
    static void checkPreconditions() {
        List<String> missing = new ArrayList<>();
        try {
            String uid = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .findFirst().orElse("Uid: ?").split("\\s+")[1];
            if (!uid.equals("0")) missing.add("root (these tests run as uid " + uid + ")");
        } catch (IOException e) {
            missing.add("/proc/self/status (" + e.getMessage() + ")");
        }
        if (!Files.exists(Path.of("/dev/loop-control"))) missing.add("loop device support (/dev/loop-control is missing)");
        Tools tools = Tools.fromEnvironment();
        for (String t : NEEDED) {
            if (!tools.has(t)) missing.add("the program " + t + " (" + Tools.installHint(t) + ")");
        }
        if (!missing.isEmpty()) {
            fail("these tests run for real on loop devices and need: " + String.join("; ", missing));
        }
    }

    /** @return a sparse image file of that size */
    Path image(String name, long bytes) throws IOException {
        Path img = dir.resolve(name + ".img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(bytes);
        }
        images.add(img);
        return img;
    }

    /** @return the loop device (/dev/loopN) now attached to the image, with partition scanning if asked */
    String attach(Path img, boolean partitionScan) {
        String dev = partitionScan ? Sh.ok("losetup", "-f", "-P", "--show", img.toString()).strip()
            : Sh.ok("losetup", "-f", "--show", img.toString()).strip();
        if (!dev.startsWith("/dev/loop")) fail("losetup gave no loop device for " + img + ": " + dev);
        return dev;
    }

    /** A new image of that size on a loop device with partition scanning. */
    String newDisk(String name, long bytes) throws IOException {
        return attach(image(name, bytes), true);
    }

    /** Grows the image behind a loop device, as a hypervisor grows a virtual disk, and refreshes the device. */
    void grow(String loop, long bytes) throws IOException {
        Path img = backingFile(loop);
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(bytes);
        }
        Sh.ok("losetup", "-c", loop);
    }

    private Path backingFile(String loop) {
        String name = Path.of(loop).getFileName().toString();
        try {
            return Path.of(Files.readString(Path.of("/sys/block", name, "loop", "backing_file")).strip());
        } catch (IOException e) {
            throw new AssertionError("cannot find the image behind " + loop + ": " + e.getMessage(), e);
        }
    }

    /** Unmounts what is mounted under the temp dir, then detaches the loop devices over its images. */
    @Override
    public void close() throws IOException {
        List<String> problems = new ArrayList<>();
        List<String> mounted = new ArrayList<>();
        String prefix = dir.toRealPath().toString() + File.separator;
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String mp = MountTable.unescape(line.split(" ")[4]);
            if (mp.startsWith(prefix)) mounted.add(mp);
        }
        Collections.reverse(mounted); // the last mounted first
        for (String mp : mounted) {
            Sh r = Sh.run("umount", mp);
            if (r.code != 0) {
                Sh lazy = Sh.run("umount", "-l", mp);
                if (lazy.code != 0) problems.add("umount " + mp + ": " + r.out.strip());
            }
        }
        for (Path img : images) {
            for (String line : Sh.run("losetup", "-j", img.toString()).out.split("\n")) {
                int colon = line.indexOf(':');
                if (colon <= 0) continue;
                String loop = line.substring(0, colon);
                Sh r = Sh.run("losetup", "-d", loop);
                if (r.code != 0) problems.add("losetup -d " + loop + ": " + r.out.strip());
            }
        }
        if (!problems.isEmpty()) throw new IOException("clean-up failed: " + String.join("; ", problems));
    }

    /** A process run by the test itself. */
    static final class Sh {
        private static final Tools TOOLS = Tools.fromEnvironment();
        final int code;
        final String out;

        private Sh(int code, String out) {
            this.code = code;
            this.out = out;
        }

        static Sh run(String... argv) {
            try {
                List<String> cmd = new ArrayList<>(List.of(argv));
                cmd.set(0, TOOLS.find(argv[0]).map(Path::toString).orElse(argv[0]));
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                return new Sh(p.waitFor(), out);
            } catch (IOException | InterruptedException e) {
                throw new AssertionError("cannot run " + String.join(" ", argv) + ": " + e.getMessage(), e);
            }
        }

        /** @return the output of a program that must succeed */
        static String ok(String... argv) {
            Sh r = run(argv);
            if (r.code != 0) fail(String.join(" ", argv) + " failed with exit code " + r.code + ": " + r.out);
            return r.out;
        }
    }
}
