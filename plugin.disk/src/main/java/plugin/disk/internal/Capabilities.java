package plugin.disk.internal;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Linux capabilities of the agent's process. Being root is not enough: a container or a systemd unit
 * can drop capabilities, and growing a mounted filesystem fails with a bare "Permission denied" then.
 */
final class Capabilities {
    /** Needed by the ext4 online resize ioctl. */
    static final int CAP_SYS_RESOURCE = 24;
    /** Needed by mount and by the XFS grow ioctl. */
    static final int CAP_SYS_ADMIN = 21;

    private Capabilities() {}

    /** @param cap a capability number @return whether this process has it in its effective set (true if unknown) */
    static boolean effective(int cap) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) return new BigInteger(line.substring(7).trim(), 16).testBit(cap);
            }
        } catch (IOException | NumberFormatException e) {
            // fall through: let the tool itself report the problem
        }
        return true;
    }

    /** @param cap a capability number @return its name */
    static String name(int cap) {
        return cap == CAP_SYS_RESOURCE ? "CAP_SYS_RESOURCE" : cap == CAP_SYS_ADMIN ? "CAP_SYS_ADMIN" : "capability " + cap;
    }
}
