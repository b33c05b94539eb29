package plugin.disk.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;

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
 * {@code disk.initialize}: a new, empty disk gets a GPT label, one partition over the whole disk, an ext4 or
 * xfs filesystem, a mount point, an fstab line by UUID with {@code nofail}, and is mounted. Everything is
 * checked before the first change; a failure after it says what state the disk was left in.
 */
@Component
@Actions("disk.initialize")
@ConcurrencyKey("disk")
@DryRun
@SettingsType(DiskSettings.class)
public final class DiskInitializer implements CommandHandler {
    private static final Set<String> FSTYPES = Set.of("ext4", "xfs");
    /** Directories the system itself lives in: mounting over one would hide the running system's files. */
    private static final Set<String> SYSTEM_DIRS = Set.of("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32",
        "/lib64", "/proc", "/run", "/sbin", "/sys", "/usr", "/var");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Pattern OPTIONS = Pattern.compile("[A-Za-z0-9._=:/+-]+(,[A-Za-z0-9._=:/+-]+)*");

    Tools tools = Tools.fromEnvironment();
    Supplier<Instant> clock = Instant::now;

    /** What has been done so far, for the message of a failure after the first change. */
    private static final class State {
        String text = "nothing was changed";

        @Override
        public String toString() { return text; }
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Params p = ctx.params();
        String deviceValue = DeviceNames.device("device", p.string("device"));
        String fstype = p.oneOf("fstype", FSTYPES, null);
        String mountPoint = checkMountPointName(p.string("mountpoint"));
        String label = checkLabel(p.optionalString("label"), fstype);
        String options = checkOptions(p.optionalString("mountOptions").orElse("defaults"));
        boolean force = p.bool("force", false);
        Path fstabPath = ctx.settings(DiskSettings.class).fstab();

        tools.requireAll("lsblk", "blkid", "wipefs", "mkfs." + fstype, "mount");
        if (!tools.has("sgdisk") && !tools.has("parted")) tools.require("sgdisk");
        if (!tools.has("partx") && !tools.has("blockdev")) tools.require("partx");

        BlockDevices devices = BlockDevices.scan(ctx, tools);
        BlockDevice disk = devices.resolve("device", deviceValue);
        if (disk.isPartition()) {
            throw new InvalidParamException("device", Text.quote(deviceValue) + " is a partition"
                + (disk.parent == null ? "" : " of " + disk.parent.path) + "; disk.initialize needs a whole disk"
                + (disk.parent == null ? "" : " such as " + disk.parent.path));
        }
        if (!disk.isWholeDisk()) {
            throw new InvalidParamException("device", Text.quote(deviceValue) + " is of type '" + disk.type
                + "', not a disk; disk.initialize needs a whole disk (lsblk type disk, or loop)");
        }
        if (disk.readOnly) throw new CommandException(disk.path + " is read-only. Nothing was changed.");
        if (disk.sizeBytes <= 0) throw new CommandException(disk.path + " has size 0 (no medium?). Nothing was changed.");
        checkNotInUse(disk);
        List<String> contents = contents(ctx, disk);
        if (!contents.isEmpty() && !force) {
            throw new CommandException(disk.path + " is not empty: " + String.join("; ", contents)
                + ". Nothing was changed; pass force: true to erase it");
        }
        checkMountPoint(devices.mounts, mountPoint);
        Fstab fstab = Fstab.read(fstabPath);
        List<Fstab.Entry> stale = staleEntries(fstab, disk, mountPoint);
        if (ctx.dryRun()) return plan(ctx, disk, contents, fstype, label, mountPoint, options, fstab, stale);

        State state = new State();
        try {
            return initialize(ctx, disk, contents, fstype, label, mountPoint, options, fstab, stale, force, state);
        } catch (InvalidParamException e) {
            throw e;
        } catch (CommandException e) {
            throw new CommandException(e.getMessage() + ". State: " + state, e);
        } catch (CommandCancelledException e) {
            ctx.output().println("stopped; state: " + state);
            throw e;
        } catch (IOException e) {
            throw new CommandException(e.getMessage() + ". State: " + state, e);
        }
    }

    /** A dry run: every check above has passed; this is what the run would do, and nothing is done. */
    private static Map<String, Object> plan(CommandContext ctx, BlockDevice disk, List<String> contents, String fstype,
            String label, String mountPoint, String options, Fstab fstab, List<Fstab.Entry> stale) {
        // the kernel names partitions of disks whose name ends in a digit with a 'p' (loop0p1, nvme0n1p1)
        String part = disk.path + (Character.isDigit(disk.path.charAt(disk.path.length() - 1)) ? "p1" : "1");
        List<String> steps = new ArrayList<>();
        if (!contents.isEmpty()) steps.add("erase " + disk.path + " (" + String.join("; ", contents) + ")");
        steps.add("write a GPT partition table on " + disk.path + " with one partition " + part);
        steps.add("make an " + fstype + " filesystem on " + part + (label == null ? "" : " labelled " + label));
        for (Fstab.Entry e : stale) steps.add("disable line " + (e.line() + 1) + " of " + fstab.path() + " (" + e.spec() + ")");
        steps.add("add " + mountPoint + " to " + fstab.path() + " by UUID, options " + options + ",nofail");
        steps.add("mount " + part + " at " + mountPoint);
        steps.forEach(step -> ctx.output().println("would " + step));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("device", disk.path);
        data.put("partition", part);
        data.put("fstype", fstype);
        data.put("mountpoint", mountPoint);
        data.put("label", label);
        data.put("erases", contents);
        data.put("plan", steps);
        data.put("changed", true);
        data.put("dryRun", true);
        return data;
    }

    private Object initialize(CommandContext ctx, BlockDevice disk, List<String> contents, String fstype, String label,
            String mountPoint, String options, Fstab fstab, List<Fstab.Entry> stale, boolean force, State state)
            throws Exception {
        if (!contents.isEmpty()) {
            ctx.progress(5, "erasing " + disk.path);
            state.text = "erasing " + disk.path + " had begun: some of its old signatures may be wiped";
            // partitions first: their signatures lie inside the disk's area and would resurface under a new table
            for (BlockDevice part : disk.partitions()) tools.changeOrFail(ctx, "wipefs", "-a", part.path);
            tools.changeOrFail(ctx, "wipefs", "-a", disk.path);
            state.text = "the old contents of " + disk.path + " were erased (its signatures wiped); no new partition table yet";
        }
        ctx.checkCancelled();
        ctx.progress(15, "partitioning " + disk.path);
        if (contents.isEmpty()) state.text = "writing a partition table on " + disk.path + " had begun";
        PartitionTable.createSingle(ctx, tools, disk, label == null ? "data" : label);
        state.text = disk.path + " has a new GPT label with one partition, not formatted";
        PartitionTable.reread(ctx, tools, disk);
        String part = PartitionTable.awaitPartition(ctx, disk, 1);
        state.text = disk.path + " has a new GPT label with one partition " + part + ", not formatted";

        if (!force) {
            // the disk looked empty, but a table zapped earlier can leave a filesystem where partition 1 now starts
            Map<String, String> old = probe(ctx, part);
            // blkid -p always reports the partition entry itself (PART_ENTRY_*); only content counts
            if (old.containsKey("TYPE") || old.containsKey("PTTYPE")) {
                throw new CommandException("the new partition " + part + " already holds " + signature(old)
                    + ", left from earlier use of the disk; not formatting it (pass force: true to overwrite it)");
            }
        }
        ctx.checkCancelled();
        ctx.progress(30, "formatting " + part + " as " + fstype);
        List<String> mkfs = new ArrayList<>(List.of(fstype.equals("xfs") ? "-f" : "-F"));
        if (label != null) mkfs.addAll(List.of("-L", label));
        mkfs.add(part);
        tools.changeOrFail(ctx, "mkfs." + fstype, mkfs.toArray(String[]::new));
        state.text = disk.path + " has a GPT label with one partition " + part + " formatted " + fstype
            + "; not in fstab and not mounted";
        Map<String, String> tags = probe(ctx, part);
        String uuid = tags.get("UUID");
        if (uuid == null || !fstype.equals(tags.get("TYPE"))) {
            throw new CommandException("blkid does not see the new " + fstype + " filesystem on " + part + " (it reports "
                + (tags.isEmpty() ? "nothing" : tags) + ")");
        }
        state.text = disk.path + " has a GPT label with one partition " + part + " formatted " + fstype + " (UUID=" + uuid
            + "); not in fstab and not mounted";

        ctx.progress(70, "adding " + mountPoint + " to " + fstab.path());
        Path mp = Path.of(mountPoint);
        Files.createDirectories(mp);
        state.text += "; mount point " + mountPoint + " exists";
        Instant now = clock.get().truncatedTo(ChronoUnit.SECONDS);
        for (Fstab.Entry e : stale) {
            fstab.commentOut(e, "disabled by Outpost disk.initialize " + now + " (its filesystem on " + disk.path + " was erased)");
            ctx.output().println("fstab: disabled line " + (e.line() + 1) + ", which named the erased " + e.spec());
        }
        String fstabOptions = withNofail(options);
        fstab.append("# added by Outpost disk.initialize " + now + ": " + part + " (" + fstype + ")");
        // xfs has no boot-time fsck (fsck.xfs does nothing), hence pass 0; ext4 is checked after the root (2)
        String line = "UUID=" + uuid + " " + mountPoint + " " + fstype + " " + fstabOptions + " 0 " + (fstype.equals("xfs") ? 0 : 2);
        fstab.append(line);
        Path backup;
        try {
            backup = fstab.write(now);
        } catch (IOException e) {
            throw new CommandException("cannot write " + fstab.path() + " (it is unchanged): " + e.getMessage(), e);
        }
        ctx.output().println("fstab " + fstab.path() + ": added '" + line + "'"
            + (backup == null ? "" : "; previous file kept as " + backup));
        state.text = disk.path + " has a GPT label with one partition " + part + " formatted " + fstype + " (UUID=" + uuid
            + "); fstab " + fstab.path() + " has its line" + (backup == null ? "" : " (previous file kept as " + backup + ")")
            + "; not mounted";

        ctx.progress(90, "mounting " + part + " at " + mountPoint);
        ProcessResult m = tools.change(ctx, "mount", "-t", fstype, "-o", fstabOptions, part, mountPoint);
        if (m.exitCode() != 0) {
            String restored;
            try {
                Fstab.write(fstab.path(), fstab.original(), clock.get());
                restored = "the fstab line was taken out again (fstab restored to its previous content)";
            } catch (IOException e) {
                restored = "fstab " + fstab.path() + " still has the new line (restoring it failed: " + e.getMessage() + ")";
            }
            state.text = disk.path + " has a GPT label with one partition " + part + " formatted " + fstype + " (UUID="
                + uuid + "); mount point " + mountPoint + " exists; not mounted; " + restored;
            throw new CommandException("mount -t " + fstype + " -o " + fstabOptions + " " + part + " " + mountPoint
                + " failed with exit code " + m.exitCode() + ": " + Text.tail(m.output(), 3));
        }
        Optional<MountTable.Mount> now2 = MountTable.read().at(mountPoint);
        if (now2.isEmpty()) throw new CommandException("mount reported success but nothing is mounted at " + mountPoint);
        state.text = "done";
        ctx.output().println("initialized " + disk.path + ": " + part + " " + fstype + " UUID=" + uuid + " mounted at " + mountPoint);

        Map<String, Object> data = new LinkedHashMap<>();
        data.put("device", disk.path);
        data.put("partition", 1);
        data.put("partitionDevice", part);
        data.put("uuid", uuid);
        data.put("fstype", fstype);
        data.put("mountpoint", mountPoint);
        return data;
    }

    private static String checkMountPointName(String value) throws InvalidParamException {
        String mp = DeviceNames.mountPoint("mountpoint", value);
        for (String sys : SYSTEM_DIRS) {
            boolean under = !sys.equals("/") && !sys.equals("/var") && !sys.equals("/usr") && mp.startsWith(sys + "/");
            if (mp.equals(sys) || under) {
                throw new InvalidParamException("mountpoint", Text.quote(value) + " is a system directory; choose a place"
                    + " of its own such as /data or /srv/data");
            }
        }
        return mp;
    }

    private static String checkLabel(Optional<String> value, String fstype) throws InvalidParamException {
        if (value.isEmpty()) return null;
        String l = value.get();
        int max = fstype.equals("xfs") ? 12 : 16;
        if (l.isEmpty() || l.length() > max || !LABEL.matcher(l).matches()) {
            throw new InvalidParamException("label", "must be 1.." + max + " letters, digits, '.', '_' or '-' for " + fstype
                + ", got " + Text.quote(l));
        }
        return l;
    }

    private static String checkOptions(String value) throws InvalidParamException {
        if (!OPTIONS.matcher(value).matches()) {
            throw new InvalidParamException("mountOptions", "must be comma-separated mount options such as"
                + " 'defaults,noatime' (letters, digits and . _ = : / + -), got " + Text.quote(value));
        }
        return value;
    }

    private static String withNofail(String options) {
        for (String o : options.split(",")) {
            if (o.equals("nofail")) return options;
        }
        // a missing disk must not stop the machine from booting
        return options + ",nofail";
    }

    /** Mounted, swap or held by device-mapper / md: refused even with force, as erasing it would break the running system. */
    private static void checkNotInUse(BlockDevice disk) throws CommandException {
        List<String> uses = new ArrayList<>();
        Set<String> swaps = swaps();
        for (BlockDevice d : (Iterable<BlockDevice>) disk.subtree()::iterator) {
            if (!d.mountPoints.isEmpty()) uses.add(d.path + " is mounted at " + String.join(", ", d.mountPoints));
            if (swaps.contains(d.path) || swaps.contains(d.kname)) uses.add(d.path + " is in use as swap");
            if (d == disk || d.isPartition()) {
                List<String> holders = holders(d);
                if (!holders.isEmpty()) uses.add(d.path + " is held by " + String.join(", ", holders));
            }
        }
        if (!uses.isEmpty()) {
            throw new CommandException(disk.path + " is in use: " + String.join("; ", uses)
                + ". Nothing was changed; disk.initialize never erases a disk in use, even with force: true"
                + " (unmount it, turn its swap off or stop what holds it first)");
        }
    }

    private static Set<String> swaps() {
        Set<String> out = new LinkedHashSet<>();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/swaps"));
            for (String l : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String dev = l.split("\\s+")[0];
                out.add(dev);
                try {
                    out.add(Path.of(dev).toRealPath().toString());
                } catch (IOException | RuntimeException e) {
                    // a swap file or a vanished path: the name alone is enough
                }
            }
        } catch (IOException e) {
            // no /proc/swaps: no swap
        }
        return out;
    }

    private static List<String> holders(BlockDevice d) {
        List<String> out = new ArrayList<>();
        Path dir = Path.of("/sys/class/block", Path.of(d.kname).getFileName().toString(), "holders");
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path h : s) out.add(h.getFileName().toString());
        } catch (IOException e) {
            out.add("(unreadable " + dir + ")");
        }
        return out;
    }

    /** What makes the disk not empty: partitions and any signature wipefs finds (partition tables, filesystems, RAID, LVM ...). */
    private List<String> contents(CommandContext ctx, BlockDevice disk) throws Exception {
        List<String> found = new ArrayList<>();
        for (BlockDevice part : disk.partitions()) found.add("it has partition " + part.describe());
        ProcessResult r = tools.query(ctx, "wipefs", "-n", "-p", disk.path);
        if (r.exitCode() != 0) {
            throw new CommandException("wipefs -n -p " + disk.path + " failed with exit code " + r.exitCode() + ": "
                + Text.tail(r.output(), 2) + ". Nothing was changed");
        }
        List<String> signatures = new ArrayList<>();
        for (String line : r.output().split("\n")) {
            String[] f = line.strip().split(",");
            if (line.isBlank() || line.startsWith("#") || f.length < 4) continue;
            signatures.add(f[f.length - 1] + " at " + f[0] + (f[1].isEmpty() ? "" : " (UUID=" + f[1] + ")"));
        }
        if (!signatures.isEmpty()) found.add("signatures " + String.join(", ", signatures));
        else if (disk.fstype != null || disk.partitionTable != null) {
            found.add("blkid finds " + (disk.fstype != null ? disk.fstype : disk.partitionTable + " partition table"));
        }
        return found;
    }

    private void checkMountPoint(MountTable mounts, String mountPoint) throws CommandException {
        Optional<MountTable.Mount> m = mounts.at(mountPoint);
        if (m.isPresent()) {
            throw new InvalidParamException("mountpoint", Text.quote(mountPoint) + " is already a mount point (of "
                + m.get().source() + ", " + m.get().fstype() + ")");
        }
        Path p = Path.of(mountPoint);
        if (Files.isSymbolicLink(p)) {
            throw new InvalidParamException("mountpoint", Text.quote(mountPoint) + " is a symbolic link; give the real path");
        }
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new InvalidParamException("mountpoint", Text.quote(mountPoint) + " exists and is not a directory");
            }
            try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
                if (s.iterator().hasNext()) {
                    throw new InvalidParamException("mountpoint", Text.quote(mountPoint)
                        + " is a directory that is not empty; mounting over it would hide its files");
                }
            } catch (IOException e) {
                throw new CommandException("cannot read " + mountPoint + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * fstab lines that will be stale once the disk is erased (they name its old filesystems or its device paths).
     * A line that mounts something else at the requested mount point is refused instead.
     */
    private static List<Fstab.Entry> staleEntries(Fstab fstab, BlockDevice disk, String mountPoint) throws CommandException {
        Set<String> ids = new LinkedHashSet<>();
        for (BlockDevice d : (Iterable<BlockDevice>) disk.subtree()::iterator) {
            ids.add(d.path);
            ids.add(d.kname);
            if (d.uuid != null) {
                ids.add("uuid=" + d.uuid.toLowerCase(Locale.ROOT));
                ids.add("/dev/disk/by-uuid/" + d.uuid.toLowerCase(Locale.ROOT));
            }
            if (d.partUuid != null) {
                ids.add("partuuid=" + d.partUuid.toLowerCase(Locale.ROOT));
                ids.add("/dev/disk/by-partuuid/" + d.partUuid.toLowerCase(Locale.ROOT));
            }
        }
        ids.add(DeviceNames.partition(disk.path, 1));
        List<Fstab.Entry> stale = new ArrayList<>();
        for (Fstab.Entry e : fstab.entries()) {
            String spec = e.spec().replace("\"", "");
            int eq = spec.indexOf('=');
            String key = eq > 0 && !spec.startsWith("/") ? spec.substring(0, eq).toLowerCase(Locale.ROOT) + spec.substring(eq).toLowerCase(Locale.ROOT)
                : spec;
            if (ids.contains(key) || ids.contains(spec)) stale.add(e);
        }
        for (Fstab.Entry e : fstab.at(mountPoint)) {
            if (!stale.contains(e)) {
                throw new InvalidParamException("mountpoint", "fstab " + fstab.path() + " line " + (e.line() + 1)
                    + " already mounts " + Text.quote(e.spec()) + " at " + Text.quote(mountPoint)
                    + "; choose another mount point or remove that line");
            }
        }
        return stale;
    }

    /** Low-level blkid probe of one device, bypassing its cache. @return the tags, empty if nothing is there */
    private Map<String, String> probe(CommandContext ctx, String device) throws Exception {
        ProcessResult r = tools.query(ctx, "blkid", "-p", "-o", "export", device);
        if (r.exitCode() == 2) return Map.of();
        Map<String, String> tags = BlockDevices.parseExport(r.output()).getOrDefault(device, Map.of());
        if (r.exitCode() == 8 && tags.isEmpty()) return Map.of("TYPE", "several signatures (blkid: ambivalent result)");
        if (r.exitCode() != 0 && r.exitCode() != 8) {
            throw new CommandException("blkid -p " + device + " failed with exit code " + r.exitCode() + ": " + Text.tail(r.output(), 2));
        }
        return tags;
    }

    private static String signature(Map<String, String> tags) {
        String type = tags.getOrDefault("TYPE", tags.getOrDefault("PTTYPE", "a signature"));
        return "a " + type + " signature" + (tags.containsKey("UUID") ? " (UUID=" + tags.get("UUID") + ")" : "");
    }
}
