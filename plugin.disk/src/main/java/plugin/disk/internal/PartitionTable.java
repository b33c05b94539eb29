package plugin.disk.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.ProcessResult;

/**
 * Writes partition tables and makes the kernel see them. Without udev nobody re-reads a table for us, and
 * a loop device attached without {@code losetup -P} refuses BLKRRPART, so the kernel is told with
 * {@code partx -u} (BLKPG, which works on both) and sysfs is watched until the partition shows up.
 */
final class PartitionTable {
    private static final Path SYS_BLOCK = Path.of("/sys/class/block");
    private static final long WAIT_MILLIS = 10_000;

    private PartitionTable() {}

    /**
     * Writes a new GPT label with one Linux partition over the whole disk, aligned at 1 MiB. Uses sgdisk,
     * else parted.
     */
    static void createSingle(CommandContext ctx, Tools tools, BlockDevice disk, String name) throws Exception {
        if (tools.has("sgdisk")) {
            // 1:0:0 = partition 1 from the first aligned sector to the last usable one; 8300 = Linux filesystem
            tools.changeOrFail(ctx, "sgdisk", "-o", "-n", "1:0:0", "-t", "1:8300", "-c", "1:" + name, disk.path);
        } else if (tools.has("parted")) {
            tools.changeOrFail(ctx, "parted", "-s", "-a", "optimal", disk.path, "mklabel", "gpt", "mkpart", name,
                "1MiB", "100%");
        } else {
            throw new CommandException("neither sgdisk nor parted is installed: " + Tools.installHint("sgdisk")
                + ", or package parted");
        }
    }

    /**
     * Makes the kernel's view of the disk's partitions match its table.
     *
     * @throws CommandException if neither partx nor blockdev could do it
     */
    static void reread(CommandContext ctx, Tools tools, BlockDevice disk) throws Exception {
        String why;
        if (tools.has("partx")) {
            ProcessResult r = tools.change(ctx, "partx", "-u", disk.path);
            if (r.exitCode() == 0) return;
            why = "partx -u: " + Text.tail(r.output(), 2);
        } else {
            why = "partx is not installed";
        }
        if (tools.has("blockdev")) {
            ProcessResult r = tools.change(ctx, "blockdev", "--rereadpt", disk.path);
            if (r.exitCode() == 0) return;
            why += "; blockdev --rereadpt: " + Text.tail(r.output(), 2);
        }
        throw new CommandException("the kernel could not re-read the partition table of " + disk.path + " (" + why
            + ")" + (disk.type.equals("loop") ? "; a loop device needs partition support: attach it with 'losetup -P'" : ""));
    }

    /**
     * Waits until partition {@code n} of the disk is known to the kernel and has its device node.
     *
     * @return the partition's /dev path
     * @throws CommandException if it does not appear within 10 s
     */
    static String awaitPartition(CommandContext ctx, BlockDevice disk, int n) throws Exception {
        String diskName = Path.of(disk.kname).getFileName().toString();
        long deadline = System.currentTimeMillis() + WAIT_MILLIS;
        String lastProblem;
        while (true) {
            ctx.checkCancelled();
            String part = sysfsPartition(diskName, n);
            if (part == null) {
                lastProblem = "the kernel lists no partition " + n + " of " + disk.path + " in " + SYS_BLOCK.resolve(diskName);
            } else {
                Path node = Path.of("/dev", part);
                String expected = readTrimmed(SYS_BLOCK.resolve(part).resolve("dev"));
                String actual = nodeMajMin(node);
                if (expected != null && expected.equals(actual)) return node.toString();
                lastProblem = actual == null ? node + " does not exist (is /dev a devtmpfs?)"
                    : node + " is device " + actual + " but the kernel's " + part + " is " + expected;
            }
            if (System.currentTimeMillis() > deadline) throw new CommandException(lastProblem + " after waiting 10 s");
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandCancelledException("interrupted");
            }
        }
    }

    /** @return the kernel name of partition n of a disk, found in sysfs, or null */
    static String sysfsPartition(String diskName, int n) throws IOException {
        Path dir = SYS_BLOCK.resolve(diskName);
        if (!Files.isDirectory(dir)) return null;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, diskName + "*")) {
            for (Path e : entries) {
                String num = readTrimmed(e.resolve("partition"));
                if (num != null && num.equals(Integer.toString(n))) return e.getFileName().toString();
            }
        }
        return null;
    }

    /** @param kname a kernel name or /dev path @return its size as the kernel sees it now, in bytes, or -1 */
    static long sizeBytes(String kname) {
        String sectors = readTrimmed(SYS_BLOCK.resolve(Path.of(kname).getFileName().toString()).resolve("size"));
        try {
            return sectors == null ? -1 : Long.parseLong(sectors) * 512; // sysfs counts 512-byte sectors whatever the disk's
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String nodeMajMin(Path node) {
        try {
            if (!Files.exists(node)) return null;
            int mode = (Integer) Files.getAttribute(node, "unix:mode");
            if ((mode & 0170000) != 0060000) return "a non-block file";
            return BlockDevices.majMin((Long) Files.getAttribute(node, "unix:rdev"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String readTrimmed(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file).trim() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
