package plugin.package_.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kernel in use against the installed ones, on temp directories laid out as /boot and /lib/modules are. */
class RebootTest {
    @TempDir
    Path tmp;

    @Test
    void aNewerInstalledKernelMeansAReboot() throws Exception {
        Path boot = Files.createDirectories(tmp.resolve("boot"));
        Files.createFile(boot.resolve("vmlinuz-6.1.0-18-amd64"));
        Files.createFile(boot.resolve("vmlinuz-6.1.0-21-amd64"));
        Files.createFile(boot.resolve("config-6.1.0-21-amd64"));
        assertThat(Reboot.byKernel("6.1.0-18-amd64", List.of(boot), Versions.DEBIAN))
            .isEqualTo(new Reboot(true, "the kernel in use is 6.1.0-18-amd64, the newest installed is 6.1.0-21-amd64"));
        assertThat(Reboot.byKernel("6.1.0-21-amd64", List.of(boot), Versions.DEBIAN)).isEqualTo(Reboot.no());
    }

    @Test
    void modulesDirectoriesCountAndNothingInstalledMeansNoReboot() throws Exception {
        Path modules = Files.createDirectories(tmp.resolve("modules"));
        Files.createDirectories(modules.resolve("5.14.0-362.18.1.el9_3.x86_64/kernel"));
        Files.createDirectories(modules.resolve("5.14.0-362.24.1.el9_3.x86_64/kernel"));
        Files.createDirectories(modules.resolve("not-a-kernel"));
        assertThat(Reboot.byKernel("5.14.0-362.18.1.el9_3.x86_64", List.of(modules), Versions.RPM).required()).isTrue();
        assertThat(Reboot.byKernel("6.18.44-fc-v782", List.of(tmp.resolve("none")), Versions.DEBIAN)).isEqualTo(Reboot.no());
    }
}
