package plugin.disk.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import agent.api.CommandException;

/** The kernel's mount table of this process ({@code /proc/self/mountinfo}), read fresh for every question. */
final class MountTable {
    /** One mounted filesystem. {@code majMin} is the device number, {@code root} the mounted subtree ("/" unless a bind mount). */
    record Mount(String majMin, String root, String mountPoint, String fstype, String source) {}

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final List<Mount> mounts;

    MountTable(List<Mount> mounts) { this.mounts = List.copyOf(mounts); }

    /** @return the current mount table @throws CommandException if it cannot be read */
    static MountTable read() throws CommandException {
        try {
            return parse(Files.readString(MOUNTINFO));
        } catch (IOException e) {
            throw new CommandException("cannot read the mount table " + MOUNTINFO + ": " + e.getMessage(), e);
        }
    }

    /** @param mountinfo text in the format of proc(5) mountinfo @return the table */
    static MountTable parse(String mountinfo) {
        List<Mount> list = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            String[] f = line.trim().split(" ");
            int sep = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) { sep = i; break; }
            }
            if (f.length < 7 || sep < 0 || sep + 2 >= f.length) continue;
            list.add(new Mount(f[2], unescape(f[3]), unescape(f[4]), unescape(f[sep + 1]), unescape(f[sep + 2])));
        }
        return new MountTable(list);
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes (\040 ...). */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** @return every mount */
    List<Mount> all() { return mounts; }

    /**
     * The mount points of a block device: matched by device number, or by source path for filesystems
     * such as btrfs whose mounts carry an anonymous device number. The whole-filesystem mount comes first.
     */
    List<String> mountPointsOf(String majMin, String devicePath) {
        List<String> whole = new ArrayList<>();
        List<String> binds = new ArrayList<>();
        for (Mount m : mounts) {
            if (m.majMin().equals(majMin) || (devicePath != null && samePath(m.source(), devicePath))) {
                List<String> target = m.root().equals("/") ? whole : binds;
                if (!target.contains(m.mountPoint())) target.add(m.mountPoint());
            }
        }
        whole.addAll(binds);
        return whole;
    }

    /** @return the filesystem type the kernel mounted from the device, or null if it is not mounted */
    String fstypeOf(String majMin, String devicePath) {
        for (Mount m : mounts) {
            if (m.majMin().equals(majMin) || (devicePath != null && samePath(m.source(), devicePath))) return m.fstype();
        }
        return null;
    }

    /** @param mountPoint an absolute, normalised path @return the topmost mount at exactly that path */
    Optional<Mount> at(String mountPoint) {
        Mount found = null;
        for (Mount m : mounts) {
            if (m.mountPoint().equals(mountPoint)) found = m; // later lines are mounted over earlier ones
        }
        return Optional.ofNullable(found);
    }

    private static boolean samePath(String source, String devicePath) {
        if (!source.startsWith("/dev/")) return false;
        if (source.equals(devicePath)) return true;
        try {
            return Path.of(source).toRealPath().equals(Path.of(devicePath).toRealPath());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
