package agent.core.internal.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The distribution's name from /etc/os-release, for hello. */
public final class OsRelease {
    private OsRelease() {}

    /** @return PRETTY_NAME of /etc/os-release, or "unknown" */
    public static String prettyName() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (line.startsWith("PRETTY_NAME=")) return line.substring(12).replace("\"", "");
            }
        } catch (IOException | SecurityException e) {
            // not a systemd-era distribution: fall through
        }
        return "unknown";
    }
}
