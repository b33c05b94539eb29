package plugin.disk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import agent.api.CommandException;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

class ToolsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}: {1} / {2}")
    @CsvSource({
        "growpart, cloud-guest-utils, cloud-utils-growpart",
        "sgdisk, gdisk, gdisk",
        "parted, parted, parted",
        "mkfs.xfs, xfsprogs, xfsprogs",
        "xfs_growfs, xfsprogs, xfsprogs",
        "mkfs.ext4, e2fsprogs, e2fsprogs",
        "resize2fs, e2fsprogs, e2fsprogs",
        "lsblk, util-linux, util-linux",
        "blkid, util-linux, util-linux",
        "wipefs, util-linux, util-linux",
        "mount, mount, util-linux"})
    void aMissingToolNamesItsPackageOnDebianAndOnRhel(String tool, String debian, String rhel) {
        Tools none = new Tools(List.of(tmp));

        CommandException e = catchThrowableOfType(() -> none.require(tool), CommandException.class);

        assertThat(e.getMessage()).isEqualTo(tool + " is not installed (looked in " + tmp + "): install package " + debian
            + " (Debian/Ubuntu) or " + rhel + " (RHEL-like)");
    }

    @Test
    void aFailedToolIsQuotedByTheLineThatSaysWhyNotItsUsage() {
        String mkfs = "Filesystem must be larger than 300MB.\nUsage: mkfs.xfs\n/* blocksize */\t\t[-b size=num]\n"
            + "/* config file */\t[-c options=xxx]\n/* metadata */\t\t[-m crc=0|1]\n/* data subvol */\t[-d agcount=n]\n";
        agent.api.CommandException e = Tools.failed("mkfs.xfs", new String[] {"-f", "/dev/loop3p1"}, new agent.api.ProcessResult(1, mkfs));
        assertThat(e.getMessage()).isEqualTo("mkfs.xfs -f /dev/loop3p1 failed with exit code 1: Filesystem must be larger than 300MB.");
        assertThat(Text.why("line one\nit went wrong\n", 4)).isEqualTo("line one | it went wrong");
    }

    @Test
    void toolsAreFoundInTheGivenDirectoriesInOrderAndMustBeExecutable() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(a.resolve("growpart"), "not executable");
        Path exe = Files.writeString(b.resolve("growpart"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));

        assertThat(new Tools(List.of(a, b)).find("growpart")).contains(exe);
    }

    @Test
    void theSbinDirectoriesAreSearchedEvenWhenPathLacksThem() {
        // a systemd service's PATH may lack them; the lookup adds them after PATH
        assertThat(Tools.fromEnvironment().find("blkid")).isPresent();
    }

    @Test
    void anActionWithoutItsToolsFailsBeforeDoingAnything() throws Exception {
        DiskInitializer init = new DiskInitializer();
        init.tools = new Tools(List.of(tmp));
        Outcome o = TestContext.forAction("disk.initialize").params(Map.of("device", "/dev/loop0", "fstype", "xfs",
            "mountpoint", "/data")).setting("fstab", tmp.resolve("fstab").toString()).run(init);

        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.exception()).isInstanceOf(CommandException.class);
        assertThat(o.error()).startsWith("lsblk is not installed").contains("util-linux");
        assertThat(o.executed()).isEmpty();
    }
}
