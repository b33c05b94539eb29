package plugin.health.internal;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mounted real filesystems, from {@code /proc/self/mountinfo}, with their sizes (statfs, through the JDK's
 * {@link FileStore}) and, for ext2/3/4, their inode counts ({@link Ext4Inodes}).
 *
 * <p>Real means: a filesystem type that needs a block device ({@code /proc/filesystems} without {@code nodev}), plus
 * overlay and zfs, which hold data without one. Left out on purpose: memory filesystems (tmpfs, devtmpfs), pseudo
 * filesystems (proc, sysfs, cgroup), network filesystems (statfs on a hard NFS mount whose server is gone blocks the
 * caller for good, and the one health thread with it), and the read-only image formats squashfs and erofs (an Ubuntu
 * host mounts one per snap, each always 100 % full). A device mounted several times (bind mounts) is listed once, at
 * its shortest mount point of the whole filesystem.
 */
final class Filesystems {
    record Mount(String majMin, String root, String mountPoint, String fstype, String source, boolean readOnly) {}

    private static final Set<String> DATA_WITHOUT_DEVICE = Set.of("overlay", "zfs");
    private static final Set<String> IMAGES = Set.of("squashfs", "erofs");
    private static final Set<String> EXT = Set.of("ext2", "ext3", "ext4");

    private final HostFiles host;
    private final Ext4Inodes ext4 = new Ext4Inodes();
    /** device path per major:minor, found once: looking it up means reading sysfs and stat-ing /dev */
    private final Map<String, Path> devices = new HashMap<>();

    Filesystems(HostFiles host) { this.host = host; }

    /** @return the real filesystems mounted now, one per device */
    List<Mount> mounted() {
        String info = host.read("/proc/self/mountinfo");
        if (info == null) return List.of();
        Set<String> real = realTypes();
        Map<String, Mount> byDevice = new LinkedHashMap<>();
        for (Mount m : parse(info)) {
            if (!real.contains(m.fstype()) || IMAGES.contains(m.fstype())) continue;
            // overlay mounts all carry anonymous device numbers; each is its own filesystem
            String key = m.fstype().equals("overlay") ? m.majMin() + " " + m.mountPoint() : m.majMin();
            Mount seen = byDevice.get(key);
            if (seen == null || better(m, seen)) byDevice.put(key, m);
        }
        return new ArrayList<>(byDevice.values());
    }

    private static boolean better(Mount m, Mount seen) {
        boolean whole = m.root().equals("/");
        boolean seenWhole = seen.root().equals("/");
        if (whole != seenWhole) return whole;
        return m.mountPoint().length() < seen.mountPoint().length();
    }

    private Set<String> realTypes() {
        Set<String> types = new java.util.HashSet<>(DATA_WITHOUT_DEVICE);
        String fs = host.read("/proc/filesystems");
        if (fs != null) {
            for (String line : fs.split("\n")) {
                if (!line.startsWith("nodev") && !line.isBlank()) types.add(line.strip());
            }
        }
        return types;
    }

    /** @param mountinfo text in the format of proc(5) mountinfo @return its mounts */
    static List<Mount> parse(String mountinfo) {
        List<Mount> list = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            List<String> f = HostFiles.fields(line);
            int sep = f.indexOf("-");
            if (f.size() < 7 || sep < 6 || sep + 2 >= f.size()) continue;
            boolean ro = (',' + f.get(5) + ',').contains(",ro,");
            list.add(new Mount(f.get(2), unescape(f.get(3)), unescape(f.get(4)), f.get(sep + 1), unescape(f.get(sep + 2)), ro));
        }
        return list;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes ({@code \040}). */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) return false;
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') return false;
        }
        return true;
    }

    /**
     * @param m a mount
     * @return its sizes and inode counts as the snapshot reports them, or null if it cannot be measured (it went away
     *         meanwhile, or statfs refused)
     */
    Map<String, Object> measure(Mount m) {
        long total;
        long free;
        long avail;
        try {
            FileStore store = Files.getFileStore(host.path(m.mountPoint()));
            total = store.getTotalSpace();
            free = store.getUnallocatedSpace();
            avail = store.getUsableSpace();
        } catch (IOException | SecurityException e) {
            return null;
        }
        Map<String, Object> fs = new LinkedHashMap<>();
        fs.put("mountpoint", m.mountPoint());
        fs.put("device", m.source());
        fs.put("fstype", m.fstype());
        fs.put("readOnly", m.readOnly());
        long used = total - free;
        fs.put("sizeBytes", total);
        fs.put("usedBytes", used);
        fs.put("freeBytes", free);
        fs.put("availableBytes", avail);
        // as df: the share of what non-root users could have, reserved blocks excluded
        fs.put("usedPercent", used + avail == 0 ? 0.0 : HostFiles.round2(used * 100.0 / (used + avail)));
        Ext4Inodes.Counts inodes = null;
        String why = null;
        if (EXT.contains(m.fstype())) {
            try {
                Path dev = device(m);
                if (dev == null) why = "the block device " + m.majMin() + " is not found under /dev";
                else inodes = ext4.read(dev);
            } catch (IOException | SecurityException e) {
                why = "cannot read the inode counts from the device: " + e.getMessage();
            }
        } else {
            why = m.fstype() + ": inode counts are read for ext2/3/4 only (statfs's inode fields do not reach Java)";
        }
        if (inodes != null) {
            fs.put("inodes", inodes.total());
            fs.put("inodesUsed", inodes.used());
            fs.put("inodesFree", inodes.free());
            fs.put("inodesUsedPercent", HostFiles.round2(inodes.used() * 100.0 / inodes.total()));
        } else {
            fs.put("inodes", null);
            fs.put("inodesUnavailable", why);
        }
        return fs;
    }

    /** @return the block device of a mount, checked by its device number, or null */
    Path device(Mount m) {
        if (devices.containsKey(m.majMin())) return devices.get(m.majMin());
        Path found = null;
        String[] mm = m.majMin().split(":");
        if (mm.length == 2) {
            long major = HostFiles.parseLong(mm[0]);
            long minor = HostFiles.parseLong(mm[1]);
            List<Path> candidates = new ArrayList<>();
            if (m.source().startsWith("/dev/")) candidates.add(host.path(m.source()));
            String name = host.pairs("/sys/dev/block/" + m.majMin() + "/uevent", '=').get("DEVNAME");
            if (name != null) candidates.add(host.path("/dev/" + name));
            for (Path p : candidates) {
                if (rdev(p) == makedev(major, minor)) {
                    found = p;
                    break;
                }
            }
        }
        devices.put(m.majMin(), found);
        return found;
    }

    private static long rdev(Path p) {
        try {
            return ((Number) Files.getAttribute(p, "unix:rdev")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            return -1;
        }
    }

    /** glibc's encoding of a device number (sys/sysmacros.h). */
    static long makedev(long major, long minor) {
        return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }
}
