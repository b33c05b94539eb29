package plugin.disk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.InvalidParamException;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;
import plugin.disk.internal.LoopDisks.Sh;

/**
 * The three disk actions run for real, as root, on loop devices over image files in a temp dir; the fstab
 * is a file in that temp dir. The host's disks and /etc/fstab are never touched.
 */
class DiskActionsOnLoopDevicesTest {
    private static final long MIB = 1024 * 1024;
    /** mkfs.xfs refuses filesystems under 300 MB. */
    private static final long XFS_DISK = 320 * MIB;

    /** On a failure, shows what the last action printed: the commands it ran and their output. */
    @RegisterExtension
    final TestWatcher showOutput = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (last != null) System.out.println(last);
        }
    };

    @TempDir
    Path tmp;
    LoopDisks disks;
    Path fstab;
    Outcome last;

    @BeforeEach
    void setUp() throws Exception {
        LoopDisks.checkPreconditions();
        disks = new LoopDisks(tmp);
        fstab = tmp.resolve("fstab");
        Files.writeString(fstab, "# the test's fstab\nUUID=0a0a0a0a-1111-2222-3333-444444444444 /srv/elsewhere ext4 defaults 0 2\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        disks.close();
    }

    // ---- disk.initialize ----

    @Test
    void initializeMakesAGptPartitionWithExt4AnFstabLineByUuidWithNofailAndMountsIt() throws Exception {
        String loop = disks.newDisk("ext4", 64 * MIB);
        String mp = tmp.resolve("mnt/data").toString();
        String before = Files.readString(fstab);

        Map<String, Object> data = run(new DiskInitializer(), "disk.initialize", params("device", loop, "fstype", "ext4",
            "mountpoint", mp, "label", "outpost-test", "mountOptions", "defaults,noatime"));

        String part = loop + "p1";
        assertThat(data).containsEntry("device", loop).containsEntry("partition", 1).containsEntry("partitionDevice", part)
            .containsEntry("fstype", "ext4").containsEntry("mountpoint", mp);
        String uuid = (String) data.get("uuid");
        assertThat(blkid(loop, "PTTYPE")).isEqualTo("gpt");
        assertThat(blkid(part, "TYPE")).isEqualTo("ext4");
        assertThat(blkid(part, "UUID")).isEqualTo(uuid);
        assertThat(blkid(part, "LABEL")).isEqualTo("outpost-test");
        assertThat(Files.readString(fstab)).startsWith(before)
            .contains("\nUUID=" + uuid + " " + mp + " ext4 defaults,noatime,nofail 0 2\n");
        assertThat(backups()).singleElement().satisfies(b -> assertThat(Files.readString(b)).isEqualTo(before));
        assertThat(mountedAt(mp)).isEqualTo(part + " ext4");
    }

    @Test
    void initializeMakesAnXfsFilesystemWithDefaultOptions() throws Exception {
        String loop = disks.newDisk("xfs", XFS_DISK);
        String mp = tmp.resolve("mnt/xfs").toString();

        Map<String, Object> data = run(new DiskInitializer(), "disk.initialize",
            params("device", loop, "fstype", "xfs", "mountpoint", mp));

        String part = loop + "p1";
        assertThat(data).containsEntry("fstype", "xfs").containsEntry("partitionDevice", part);
        assertThat(blkid(part, "TYPE")).isEqualTo("xfs");
        assertThat(Files.readString(fstab)).contains("\nUUID=" + data.get("uuid") + " " + mp + " xfs defaults,nofail 0 0\n");
        assertThat(mountedAt(mp)).isEqualTo(part + " xfs");
    }

    @Test
    void initializeWorksOnALoopDeviceAttachedWithoutPartitionScanning() throws Exception {
        // BLKRRPART fails on such a device: the partition must come from partx (BLKPG)
        String loop = disks.attach(disks.image("noscan", 64 * MIB), false);
        String mp = tmp.resolve("mnt/noscan").toString();

        Map<String, Object> data = run(new DiskInitializer(), "disk.initialize",
            params("device", loop, "fstype", "ext4", "mountpoint", mp));

        assertThat(data).containsEntry("partitionDevice", loop + "p1");
        assertThat(mountedAt(mp)).isEqualTo(loop + "p1 ext4");
    }

    @Test
    void initializeRefusesADiskWithAFilesystemAndErasesItWithForce() throws Exception {
        String loop = disks.newDisk("used", 64 * MIB);
        Sh.ok("mkfs.ext4", "-q", "-F", loop);
        String oldUuid = blkid(loop, "UUID");
        String mp = tmp.resolve("mnt/used").toString();
        String before = Files.readString(fstab);
        Map<String, Object> params = params("device", loop, "fstype", "ext4", "mountpoint", mp);

        CommandException refused = refusal(new DiskInitializer(), "disk.initialize", params);

        assertThat(refused.getMessage()).contains(loop + " is not empty", "ext4", oldUuid, "Nothing was changed", "force: true");
        assertThat(blkid(loop, "UUID")).isEqualTo(oldUuid);
        assertThat(Files.exists(Path.of(loop + "p1"))).isFalse();
        assertThat(Files.readString(fstab)).isEqualTo(before);

        params.put("force", true);
        Map<String, Object> data = run(new DiskInitializer(), "disk.initialize", params);

        assertThat(blkid(loop, "TYPE")).isEmpty();
        assertThat(blkid(loop + "p1", "TYPE")).isEqualTo("ext4");
        assertThat(data.get("uuid")).isNotEqualTo(oldUuid);
        assertThat(mountedAt(mp)).isEqualTo(loop + "p1 ext4");
    }

    @Test
    void initializeRefusesAPartitionedDiskAndWithForceReplacesItsFstabLine() throws Exception {
        String loop = disks.newDisk("again", 64 * MIB);
        String mp = tmp.resolve("mnt/again").toString();
        Map<String, Object> first = run(new DiskInitializer(), "disk.initialize",
            params("device", loop, "fstype", "ext4", "mountpoint", mp));
        Sh.ok("umount", mp);
        Map<String, Object> params = params("device", loop, "fstype", "xfs", "mountpoint", mp);
        disks.grow(loop, XFS_DISK); // the second initialization makes xfs, which needs 300 MB

        CommandException refused = refusal(new DiskInitializer(), "disk.initialize", params);
        assertThat(refused.getMessage()).contains("it has partition " + loop + "p1 (ext4, UUID=" + first.get("uuid"), "force: true");

        params.put("force", true);
        Map<String, Object> second = run(new DiskInitializer(), "disk.initialize", params);

        String text = Files.readString(fstab);
        assertThat(text.lines().filter(l -> !l.startsWith("#") && l.contains(" " + mp + " ")))
            .containsExactly("UUID=" + second.get("uuid") + " " + mp + " xfs defaults,nofail 0 0");
        assertThat(text).contains("# disabled by Outpost disk.initialize")
            .contains("erased): UUID=" + first.get("uuid") + " " + mp + " ext4 defaults,nofail 0 2");
        assertThat(mountedAt(mp)).isEqualTo(loop + "p1 xfs");
        assertThat(backups()).hasSize(2);
    }

    @Test
    void initializeRefusesAMountedDiskEvenWithForce() throws Exception {
        String loop = disks.newDisk("busy", 64 * MIB);
        String mp = tmp.resolve("mnt/busy").toString();
        run(new DiskInitializer(), "disk.initialize", params("device", loop, "fstype", "ext4", "mountpoint", mp));
        String before = Files.readString(fstab);

        CommandException refused = refusal(new DiskInitializer(), "disk.initialize",
            params("device", loop, "fstype", "ext4", "mountpoint", tmp.resolve("mnt/other").toString(), "force", true));

        assertThat(refused.getMessage()).contains(loop + " is in use", loop + "p1 is mounted at " + mp, "Nothing was changed");
        assertThat(mountedAt(mp)).isEqualTo(loop + "p1 ext4");
        assertThat(Files.readString(fstab)).isEqualTo(before);
    }

    @Test
    void initializeRefusesAPartitionNamingDevice() throws Exception {
        String loop = disks.newDisk("parted", 64 * MIB);
        Sh.ok("sgdisk", "-o", "-n", "1:0:0", loop);
        Sh.ok("partx", "-u", loop);

        InvalidParamException e = catchThrowableOfType(() -> run(new DiskInitializer(), "disk.initialize",
            params("device", loop + "p1", "fstype", "ext4", "mountpoint", tmp.resolve("mnt/p").toString())),
            InvalidParamException.class);

        assertThat(e).as("initializing a partition must be refused").isNotNull();
        assertThat(e.param()).isEqualTo("device");
        assertThat(e.getMessage()).isEqualTo("param 'device' '" + loop + "p1' is a partition of " + loop
            + "; disk.initialize needs a whole disk such as " + loop);
    }

    @Test
    void initializeUsesPartedWhenSgdiskIsMissing() throws Exception {
        String loop = disks.newDisk("parted", 64 * MIB);
        String mp = tmp.resolve("mnt/parted").toString();
        DiskInitializer init = new DiskInitializer();
        init.tools = toolsWithout("sgdisk");

        Map<String, Object> data = run(init, "disk.initialize", params("device", loop, "fstype", "ext4", "mountpoint", mp));

        assertThat(data).containsEntry("partitionDevice", loop + "p1");
        assertThat(last.executed()).anySatisfy(c -> assertThat(c.get(0)).endsWith("/parted"))
            .noneSatisfy(c -> assertThat(c.get(0)).endsWith("/sgdisk"));
        assertThat(blkid(loop, "PTTYPE")).isEqualTo("gpt");
        assertThat(mountedAt(mp)).isEqualTo(loop + "p1 ext4");
    }

    @Test
    void aFailedMountTakesTheFstabLineOutAgainAndSaysWhatStateTheDiskIsIn() throws Exception {
        String loop = disks.newDisk("badopt", 64 * MIB);
        String mp = tmp.resolve("mnt/badopt").toString();
        String before = Files.readString(fstab);

        CommandException e = refusal(new DiskInitializer(), "disk.initialize",
            params("device", loop, "fstype", "ext4", "mountpoint", mp, "mountOptions", "defaults,outpost_no_such_option"));

        assertThat(e.getMessage()).startsWith("mount -t ext4 -o defaults,outpost_no_such_option,nofail " + loop + "p1 " + mp
            + " failed").contains("State: " + loop + " has a GPT label with one partition " + loop + "p1 formatted ext4 (UUID="
            + blkid(loop + "p1", "UUID") + "); mount point " + mp + " exists; not mounted;"
            + " the fstab line was taken out again (fstab restored to its previous content)");
        assertThat(Files.readString(fstab)).isEqualTo(before);
        assertThat(mountedAt(mp)).isEmpty();
    }

    static Stream<Arguments> badDevices() {
        return Stream.of(
            Arguments.of("/dev/sda; rm -rf /", "may contain only letters, digits"),
            Arguments.of("/etc/passwd", "must be a device path under /dev"),
            Arguments.of("../x", "must be a device path under /dev"),
            Arguments.of("/dev/../etc/passwd", "must not contain '.' or '..'"),
            Arguments.of("/dev/sda$(reboot)", "may contain only letters, digits"),
            Arguments.of("", "must be a device path under /dev"),
            Arguments.of("/dev/outpost-no-such-disk", "does not exist"),
            Arguments.of("/dev/null", "is not a block device"));
    }

    @ParameterizedTest(name = "device ''{0}''")
    @MethodSource("badDevices")
    void badDeviceNamesAreRejectedNamingDevice(String device, String why) throws Exception {
        for (String action : List.of("disk.initialize", "disk.extend")) {
            boolean init = action.equals("disk.initialize");
            CommandHandler h = init ? new DiskInitializer() : new DiskExtender();
            Map<String, Object> p = init ? params("device", device, "fstype", "ext4", "mountpoint", tmp.resolve("mnt/x").toString())
                : params("device", device, "partition", 1);
            InvalidParamException e = catchThrowableOfType(() -> run(h, action, p), InvalidParamException.class);
            assertThat(e).as(action + " of " + device).isNotNull();
            assertThat(e.param()).isEqualTo("device");
            assertThat(e.getMessage()).startsWith("param 'device' ").contains("'" + device + "'", why);
        }
        assertThat(Files.exists(tmp.resolve("mnt"))).isFalse();
    }

    // ---- disk.extend ----

    @Test
    void extendGrowsAMountedXfsFilesystemOnlineAndThenHasNothingToGrow() throws Exception {
        String loop = disks.newDisk("growxfs", XFS_DISK);
        String mp = tmp.resolve("mnt/growxfs").toString();
        run(new DiskInitializer(), "disk.initialize", params("device", loop, "fstype", "xfs", "mountpoint", mp));
        long dfBefore = df(mp);
        disks.grow(loop, XFS_DISK + 200 * MIB);

        Map<String, Object> data = run(new DiskExtender(), "disk.extend", params("mountpoint", mp));

        assertThat(data).containsEntry("device", loop).containsEntry("partition", 1).containsEntry("partitionDevice", loop + "p1")
            .containsEntry("fstype", "xfs").containsEntry("mountpoint", mp).containsEntry("changed", true)
            .containsEntry("oldSizeBytes", dfBefore);
        assertThat(df(mp)).isEqualTo(data.get("newSizeBytes")).isGreaterThan(dfBefore + 150 * MIB);

        Map<String, Object> again = run(new DiskExtender(), "disk.extend", params("mountpoint", mp));

        assertThat(again).containsEntry("changed", false).containsEntry("oldSizeBytes", again.get("newSizeBytes"));
        assertThat(last.output()).contains("NOCHANGE");
    }

    @Test
    void extendGrowsAnUnmountedExt4AddressedByDeviceAndPartition() throws Exception {
        String loop = disks.newDisk("growext", 64 * MIB);
        String mp = tmp.resolve("mnt/growext").toString();
        run(new DiskInitializer(), "disk.initialize", params("device", loop, "fstype", "ext4", "mountpoint", mp));
        long dfBefore = df(mp);
        Sh.ok("umount", mp);
        disks.grow(loop, 128 * MIB);

        Map<String, Object> data = run(new DiskExtender(), "disk.extend", params("device", loop, "partition", 1));

        assertThat(data).containsEntry("partition", 1).containsEntry("fstype", "ext4").containsEntry("changed", true);
        assertThat(data.get("mountpoint")).isNull();
        assertThat((Long) data.get("newSizeBytes")).isGreaterThan((Long) data.get("oldSizeBytes") + 60 * MIB);

        Map<String, Object> again = run(new DiskExtender(), "disk.extend", params("device", loop + "p1"));
        assertThat(again).containsEntry("changed", false);

        Sh.ok("mount", loop + "p1", mp);
        assertThat(df(mp)).isGreaterThan(dfBefore + 40 * MIB); // 64 MiB more disk, less ext4's metadata
    }

    // ---- dry runs ----

    /** A dry run: the same checks, nothing changed, what would be done said. */
    private Map<String, Object> dryRun(CommandHandler handler, String action, Map<String, Object> params) throws Exception {
        last = TestContext.forAction(action).params(params).setting("fstab", fstab.toString()).dryRun(true).run(handler);
        if (last.exception() instanceof Exception) throw (Exception) last.exception();
        assertThat(last.status()).as(last.toString()).isEqualTo(Status.SUCCEEDED);
        return last.dataAsMap();
    }

    @Test
    void aDryRunOfInitializeChangesNothingAndSaysWhatItWouldDo() throws Exception {
        String loop = disks.newDisk("dryinit", 64 * MIB);
        Sh.ok("mkfs.ext4", "-q", "-F", loop); // not empty: a real run would need force and erase it
        String oldUuid = blkid(loop, "UUID");
        String mp = tmp.resolve("mnt/dry").toString();
        String fstabBefore = Files.readString(fstab);

        Map<String, Object> plan = dryRun(new DiskInitializer(), "disk.initialize",
            params("device", loop, "fstype", "xfs", "mountpoint", mp, "force", true));

        assertThat(plan).containsEntry("dryRun", true).containsEntry("changed", true).containsEntry("device", loop)
            .containsEntry("partition", loop + "p1").containsEntry("fstype", "xfs");
        assertThat(plan.get("plan").toString()).contains("erase " + loop).contains("GPT partition table")
            .contains("xfs filesystem on " + loop + "p1").contains("add " + mp + " to " + fstab).contains("mount " + loop + "p1");
        assertThat(last.output()).contains("would erase " + loop);
        // nothing changed: the old filesystem, no partition table, the fstab, no mount point, nothing mounted
        assertThat(blkid(loop, "UUID")).isEqualTo(oldUuid);
        assertThat(blkid(loop, "PTTYPE")).isEmpty();
        assertThat(Files.exists(Path.of(loop + "p1"))).isFalse();
        assertThat(Files.readString(fstab)).isEqualTo(fstabBefore);
        assertThat(backups()).isEmpty();
        assertThat(Path.of(mp)).doesNotExist();
        assertThat(mountedAt(mp)).isEmpty();

        // the checks still run: without force the same dry run is refused, as the real run would be
        CommandException refused = catchThrowableOfType(() -> dryRun(new DiskInitializer(), "disk.initialize",
            params("device", loop, "fstype", "xfs", "mountpoint", mp)), CommandException.class);
        assertThat(refused.getMessage()).contains("is not empty").contains("Nothing was changed");
    }

    @Test
    void aDryRunOfExtendChangesNothingAndSaysWhatWouldGrow() throws Exception {
        String loop = disks.newDisk("dryext", 64 * MIB);
        String mp = tmp.resolve("mnt/dryext").toString();
        run(new DiskInitializer(), "disk.initialize", params("device", loop, "fstype", "ext4", "mountpoint", mp));
        Sh.ok("umount", mp); // offline: this machine may not grow a mounted ext4 (no CAP_SYS_RESOURCE)
        String part = loop + "p1";
        long partBefore = PartitionTable.sizeBytes(Path.of(part).getFileName().toString());
        String blocksBefore = ext4Blocks(part);
        disks.grow(loop, 128 * MIB);

        Map<String, Object> plan = dryRun(new DiskExtender(), "disk.extend", params("device", loop, "partition", 1));

        assertThat(plan).containsEntry("dryRun", true).containsEntry("changed", true).containsEntry("partition", 1)
            .containsEntry("fstype", "ext4");
        assertThat((Long) plan.get("newSizeBytes")).isGreaterThan((Long) plan.get("oldSizeBytes") + 60 * MIB);
        assertThat(plan.get("plan").toString()).contains("grow partition 1 of " + loop).contains("grow the ext4 filesystem");
        // nothing changed: the partition and the filesystem keep their sizes
        assertThat(PartitionTable.sizeBytes(Path.of(part).getFileName().toString())).isEqualTo(partBefore);
        assertThat(ext4Blocks(part)).isEqualTo(blocksBefore);

        // after the real run, a dry run has nothing to do
        run(new DiskExtender(), "disk.extend", params("device", loop, "partition", 1));
        Map<String, Object> again = dryRun(new DiskExtender(), "disk.extend", params("device", loop, "partition", 1));
        assertThat(again).containsEntry("changed", false);
        assertThat(again.get("plan").toString()).contains("nothing");
    }

    private static String ext4Blocks(String device) {
        return Sh.ok("dumpe2fs", "-h", device).lines().filter(l -> l.startsWith("Block count:")).findFirst().orElseThrow();
    }

    @Test
    void extendGrowsAnUnmountedXfsThroughATemporaryMount() throws Exception {
        String loop = disks.newDisk("offxfs", XFS_DISK);
        String mp = tmp.resolve("mnt/offxfs").toString();
        run(new DiskInitializer(), "disk.initialize", params("device", loop, "fstype", "xfs", "mountpoint", mp));
        long dfBefore = df(mp);
        Sh.ok("umount", mp);
        disks.grow(loop, XFS_DISK + 200 * MIB);

        Map<String, Object> data = run(new DiskExtender(), "disk.extend", params("device", loop + "p1"));

        assertThat(data).containsEntry("changed", true).containsEntry("oldSizeBytes", dfBefore);
        assertThat(data.get("mountpoint")).isNull();
        assertThat(last.output()).contains("$ xfs_growfs ").contains("$ umount ");
        assertThat(mountedAt(mp)).isEmpty();
        Sh.ok("mount", loop + "p1", mp);
        assertThat(df(mp)).isEqualTo(data.get("newSizeBytes")).isGreaterThan(dfBefore + 150 * MIB);
    }

    @Test
    void extendGrowsAFilesystemOnAWholeDiskWithoutPartitions() throws Exception {
        String loop = disks.newDisk("whole", 64 * MIB);
        Sh.ok("mkfs.ext4", "-q", "-F", loop);
        disks.grow(loop, 128 * MIB);

        Map<String, Object> data = run(new DiskExtender(), "disk.extend", params("device", loop));

        assertThat(data).containsEntry("device", loop).containsEntry("partition", null).containsEntry("changed", true)
            .containsEntry("newSizeBytes", 128 * MIB).containsEntry("oldSizeBytes", 64 * MIB);
        assertThat(last.output()).doesNotContain("growpart");
    }

    @Test
    void extendOfAMountedExt4WithoutCapSysResourceIsRefusedBeforeAnythingChanges() throws Exception {
        String loop = disks.newDisk("nocap", 64 * MIB);
        String mp = tmp.resolve("mnt/nocap").toString();
        run(new DiskInitializer(), "disk.initialize", params("device", loop, "fstype", "ext4", "mountpoint", mp));
        disks.grow(loop, 128 * MIB);
        long partBefore = PartitionTable.sizeBytes(loop + "p1");
        DiskExtender extender = new DiskExtender();
        extender.capabilities = cap -> cap != Capabilities.CAP_SYS_RESOURCE;

        CommandException e = refusal(extender, "disk.extend", params("mountpoint", mp));

        assertThat(e.getMessage()).contains("mounted ext4 filesystem on " + loop + "p1", "CAP_SYS_RESOURCE", "Nothing was changed");
        assertThat(PartitionTable.sizeBytes(loop + "p1")).isEqualTo(partBefore);
    }

    @Test
    void extendOfAMountedExt4DoesWhatThisProcessesCapabilitiesAllow() throws Exception {
        // online ext4 resize needs CAP_SYS_RESOURCE (containers often drop it): with it the filesystem grows,
        // without it the real capability check refuses; each run asserts the branch its machine allows
        String loop = disks.newDisk("online", 64 * MIB);
        String mp = tmp.resolve("mnt/online").toString();
        run(new DiskInitializer(), "disk.initialize", params("device", loop, "fstype", "ext4", "mountpoint", mp));
        long dfBefore = df(mp);
        disks.grow(loop, 128 * MIB);
        long partBefore = PartitionTable.sizeBytes(loop + "p1");

        if (Capabilities.effective(Capabilities.CAP_SYS_RESOURCE)) {
            Map<String, Object> data = run(new DiskExtender(), "disk.extend", params("device", loop));
            assertThat(data).containsEntry("changed", true).containsEntry("mountpoint", mp);
            assertThat(df(mp)).isGreaterThan(dfBefore + 40 * MIB);
        } else {
            System.out.println("this process lacks CAP_SYS_RESOURCE: checking that online ext4 growth is refused");
            CommandException e = refusal(new DiskExtender(), "disk.extend", params("device", loop));
            assertThat(e.getMessage()).contains("CAP_SYS_RESOURCE", "Nothing was changed");
            assertThat(PartitionTable.sizeBytes(loop + "p1")).isEqualTo(partBefore);
        }
    }

    @Test
    void extendRefusesAPartitionWithoutAFilesystem() throws Exception {
        String loop = disks.newDisk("empty", 64 * MIB);
        Sh.ok("sgdisk", "-o", "-n", "1:0:0", loop);
        Sh.ok("partx", "-u", loop);

        CommandException e = refusal(new DiskExtender(), "disk.extend", params("device", loop));

        assertThat(e.getMessage()).isEqualTo(loop + "p1 holds no filesystem that blkid recognises;"
            + " disk.extend grows ext2, ext3, ext4 and xfs. Nothing was changed.");
    }

    @Test
    void extendParamsMustNameOneTarget() throws Exception {
        Path notMounted = Files.createDirectories(tmp.resolve("plain"));
        Object[][] cases = {
            {params(), "device", "param 'device' is required (or give 'mountpoint' instead)"},
            {params("device", "/dev/loop0", "mountpoint", "/data"), "mountpoint", "cannot be combined with 'device'"},
            {params("mountpoint", "/data", "partition", 1), "partition", "goes with 'device'"},
            {params("mountpoint", notMounted.toString()), "mountpoint", "'" + notMounted + "' is not a mount point"},
            {params("mountpoint", "data"), "mountpoint", "must be an absolute path"},
            {params("device", "/dev/loop0", "partition", 0), "partition", "must be 1..1024, got 0"},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Map<String, Object> p = (Map<String, Object>) c[0];
            InvalidParamException e = catchThrowableOfType(() -> run(new DiskExtender(), "disk.extend", p),
                InvalidParamException.class);
            assertThat(e).as("disk.extend " + p).isNotNull();
            assertThat(e.param()).as("disk.extend " + p).isEqualTo(c[1]);
            assertThat(e.getMessage()).contains((String) c[2]);
        }
    }

    // ---- disk.list ----

    @Test
    @SuppressWarnings("unchecked")
    void listShowsTheLoopDeviceWithItsPartitionFilesystemAndMountPoint() throws Exception {
        String loop = disks.newDisk("listed", 64 * MIB);
        String mp = tmp.resolve("mnt/listed").toString();
        Map<String, Object> init = run(new DiskInitializer(), "disk.initialize",
            params("device", loop, "fstype", "ext4", "mountpoint", mp, "label", "listed"));

        Map<String, Object> data = run(new DiskLister(), "disk.list", params());

        List<Map<String, Object>> devices = (List<Map<String, Object>>) data.get("devices");
        Map<String, Object> disk = devices.stream().filter(d -> loop.equals(d.get("path"))).findFirst().orElse(null);
        assertThat(disk).as("disk.list entry for " + loop + " in " + devices).isNotNull();
        assertThat(disk).containsEntry("type", "loop").containsEntry("sizeBytes", 64 * MIB).containsEntry("partitionTable", "gpt")
            .containsEntry("mountpoint", null);
        List<Map<String, Object>> parts = (List<Map<String, Object>>) disk.get("partitions");
        assertThat(parts).singleElement().satisfies(p -> {
            assertThat(p).containsEntry("path", loop + "p1").containsEntry("type", "part").containsEntry("partitionNumber", 1)
                .containsEntry("fstype", "ext4").containsEntry("uuid", init.get("uuid")).containsEntry("label", "listed")
                .containsEntry("mountpoint", mp).containsEntry("mountpoints", List.of(mp));
            Map<String, Object> usage = (Map<String, Object>) p.get("usage");
            assertThat(usage).isNotNull();
            assertThat((Long) usage.get("totalBytes")).isEqualTo(df(mp)).isGreaterThan(40 * MIB);
            assertThat((Long) usage.get("usedBytes")).isPositive();
            assertThat((Long) usage.get("availableBytes")).isPositive();
        });
    }

    // ---- helpers ----

    /** Runs the action through the test kit: the agent's own context; a handler's exception is thrown again. */
    private Map<String, Object> run(CommandHandler handler, String action, Map<String, Object> params) throws Exception {
        last = TestContext.forAction(action).params(params).setting("fstab", fstab.toString()).run(handler);
        if (last.exception() instanceof Exception) throw (Exception) last.exception();
        assertThat(last.status()).as(last.toString()).isEqualTo(Status.SUCCEEDED);
        return last.dataAsMap();
    }

    private CommandException refusal(CommandHandler handler, String action, Map<String, Object> params) {
        CommandException e = catchThrowableOfType(() -> run(handler, action, params), CommandException.class);
        assertThat(e).as(action + " " + params + " must be refused; " + last).isNotNull();
        assertThat(last.status()).as(last.toString()).isEqualTo(e instanceof InvalidParamException ? Status.REJECTED : Status.FAILED);
        return e;
    }

    /** The system's tools, minus some: a directory of links to all the others. */
    private Tools toolsWithout(String... missing) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Tools system = Tools.fromEnvironment();
        List<String> all = List.of("lsblk", "blkid", "wipefs", "partx", "blockdev", "sgdisk", "parted", "mkfs.ext4",
            "mkfs.xfs", "mount", "umount", "losetup", "growpart", "resize2fs", "e2fsck", "dumpe2fs", "xfs_growfs");
        for (String t : all) {
            if (List.of(missing).contains(t)) continue;
            Path target = system.find(t).orElseThrow(() -> new AssertionError("the test needs " + t));
            Files.createSymbolicLink(bin.resolve(t), target);
        }
        return new Tools(List.of(bin));
    }

    private static Map<String, Object> params(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** @return a tag as blkid's low-level probe sees it, "" if absent */
    private static String blkid(String device, String tag) {
        return Sh.run("blkid", "-p", "-o", "value", "-s", tag, device).out.strip();
    }

    /** @return "SOURCE FSTYPE" of what is mounted at the path, "" if nothing */
    private static String mountedAt(String mp) {
        return Sh.run("findmnt", "-n", "-o", "SOURCE,FSTYPE", "--mountpoint", mp).out.strip().replaceAll("\\s+", " ");
    }

    private static long df(String mp) throws Exception {
        return Files.getFileStore(Path.of(mp)).getTotalSpace();
    }

    private List<Path> backups() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(p -> p.getFileName().toString().matches("fstab\\.outpost-\\d{8}T\\d{6}Z(-\\d+)?\\.bak")).toList();
        }
    }
}
