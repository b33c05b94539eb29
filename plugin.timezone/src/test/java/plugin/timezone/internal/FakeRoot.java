package plugin.timezone.internal;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A root directory for the actions to work in: {@code etc/} and a zoneinfo database holding copies of a few of
 * the host's real zone files (and its {@code zone.tab}, which is not a zone).
 */
final class FakeRoot {
    static final Path HOST_ZONEINFO = Path.of("/usr/share/zoneinfo");
    static final List<String> ZONES = List.of("Europe/Paris", "America/New_York", "Asia/Kolkata", "Etc/UTC", "UTC");

    final Path root;
    final Path etc;
    final Path zoneinfo;

    FakeRoot(Path root) throws IOException {
        this.root = root;
        this.etc = Files.createDirectories(root.resolve("etc"));
        this.zoneinfo = Files.createDirectories(root.resolve(HostZone.ZONEINFO));
        for (String z : ZONES) {
            Path src = HOST_ZONEINFO.resolve(z);
            if (!Files.isRegularFile(src)) {
                fail("these tests copy zone files from the host's zoneinfo database, but " + src
                    + " is missing: install the tzdata package");
            }
            Path dst = zoneinfo.resolve(z);
            Files.createDirectories(dst.getParent());
            Files.copy(src, dst);
        }
        Files.createDirectories(zoneinfo.resolve("posix/Asia"));
        Files.copy(HOST_ZONEINFO.resolve("Asia/Kolkata"), zoneinfo.resolve("posix/Asia/Kolkata"));
        Files.writeString(zoneinfo.resolve("zone.tab"), "# not a zone file\nFR\t+4852+00220\tEurope/Paris\n");
    }

    /** /etc/localtime → a link, as Debian and systemd make it */
    FakeRoot link(String target) throws IOException {
        Files.deleteIfExists(etc.resolve("localtime"));
        Files.createSymbolicLink(etc.resolve("localtime"), Path.of(target));
        return this;
    }

    /** /etc/localtime → a copy of the zone's file, as some container images have it */
    FakeRoot copy(String zone) throws IOException {
        Files.deleteIfExists(etc.resolve("localtime"));
        Files.copy(zoneinfo.resolve(zone), etc.resolve("localtime"));
        return this;
    }

    FakeRoot etcTimezone(String content) throws IOException {
        Files.writeString(etc.resolve("timezone"), content);
        return this;
    }

    /** Makes the root look like a host where systemd is PID 1, with this script as its timedatectl. */
    FakeRoot systemd(String timedatectlScript) throws IOException {
        Files.createDirectories(root.resolve("proc/1"));
        Files.writeString(root.resolve("proc/1/comm"), "systemd\n");
        if (timedatectlScript != null) {
            Path bin = Files.createDirectories(root.resolve("usr/bin"));
            Path t = Files.writeString(bin.resolve("timedatectl"), timedatectlScript);
            Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return this;
    }

    String linkTarget() throws IOException { return Files.readSymbolicLink(etc.resolve("localtime")).toString(); }

    String etcTimezone() throws IOException { return Files.readString(etc.resolve("timezone")); }
}
