package plugin.disk.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.SettingsType;
import agent.api.InvalidParamException;
import agent.api.Params;
import agent.api.ProcessResult;

/**
 * {@code disk.extend}: after the virtual disk grew, grows the partition (growpart) and then the filesystem
 * on it (resize2fs for ext2/3/4, xfs_growfs for xfs), online when it is mounted. The filesystem step runs
 * even when the partition had nothing to gain, so a run that stopped half way is finished by the next one.
 */
@Component
@Actions("disk.extend")
@ConcurrencyKey("disk")
@DryRun
@SettingsType(DiskSettings.class)
public final class DiskExtender implements CommandHandler {
    private static final Set<String> EXT = Set.of("ext2", "ext3", "ext4");

    Tools tools = Tools.fromEnvironment();
    /** Whether the process has a capability; a field so that a test can take one away. */
    IntPredicate capabilities = Capabilities::effective;

    /** What to grow: a partition of a disk, or a filesystem on a whole disk ({@code part} null). */
    private record Target(BlockDevice disk, BlockDevice part) {
        BlockDevice fs() { return part != null ? part : disk; }
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Params p = ctx.params();
        Optional<String> device = p.optionalString("device");
        Optional<String> mountPoint = p.optionalString("mountpoint");
        Integer partNo = p.has("partition") ? (int) p.integer("partition", 1, 1024, 1) : null;
        if (device.isPresent() && mountPoint.isPresent()) {
            throw new InvalidParamException("mountpoint", "cannot be combined with 'device': give one of them");
        }
        if (device.isEmpty() && mountPoint.isEmpty()) {
            throw new InvalidParamException("device", "is required (or give 'mountpoint' instead)");
        }
        if (mountPoint.isPresent() && partNo != null) {
            throw new InvalidParamException("partition", "goes with 'device'; with 'mountpoint' it is the partition mounted there");
        }
        if (device.isPresent()) DeviceNames.device("device", device.get());
        else DeviceNames.mountPoint("mountpoint", mountPoint.get());

        tools.requireAll("lsblk", "blkid");
        BlockDevices devices = BlockDevices.scan(ctx, tools);
        Target t = device.isPresent() ? byDevice(devices, device.get(), partNo) : byMountPoint(devices, mountPoint.get());
        BlockDevice fsDev = t.fs();
        String fstype = fsDev.fstype;
        if (fstype == null || !(EXT.contains(fstype) || fstype.equals("xfs"))) {
            throw new CommandException(fsDev.path + (fstype == null ? " holds no filesystem that blkid recognises"
                : " holds a " + fstype + " filesystem") + "; disk.extend grows ext2, ext3, ext4 and xfs. Nothing was changed.");
        }
        if (t.disk.readOnly) throw new CommandException(t.disk.path + " is read-only. Nothing was changed.");
        String mounted = fsDev.mountPoint();
        checkTools(t, fstype, mounted);
        checkCapabilities(fsDev, fstype, mounted);

        ctx.progress(10, "checking the size of " + t.disk.path);
        rescan(ctx, t.disk); // makes the kernel read the disk's size: nothing on the disk changes, so a dry run does it too
        if (ctx.dryRun()) return plan(ctx, t, fstype, mounted);
        boolean partitionGrown = t.part != null && growPartition(ctx, t);
        ctx.progress(60, "growing the " + fstype + " filesystem on " + fsDev.path);
        long[] sizes = EXT.contains(fstype) ? growExt(ctx, fsDev, mounted, partitionGrown)
            : growXfs(ctx, fsDev, mounted, partitionGrown);
        boolean changed = partitionGrown || sizes[1] != sizes[0];
        ctx.output().println(changed
            ? "grew " + fsDev.path + " (" + fstype + ") from " + sizes[0] + " to " + sizes[1] + " bytes"
            : "nothing to grow: " + fsDev.path + " (" + fstype + ") already fills " + (t.part != null ? "the disk" : t.disk.path));

        Map<String, Object> data = new LinkedHashMap<>();
        data.put("device", t.disk.path);
        data.put("partition", t.part == null ? null : t.part.partitionNumber);
        data.put("partitionDevice", t.part == null ? null : t.part.path);
        data.put("fstype", fstype);
        data.put("mountpoint", mounted);
        data.put("oldSizeBytes", sizes[0]);
        data.put("newSizeBytes", sizes[1]);
        data.put("changed", changed);
        return data;
    }

    /** Filesystems are grown to the end of their device; less than this short of it is already full. */
    private static final long SLACK_BYTES = 1 << 20;

    /** A dry run: what growpart and the filesystem tool would do, asked without changing anything. */
    private Map<String, Object> plan(CommandContext ctx, Target t, String fstype, String mounted) throws Exception {
        BlockDevice fsDev = t.fs();
        long deviceBytes = PartitionTable.sizeBytes(fsDev.kname);
        boolean partitionWouldGrow = false;
        if (t.part != null) {
            String n = String.valueOf(t.part.partitionNumber);
            ProcessResult r = tools.query(ctx, "growpart", "--dry-run", t.disk.path, n);
            if (r.exitCode() == 0) {
                partitionWouldGrow = true;
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("new: size=(\\d+)").matcher(r.output());
                if (m.find()) deviceBytes = Long.parseLong(m.group(1)) * 512;
            } else if (!(r.exitCode() == 1 && r.output().contains("NOCHANGE"))) {
                throw new CommandException("growpart --dry-run " + t.disk.path + " " + n + " failed with exit code " + r.exitCode()
                    + ": " + Text.tail(r.output(), 3));
            }
        }
        long fsBytes = EXT.contains(fstype) ? extSize(ctx, fsDev) : xfsSize(ctx, fsDev, mounted);
        boolean fsWouldGrow = deviceBytes - fsBytes >= SLACK_BYTES;
        List<String> steps = new java.util.ArrayList<>();
        if (partitionWouldGrow) steps.add("grow partition " + t.part.partitionNumber + " of " + t.disk.path + " to " + deviceBytes + " bytes");
        if (fsWouldGrow) {
            steps.add("grow the " + fstype + " filesystem on " + fsDev.path + (mounted != null ? " (mounted at " + mounted + ", online)" : "")
                + " from " + fsBytes + " to about " + deviceBytes + " bytes");
        }
        if (steps.isEmpty()) steps.add("nothing: " + fsDev.path + " (" + fstype + ") already fills " + (t.part != null ? "the disk" : t.disk.path));
        steps.forEach(step -> ctx.output().println("would " + step));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("device", t.disk.path);
        data.put("partition", t.part == null ? null : t.part.partitionNumber);
        data.put("partitionDevice", t.part == null ? null : t.part.path);
        data.put("fstype", fstype);
        data.put("mountpoint", mounted);
        data.put("oldSizeBytes", fsBytes);
        data.put("newSizeBytes", fsWouldGrow ? deviceBytes : fsBytes);
        data.put("plan", steps);
        data.put("changed", partitionWouldGrow || fsWouldGrow);
        data.put("dryRun", true);
        return data;
    }

    /** The size of an xfs filesystem: data blocks × block size, from xfs_info (mounted) or xfs_db (not). */
    private long xfsSize(CommandContext ctx, BlockDevice fsDev, String mounted) throws Exception {
        ProcessResult r = mounted != null ? tools.query(ctx, "xfs_info", mounted)
            : tools.query(ctx, "xfs_db", "-r", "-c", "sb 0", "-c", "print blocksize dblocks", fsDev.path);
        java.util.regex.Matcher bs = java.util.regex.Pattern.compile("(?:bsize=|blocksize = )(\\d+)").matcher(r.output());
        java.util.regex.Matcher n = java.util.regex.Pattern.compile("(?:\\bblocks=|dblocks = )(\\d+)").matcher(r.output());
        if (r.exitCode() != 0 || !bs.find() || !n.find()) {
            throw new CommandException((mounted != null ? "xfs_info " + mounted : "xfs_db " + fsDev.path)
                + " did not give the filesystem's size (exit " + r.exitCode() + "): " + Text.tail(r.output(), 2));
        }
        return Long.parseLong(bs.group(1)) * Long.parseLong(n.group(1));
    }

    private static Target byDevice(BlockDevices devices, String value, Integer partNo) throws CommandException {
        BlockDevice d = devices.resolve("device", value);
        if (d.isPartition()) {
            BlockDevice disk = d.parent;
            if (disk == null || !disk.isWholeDisk()) {
                throw new InvalidParamException("device", Text.quote(value) + " is a partition of "
                    + (disk == null ? "an unknown device" : disk.path + " (type " + disk.type + ")")
                    + "; disk.extend grows partitions of disks (type disk or loop)");
            }
            if (d.partitionNumber == null) throw new CommandException("sysfs gives no partition number for " + d.path);
            if (partNo != null && !partNo.equals(d.partitionNumber)) {
                throw new InvalidParamException("partition", "is " + partNo + " but device " + Text.quote(value)
                    + " is partition " + d.partitionNumber + " of " + disk.path);
            }
            return new Target(disk, d);
        }
        if (!d.isWholeDisk()) {
            throw new InvalidParamException("device", Text.quote(value) + " is of type '" + d.type
                + "'; disk.extend grows disks (type disk or loop) and their partitions, not LVM or other stacked devices");
        }
        List<BlockDevice> parts = d.partitions();
        if (partNo != null) {
            BlockDevice part = d.partition(partNo);
            if (part == null) throw new InvalidParamException("partition", partNo + " does not exist: " + numbers(d));
            return new Target(d, part);
        }
        if (parts.isEmpty()) return new Target(d, null);
        if (parts.size() == 1) return new Target(d, parts.get(0));
        throw new InvalidParamException("partition", "is required: " + numbers(d));
    }

    private static Target byMountPoint(BlockDevices devices, String mountPoint) throws CommandException {
        MountTable.Mount m = devices.mounts.at(mountPoint).orElseThrow(() -> new InvalidParamException("mountpoint",
            Text.quote(mountPoint) + " is not a mount point: nothing is mounted there"));
        BlockDevice d = devices.byMajMin(m.majMin());
        if (d == null && m.source().startsWith("/dev/")) d = devices.byPath(realPath(m.source()));
        if (d == null) {
            throw new InvalidParamException("mountpoint", Text.quote(mountPoint) + " is mounted from " + Text.quote(m.source())
                + " (" + m.fstype() + "), not from a block device that lsblk lists");
        }
        if (d.isPartition() && d.parent != null && d.parent.isWholeDisk() && d.partitionNumber != null) {
            return new Target(d.parent, d);
        }
        if (d.isWholeDisk()) return new Target(d, null);
        throw new InvalidParamException("mountpoint", Text.quote(mountPoint) + " is on " + d.path + " (type " + d.type
            + "); disk.extend grows partitions and filesystems of disks, not LVM or other stacked devices");
    }

    private static String realPath(String path) {
        try {
            return Path.of(path).toRealPath().toString();
        } catch (IOException e) {
            return path;
        }
    }

    private static String numbers(BlockDevice disk) {
        List<BlockDevice> parts = disk.partitions();
        if (parts.isEmpty()) return disk.path + " has no partitions";
        return disk.path + " has partitions " + parts.stream().map(x -> String.valueOf(x.partitionNumber))
            .collect(Collectors.joining(", "));
    }

    private void checkTools(Target t, String fstype, String mounted) throws CommandException {
        if (t.part != null) tools.requireAll("growpart", "partx");
        if (t.disk.type.equals("loop")) tools.require("losetup");
        if (EXT.contains(fstype)) {
            tools.require("resize2fs");
            if (mounted == null) tools.requireAll("e2fsck", "dumpe2fs");
        } else {
            tools.require("xfs_growfs");
            if (mounted == null) tools.requireAll("mount", "umount");
        }
    }

    /** Refuses up front what the kernel would refuse half way, after the partition had already grown. */
    private void checkCapabilities(BlockDevice fsDev, String fstype, String mounted) throws CommandException {
        int cap = EXT.contains(fstype) ? (mounted != null ? Capabilities.CAP_SYS_RESOURCE : -1) : Capabilities.CAP_SYS_ADMIN;
        if (cap < 0 || capabilities.test(cap)) return;
        String name = Capabilities.name(cap);
        throw new CommandException("cannot grow the " + (mounted != null ? "mounted " : "") + fstype + " filesystem on "
            + fsDev.path + (mounted != null ? " (at " + mounted + ")" : "") + ": the kernel needs " + name
            + ", which the agent's process does not have (see CapEff in /proc/self/status); give the agent " + name
            + (EXT.contains(fstype) ? ", or unmount the filesystem so that it is grown offline" : "")
            + ". Nothing was changed.");
    }

    /** Makes the kernel notice that the disk itself grew, where it does not by itself. */
    private void rescan(CommandContext ctx, BlockDevice disk) throws Exception {
        if (disk.type.equals("loop")) {
            ProcessResult r = tools.change(ctx, "losetup", "-c", disk.path);
            if (r.exitCode() != 0) ctx.output().println("warning: could not refresh the size of " + disk.path);
            return;
        }
        // SCSI disks (VMware, Hyper-V, many clouds) learn a new size only when asked; virtio and Xen disks know it
        Path rescan = Path.of("/sys/class/block", Path.of(disk.kname).getFileName().toString(), "device", "rescan");
        if (Files.isWritable(rescan)) {
            try {
                Files.writeString(rescan, "1");
                ctx.output().println("asked the kernel to rescan " + disk.path + " (" + rescan + ")");
            } catch (IOException e) {
                ctx.output().println("warning: could not rescan " + disk.path + ": " + e.getMessage());
            }
        }
    }

    /** @return whether the partition grew */
    private boolean growPartition(CommandContext ctx, Target t) throws Exception {
        ctx.progress(30, "growing partition " + t.part.partitionNumber + " of " + t.disk.path);
        String n = String.valueOf(t.part.partitionNumber);
        long before = PartitionTable.sizeBytes(t.part.kname);
        ProcessResult r = tools.change(ctx, "growpart", t.disk.path, n);
        if (r.exitCode() == 1 && r.output().contains("NOCHANGE")) return false;
        if (r.exitCode() != 0) {
            throw new CommandException("growpart " + t.disk.path + " " + n + " failed with exit code " + r.exitCode() + ": "
                + Text.tail(r.output(), 4) + ". The filesystem was not touched; check the partition table with lsblk "
                + t.disk.path);
        }
        if (PartitionTable.sizeBytes(t.part.kname) <= before) {
            // growpart updates the kernel itself only when its checks say it can; ask once more
            tools.change(ctx, "partx", "-u", "--nr", n, t.disk.path);
            if (PartitionTable.sizeBytes(t.part.kname) <= before) {
                throw new CommandException("partition " + n + " of " + t.disk.path + " was grown in the partition table,"
                    + " but the kernel still sees its old size, so the filesystem was not grown; re-read the table"
                    + " (partx -u " + t.disk.path + ") or reboot, then run disk.extend again");
            }
        }
        return true;
    }

    private long[] growExt(CommandContext ctx, BlockDevice fsDev, String mounted, boolean partitionGrown) throws Exception {
        String state = partitionGrown ? "the partition was grown but the filesystem was not" : "nothing was changed";
        long before = mounted != null ? statfsTotal(mounted) : extSize(ctx, fsDev);
        ProcessResult r = tools.change(ctx, "resize2fs", fsDev.path);
        if (r.exitCode() != 0 && mounted == null && r.output().contains("e2fsck -f")) {
            // offline resize2fs insists on a freshly checked filesystem
            ProcessResult f = tools.change(ctx, "e2fsck", "-f", "-p", fsDev.path);
            if (f.exitCode() >= 4) {
                throw new CommandException("e2fsck -f -p " + fsDev.path + " found problems it does not fix by itself (exit "
                    + f.exitCode() + "): " + Text.tail(f.output(), 3) + "; " + state + ". Check the filesystem by hand,"
                    + " then run disk.extend again");
            }
            r = tools.change(ctx, "resize2fs", fsDev.path);
        }
        if (r.exitCode() != 0) {
            throw new CommandException("resize2fs " + fsDev.path + " failed with exit code " + r.exitCode() + ": "
                + Text.tail(r.output(), 3) + "; " + state);
        }
        long after = mounted != null ? statfsTotal(mounted) : extSize(ctx, fsDev);
        return new long[] {before, after};
    }

    private long[] growXfs(CommandContext ctx, BlockDevice fsDev, String mounted, boolean partitionGrown) throws Exception {
        String state = partitionGrown ? "the partition was grown but the filesystem was not" : "nothing was changed";
        if (mounted != null) return xfsGrowAt(ctx, fsDev, mounted, state);
        // xfs_growfs works only on a mounted filesystem: mount it privately for the time of the grow
        Path tmp = Files.createTempDirectory("outpost-xfs-grow-");
        try {
            ProcessResult m = tools.change(ctx, "mount", "-t", "xfs", fsDev.path, tmp.toString());
            if (m.exitCode() != 0) {
                throw new CommandException("cannot mount " + fsDev.path + " to grow it (xfs_growfs needs it mounted): "
                    + Text.tail(m.output(), 3) + "; " + state);
            }
            long[] sizes;
            try {
                sizes = xfsGrowAt(ctx, fsDev, tmp.toString(), state);
            } catch (CommandException e) {
                if (tools.change(ctx, "umount", tmp.toString()).exitCode() == 0) throw e;
                throw new CommandException(e.getMessage() + "; it is still mounted at " + tmp, e);
            } catch (CommandCancelledException e) {
                ctx.output().println("stopped while " + fsDev.path + " was mounted at " + tmp + "; unmount it by hand");
                throw e;
            }
            ProcessResult u = tools.change(ctx, "umount", tmp.toString());
            if (u.exitCode() != 0) {
                throw new CommandException("the xfs filesystem on " + fsDev.path + " was grown to " + sizes[1]
                    + " bytes, but unmounting it from the temporary mount point " + tmp + " failed: " + Text.tail(u.output(), 2));
            }
            return sizes;
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                ctx.output().println("warning: could not remove " + tmp + ": " + e.getMessage());
            }
        }
    }

    private long[] xfsGrowAt(CommandContext ctx, BlockDevice fsDev, String where, String state) throws Exception {
        long before = statfsTotal(where);
        ProcessResult r = tools.change(ctx, "xfs_growfs", where);
        if (r.exitCode() != 0) {
            throw new CommandException("xfs_growfs " + where + " (" + fsDev.path + ") failed with exit code " + r.exitCode()
                + ": " + Text.tail(r.output(), 3) + "; " + state);
        }
        return new long[] {before, statfsTotal(where)};
    }

    /** The size df shows for a mounted filesystem (statfs). */
    static long statfsTotal(String mountPoint) throws CommandException {
        try {
            return Files.getFileStore(Path.of(mountPoint)).getTotalSpace();
        } catch (IOException e) {
            throw new CommandException("cannot statfs " + mountPoint + ": " + e.getMessage(), e);
        }
    }

    /** The size of an unmounted ext filesystem from its superblock: block count × block size. */
    private long extSize(CommandContext ctx, BlockDevice fsDev) throws Exception {
        ProcessResult r = tools.query(ctx, "dumpe2fs", "-h", fsDev.path);
        long count = -1;
        long size = -1;
        try {
            for (String line : r.output().split("\n")) {
                if (line.startsWith("Block count:")) count = Long.parseLong(line.substring(12).trim());
                else if (line.startsWith("Block size:")) size = Long.parseLong(line.substring(11).trim());
            }
        } catch (NumberFormatException e) {
            count = -1;
        }
        if (r.exitCode() != 0 || count < 0 || size < 0) {
            throw new CommandException("dumpe2fs -h " + fsDev.path + " did not give the filesystem's size (exit "
                + r.exitCode() + "): " + Text.tail(r.output(), 2));
        }
        return count * size;
    }
}
