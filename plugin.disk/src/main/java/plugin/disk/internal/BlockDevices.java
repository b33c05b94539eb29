package plugin.disk.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.InvalidParamException;
import agent.api.ProcessResult;

/**
 * A snapshot of the machine's block devices: the tree lsblk prints, completed with what blkid probes
 * (there is no udev on some machines, and then lsblk knows no filesystem type or UUID), partition
 * numbers from sysfs and mount points from the mount table. Take a new one after changing anything.
 */
final class BlockDevices {
    /** Columns that util-linux has had since 2.27 (RHEL 8 ships 2.32), so the same call works everywhere. */
    private static final String COLUMNS = "NAME,KNAME,MAJ:MIN,TYPE,SIZE,RO,MODEL,SERIAL,FSTYPE,UUID,LABEL";
    private static final Path SYS_BLOCK = Path.of("/sys/class/block");
    /** lsblk's JSON as Java values (numbers as Long where they are integers). */
    private static final com.google.gson.Gson LSBLK_JSON = new com.google.gson.GsonBuilder()
        .setObjectToNumberStrategy(com.google.gson.ToNumberPolicy.LONG_OR_DOUBLE).create();

    private final List<BlockDevice> roots;
    private final Map<String, BlockDevice> byMajMin = new HashMap<>();
    final MountTable mounts;

    private BlockDevices(List<BlockDevice> roots, MountTable mounts) {
        this.roots = roots;
        this.mounts = mounts;
        for (BlockDevice r : roots) r.subtree().forEach(d -> byMajMin.putIfAbsent(d.majMin, d));
    }

    /**
     * @param ctx   runs lsblk and blkid
     * @param tools finds them
     * @return the current devices
     * @throws CommandException if lsblk fails or prints something that is not its JSON
     */
    static BlockDevices scan(CommandContext ctx, Tools tools) throws Exception {
        ProcessResult r = tools.query(ctx, "lsblk", "-J", "-b", "-p", "-o", COLUMNS);
        if (r.exitCode() != 0) throw Tools.failed("lsblk", new String[] {"-J", "-b", "-p", "-o", COLUMNS}, r);
        List<BlockDevice> roots = parseLsblk(r.output());
        MountTable mounts = MountTable.read();
        List<BlockDevice> all = new ArrayList<>();
        for (BlockDevice d : roots) d.subtree().forEach(all::add);
        probe(ctx, tools, all);
        for (BlockDevice d : all) {
            d.mountPoints = mounts.mountPointsOf(d.majMin, d.path);
            // blkid may be refused the device (a container's device policy) while the kernel has it mounted
            if (d.fstype == null && !d.mountPoints.isEmpty()) d.fstype = mounts.fstypeOf(d.majMin, d.path);
            if (d.isPartition()) d.partitionNumber = sysfsPartitionNumber(d.kname);
        }
        return new BlockDevices(roots, mounts);
    }

    /** @param output lsblk -J output, possibly with warnings around it @return the device trees */
    static List<BlockDevice> parseLsblk(String output) throws CommandException {
        int start = output.indexOf('{');
        int end = output.lastIndexOf('}');
        Object doc;
        try {
            if (start < 0 || end < start) throw new IllegalArgumentException("no JSON object");
            doc = LSBLK_JSON.fromJson(output.substring(start, end + 1), Object.class);
        } catch (com.google.gson.JsonParseException e) {
            throw new CommandException("cannot read lsblk's output (" + badJson(output.substring(start, end + 1), e) + "): "
                + Text.tail(output, 3));
        } catch (IllegalArgumentException e) {
            throw new CommandException("cannot read lsblk's output (" + e.getMessage() + "): " + Text.tail(output, 3));
        }
        Object list = doc instanceof Map ? ((Map<?, ?>) doc).get("blockdevices") : null;
        if (!(list instanceof List)) throw new CommandException("lsblk's output has no 'blockdevices' list: " + Text.tail(output, 3));
        List<BlockDevice> roots = new ArrayList<>();
        for (Object o : (List<?>) list) {
            if (o instanceof Map) roots.add(node((Map<?, ?>) o, null));
        }
        return roots;
    }

    /** Gson says "... at line L column C path $.x" and a URL; a user needs where in the text, and why. */
    private static String badJson(String json, com.google.gson.JsonParseException e) {
        Throwable t = e.getCause() != null ? e.getCause() : e;
        String m = String.valueOf(t.getMessage());
        java.util.regex.Matcher at = java.util.regex.Pattern.compile("(.*?) at line (\\d+) column (\\d+)").matcher(m);
        if (!at.find()) return "bad JSON: " + m.lines().findFirst().orElse(m);
        int line = Integer.parseInt(at.group(2));
        int offset = 0;
        for (int i = 1; i < line; i++) offset = json.indexOf('\n', offset) + 1;
        offset += Integer.parseInt(at.group(3)) - 1;
        return "bad JSON at offset " + offset + ": " + at.group(1).toLowerCase();
    }

    private static BlockDevice node(Map<?, ?> m, BlockDevice parent) {
        String name = str(m.get("name"));
        String kname = str(m.get("kname"));
        BlockDevice d = new BlockDevice(name, kname == null ? name : kname, str(m.get("maj:min")), str(m.get("type")),
            number(m.get("size")), bool(m.get("ro")), trimmed(m.get("model")), trimmed(m.get("serial")));
        d.fstype = str(m.get("fstype"));
        d.uuid = str(m.get("uuid"));
        d.label = str(m.get("label"));
        d.parent = parent;
        Object children = m.get("children");
        if (children instanceof List) {
            for (Object c : (List<?>) children) {
                if (c instanceof Map) d.children.add(node((Map<?, ?>) c, d));
            }
        }
        return d;
    }

    // util-linux before 2.33 prints every value as a string ("size": "1024", "ro": "0")
    private static String str(Object o) {
        if (o == null) return null;
        String s = o.toString();
        return s.isEmpty() ? null : s;
    }

    private static String trimmed(Object o) {
        String s = str(o);
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static long number(Object o) {
        if (o instanceof Number) return ((Number) o).longValue();
        try {
            return o == null ? 0 : Long.parseLong(o.toString().trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static boolean bool(Object o) {
        if (o instanceof Boolean) return (Boolean) o;
        return o != null && (o.toString().equals("1") || o.toString().equals("true"));
    }

    /** Fills in filesystem type, UUID, label and partition table from one blkid call that bypasses its cache. */
    private static void probe(CommandContext ctx, Tools tools, List<BlockDevice> devices) throws Exception {
        Set<String> paths = new LinkedHashSet<>();
        for (BlockDevice d : devices) {
            if (d.sizeBytes > 0) paths.add(d.path);
        }
        if (paths.isEmpty()) return;
        List<String> args = new ArrayList<>(List.of("-c", "/dev/null", "-o", "export"));
        args.addAll(paths);
        ProcessResult r = tools.query(ctx, "blkid", args.toArray(String[]::new));
        // exit 2: none of the devices carries a known signature
        if (r.exitCode() != 0 && r.exitCode() != 2) {
            ctx.output().println("warning: blkid exited with " + r.exitCode() + ": " + Text.tail(r.output(), 2));
        }
        Map<String, Map<String, String>> found = parseExport(r.output());
        for (BlockDevice d : devices) {
            Map<String, String> tags = found.get(d.path);
            if (tags == null) continue;
            if (tags.containsKey("TYPE")) d.fstype = tags.get("TYPE");
            if (tags.containsKey("UUID")) d.uuid = tags.get("UUID");
            if (tags.containsKey("LABEL")) d.label = tags.get("LABEL");
            d.partUuid = tags.get("PARTUUID");
            d.partitionTable = tags.get("PTTYPE");
        }
    }

    /** @param output blkid -o export output @return tags by DEVNAME */
    static Map<String, Map<String, String>> parseExport(String output) {
        Map<String, Map<String, String>> result = new LinkedHashMap<>();
        Map<String, String> current = new LinkedHashMap<>();
        for (String line : (output + "\n\n").split("\n", -1)) {
            int eq = line.indexOf('=');
            if (line.isBlank()) {
                if (current.containsKey("DEVNAME")) result.put(current.get("DEVNAME"), current);
                current = new LinkedHashMap<>();
            } else if (eq > 0 && line.substring(0, eq).matches("[A-Z_]+")) {
                current.put(line.substring(0, eq), unescapeExport(line.substring(eq + 1)));
            }
        }
        return result;
    }

    // blkid -o export escapes shell-special characters with a backslash
    private static String unescapeExport(String v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\' && i + 1 < v.length()) c = v.charAt(++i);
            sb.append(c);
        }
        return sb.toString();
    }

    /** @param kname a kernel name or /dev path @return the partition number sysfs gives, or null */
    static Integer sysfsPartitionNumber(String kname) {
        try {
            Path f = SYS_BLOCK.resolve(Path.of(kname).getFileName().toString()).resolve("partition");
            return Files.exists(f) ? Integer.valueOf(Files.readString(f).trim()) : null;
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /** @return the top-level devices */
    List<BlockDevice> roots() { return roots; }

    /** @param majMin "8:0" @return the device with that number, or null */
    BlockDevice byMajMin(String majMin) { return byMajMin.get(majMin); }

    /** @param path a /dev path as lsblk prints it @return that device, or null */
    BlockDevice byPath(String path) {
        for (BlockDevice r : roots) {
            BlockDevice d = r.subtree().filter(x -> x.path.equals(path) || x.kname.equals(path)).findFirst().orElse(null);
            if (d != null) return d;
        }
        return null;
    }

    /**
     * Checks a device param against the system: a safe /dev path, present, a block device, listed by lsblk.
     * Symbolic links such as /dev/disk/by-id/... are followed.
     *
     * @param param the param's name
     * @param value its value
     * @return the device lsblk lists for it
     * @throws InvalidParamException naming the param and quoting the value
     */
    BlockDevice resolve(String param, String value) throws InvalidParamException {
        DeviceNames.device(param, value);
        Path p = Path.of(value);
        if (!Files.exists(p)) throw new InvalidParamException(param, Text.quote(value) + " does not exist");
        String majMin;
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            if ((mode & 0170000) != 0060000) {
                throw new InvalidParamException(param, Text.quote(value) + " is not a block device");
            }
            majMin = majMin((Long) Files.getAttribute(p, "unix:rdev"));
        } catch (IOException | UnsupportedOperationException e) {
            throw new InvalidParamException(param, "cannot inspect " + Text.quote(value) + ": " + e.getMessage());
        }
        BlockDevice d = byMajMin(majMin);
        if (d == null) {
            throw new InvalidParamException(param, Text.quote(value) + " is a block device (" + majMin
                + ") that lsblk does not list");
        }
        return d;
    }

    /** @param rdev st_rdev as glibc encodes it @return "major:minor" */
    static String majMin(long rdev) {
        long major = ((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL);
        long minor = ((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL);
        return major + ":" + minor;
    }
}
