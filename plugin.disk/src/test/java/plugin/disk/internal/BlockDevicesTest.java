package plugin.disk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import agent.api.CommandException;

class BlockDevicesTest {

    /** util-linux 2.38 prints numbers and booleans; a warning on stderr may come first (the agent merges it). */
    private static final String LSBLK_NEW = "lsblk: dm-7: failed to get device path\n{\n"
        + "   \"blockdevices\": [\n"
        + "      {\"name\": \"/dev/vda\", \"kname\": \"/dev/vda\", \"maj:min\": \"254:0\", \"type\": \"disk\", \"size\": 274877906944,"
        + " \"ro\": false, \"model\": null, \"serial\": \"  S123  \", \"fstype\": null, \"uuid\": null, \"label\": null,\n"
        + "         \"children\": [\n"
        + "            {\"name\": \"/dev/vda1\", \"kname\": \"/dev/vda1\", \"maj:min\": \"254:1\", \"type\": \"part\", \"size\": 1048576,"
        + " \"ro\": false, \"model\": null, \"serial\": null, \"fstype\": \"ext4\", \"uuid\": \"abcd\", \"label\": \"r\\u00e9\"}\n"
        + "         ]\n"
        + "      }\n"
        + "   ]\n"
        + "}\n";

    /** util-linux before 2.33 prints every value as a string. */
    private static final String LSBLK_OLD = "{\"blockdevices\": [{\"name\": \"/dev/sda\", \"kname\": \"/dev/sda\","
        + " \"maj:min\": \"8:0\", \"type\": \"disk\", \"size\": \"10737418240\", \"ro\": \"1\", \"model\": \"QEMU HARDDISK   \","
        + " \"serial\": null, \"fstype\": null, \"uuid\": null, \"label\": null}]}";

    @Test
    void lsblkJsonBecomesATreeWithParents() throws Exception {
        List<BlockDevice> roots = BlockDevices.parseLsblk(LSBLK_NEW);

        assertThat(roots).singleElement().satisfies(vda -> {
            assertThat(vda.path).isEqualTo("/dev/vda");
            assertThat(vda.sizeBytes).isEqualTo(274877906944L);
            assertThat(vda.serial).isEqualTo("S123");
            assertThat(vda.isWholeDisk()).isTrue();
            assertThat(vda.partitions()).singleElement().satisfies(p -> {
                assertThat(p.parent).isSameAs(vda);
                assertThat(p.fstype).isEqualTo("ext4");
                assertThat(p.label).isEqualTo("ré");
                assertThat(p.majMin).isEqualTo("254:1");
            });
        });
    }

    @Test
    void oldLsblkStringValuesAreRead() throws Exception {
        BlockDevice sda = BlockDevices.parseLsblk(LSBLK_OLD).get(0);

        assertThat(sda.sizeBytes).isEqualTo(10737418240L);
        assertThat(sda.readOnly).isTrue();
        assertThat(sda.model).isEqualTo("QEMU HARDDISK");
    }

    @Test
    void outputThatIsNotLsblkJsonIsAnErrorQuotingIt() {
        assertThatThrownBy(() -> BlockDevices.parseLsblk("lsblk: unknown column: MAJ:MIN\n"))
            .isInstanceOf(CommandException.class).hasMessageContaining("cannot read lsblk's output")
            .hasMessageContaining("unknown column");
        assertThatThrownBy(() -> BlockDevices.parseLsblk("{\"blockdevices\": [ {\"name\": }]}"))
            .isInstanceOf(CommandException.class).hasMessageContaining("bad JSON at offset");
    }

    @Test
    void blkidExportBlocksAreKeyedByDevice() {
        Map<String, Map<String, String>> tags = BlockDevices.parseExport(
            "DEVNAME=/dev/loop0\nPTUUID=aa\nPTTYPE=gpt\n\nDEVNAME=/dev/loop0p1\nUUID=bb\nLABEL=my\\ disk\nTYPE=ext4\n");

        assertThat(tags).containsOnlyKeys("/dev/loop0", "/dev/loop0p1");
        assertThat(tags.get("/dev/loop0")).containsEntry("PTTYPE", "gpt");
        assertThat(tags.get("/dev/loop0p1")).containsEntry("TYPE", "ext4").containsEntry("LABEL", "my disk");
    }

    @Test
    void deviceNumbersAreDecodedAsGlibcEncodesThem() {
        assertThat(BlockDevices.majMin(65024)).isEqualTo("254:0");
        assertThat(BlockDevices.majMin((259L << 8) | 3)).isEqualTo("259:3");
        // minor 300 does not fit the old 8 bits: glibc puts its high bits above the major
        assertThat(BlockDevices.majMin((7L << 8) | (300 & 0xff) | ((300L & ~0xffL) << 12))).isEqualTo("7:300");
    }

    @Test
    void mountinfoIsReadWithEscapesAndBindMountsLast() {
        MountTable t = MountTable.parse(
            "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
                + "40 22 7:1 /sub /srv/bind rw - ext4 /dev/loop0p1 rw\n"
                + "41 22 7:1 / /mnt/my\\040data rw shared:5 - ext4 /dev/loop0p1 rw\n"
                + "42 22 0:45 / /mnt/btrfs rw - btrfs /dev/nonexistent-src rw\n");

        assertThat(t.mountPointsOf("7:1", "/dev/loop0p1")).containsExactly("/mnt/my data", "/srv/bind");
        assertThat(t.at("/mnt/my data")).get().extracting(MountTable.Mount::fstype).isEqualTo("ext4");
        assertThat(t.at("/mnt")).isEmpty();
        assertThat(t.mountPointsOf("254:0", "/dev/vda")).containsExactly("/");
    }
}
