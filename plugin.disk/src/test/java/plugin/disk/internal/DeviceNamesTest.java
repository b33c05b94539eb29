package plugin.disk.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import agent.api.InvalidParamException;

class DeviceNamesTest {

    @ParameterizedTest(name = "{0} partition {1} is {2}")
    @CsvSource({
        "/dev/sda, 1, /dev/sda1",
        "/dev/xvdb, 2, /dev/xvdb2",
        "/dev/vdc, 1, /dev/vdc1",
        "/dev/loop0, 1, /dev/loop0p1",
        "/dev/loop12, 3, /dev/loop12p3",
        "/dev/nvme0n1, 1, /dev/nvme0n1p1",
        "/dev/mmcblk0, 2, /dev/mmcblk0p2",
        "/dev/md127, 1, /dev/md127p1"})
    void partitionNamesFollowTheKernelsRule(String disk, int n, String expected) {
        assertThat(DeviceNames.partition(disk, n)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/dev/sda", "/dev/nvme0n1", "/dev/loop7", "/dev/disk/by-id/virtio-abc_123",
        "/dev/disk/by-path/pci-0000:00:04.0", "/dev/mapper/vg0-data"})
    void plainDevicePathsPass(String device) throws Exception {
        assertThat(DeviceNames.device("device", device)).isEqualTo(device);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/dev/sda; rm -rf /|may contain only letters, digits",
        "/dev/sda`id`|may contain only letters, digits",
        "/dev/sd a|may contain only letters, digits",
        "/dev/|may contain only letters, digits",
        "/etc/passwd|must be a device path under /dev",
        "dev/sda|must be a device path under /dev",
        "../x|must be a device path under /dev",
        "/dev/../etc/shadow|must not contain '.' or '..'",
        "/dev/./sda|must not contain '.' or '..'"})
    void unsafeDevicePathsAreRejectedNamingTheParam(String device, String why) {
        assertThatThrownBy(() -> DeviceNames.device("device", device)).isInstanceOf(InvalidParamException.class)
            .hasMessageStartingWith("param 'device' ").hasMessageContaining(why).hasMessageContaining("'" + device + "'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "data|must be an absolute path",
        "/data/|must be a normalised path",
        "/srv/../etc|must be a normalised path",
        "/srv//data|must be a normalised path",
        "/my data|may contain only",
        "/data\\040x|may contain only",
        "/data#1|may contain only"})
    void badMountPointsAreRejectedNamingTheParam(String mp, String why) {
        assertThatThrownBy(() -> DeviceNames.mountPoint("mountpoint", mp)).isInstanceOf(InvalidParamException.class)
            .hasMessageStartingWith("param 'mountpoint' ").hasMessageContaining(why);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/data", "/srv/data-1", "/var/lib/docker", "/mnt/disk_2.old"})
    void plainMountPointsPass(String mp) throws Exception {
        assertThat(DeviceNames.mountPoint("mountpoint", mp)).isEqualTo(mp);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bad\nline", "tab\there"})
    void controlCharactersAreEscapedInMessages(String value) {
        assertThatThrownBy(() -> DeviceNames.device("device", value)).hasMessageNotContaining("\n")
            .hasMessageNotContaining("\t").hasMessageContaining("\\x");
    }
}
