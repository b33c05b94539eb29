package plugin.disk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.CommandException;

class FstabTest {
    private static final Instant NOW = Instant.parse("2026-11-24T16:00:00Z");
    private static final String ORIGINAL = "# /etc/fstab\n"
        + "UUID=1111 / ext4 errors=remount-ro 0 1\n"
        + "\n"
        + "/dev/sdb1\t/srv/old\text4 defaults 0 2\n"
        + "LABEL=x /mnt/with\\040space xfs defaults 0 0\n";

    @TempDir
    Path tmp;

    @Test
    void entriesSkipCommentsAndUnescapeFields() throws Exception {
        Path f = Files.writeString(tmp.resolve("fstab"), ORIGINAL);

        List<Fstab.Entry> entries = Fstab.read(f).entries();

        assertThat(entries).extracting(Fstab.Entry::spec).containsExactly("UUID=1111", "/dev/sdb1", "LABEL=x");
        assertThat(entries).extracting(Fstab.Entry::file).containsExactly("/", "/srv/old", "/mnt/with space");
        assertThat(Fstab.read(f).at("/srv/old")).singleElement().extracting(Fstab.Entry::line).isEqualTo(3);
    }

    @Test
    void writeReplacesTheFileAtomicallyKeepingTheOldOneAsABackupWithItsMode() throws Exception {
        Path f = Files.writeString(tmp.resolve("fstab"), ORIGINAL);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        Fstab fstab = Fstab.read(f);
        fstab.commentOut(fstab.at("/srv/old").get(0), "disabled for a test");
        fstab.append("UUID=2222 /data ext4 defaults,nofail 0 2");

        Path backup = fstab.write(NOW);

        assertThat(backup).isEqualTo(tmp.resolve("fstab.outpost-20261124T160000Z.bak"));
        assertThat(Files.readString(backup)).isEqualTo(ORIGINAL);
        assertThat(Files.readString(f)).isEqualTo(ORIGINAL.replace("/dev/sdb1\t", "# disabled for a test: /dev/sdb1\t")
            + "UUID=2222 /data ext4 defaults,nofail 0 2\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r-----");
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left).as("no temp file is left behind").hasSize(2);
        }
    }

    @Test
    void aSecondWriteInTheSameSecondKeepsBothBackups() throws Exception {
        Path f = Files.writeString(tmp.resolve("fstab"), ORIGINAL);

        Path first = Fstab.write(f, "one\n", NOW);
        Path second = Fstab.write(f, "two\n", NOW);

        assertThat(first).isNotEqualTo(second);
        assertThat(Files.readString(first)).isEqualTo(ORIGINAL);
        assertThat(Files.readString(second)).isEqualTo("one\n");
        assertThat(Files.readString(f)).isEqualTo("two\n");
    }

    @Test
    void aMissingFileIsCreatedWorldReadableWithoutBackup() throws Exception {
        Path f = tmp.resolve("fstab");
        Fstab fstab = Fstab.read(f);
        assertThat(fstab.entries()).isEmpty();
        fstab.append("UUID=3333 /data xfs defaults,nofail 0 0");

        assertThat(fstab.write(NOW)).isNull();

        assertThat(Files.readString(f)).isEqualTo("UUID=3333 /data xfs defaults,nofail 0 0\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r--r--");
    }

    @Test
    void aSymlinkedFstabIsReplacedAtItsTarget() throws Exception {
        Path real = Files.writeString(tmp.resolve("fstab.real"), ORIGINAL);
        Path link = Files.createSymbolicLink(tmp.resolve("fstab"), real.getFileName());

        Fstab.write(link, "new\n", NOW);

        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.readString(real)).isEqualTo("new\n");
    }

    @Test
    void theLocationComesFromTheDiskSettings() throws Exception {
        // as the agent maps the "disk" section onto DiskSettings (checked when it starts)
        agent.testkit.Outcome none = agent.testkit.TestContext.forAction("disk.list").run(ctx -> ctx.settings(DiskSettings.class).fstab().toString());
        assertThat(none.data()).isEqualTo("/etc/fstab");
        agent.testkit.Outcome set = agent.testkit.TestContext.forAction("disk.list").setting("fstab", "/tmp/x/fstab")
            .run(ctx -> ctx.settings(DiskSettings.class).fstab().toString());
        assertThat(set.data()).isEqualTo("/tmp/x/fstab");
        agent.testkit.Outcome relative = agent.testkit.TestContext.forAction("disk.list").setting("fstab", "relative/fstab")
            .run(ctx -> ctx.settings(DiskSettings.class));
        assertThat(relative.errorCode()).isEqualTo(agent.api.ErrorCode.INVALID_SETTINGS);
        assertThat(relative.error()).startsWith("config key 'disk.fstab' must be an absolute path, got 'relative/fstab'");
    }
}
