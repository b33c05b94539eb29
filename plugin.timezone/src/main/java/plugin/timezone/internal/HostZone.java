package plugin.timezone.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import agent.api.CommandException;
import agent.api.InvalidParamException;

/**
 * The host's time zone configuration under a root directory ({@code /} on a real host, a temp dir in tests):
 * {@code etc/localtime} (a link into the zoneinfo database, or a copy of a zone file), {@code etc/timezone}
 * (Debian's one-line name), the zoneinfo database {@code usr/share/zoneinfo}, and whether systemd is PID 1.
 */
final class HostZone {
    static final String ZONEINFO = "usr/share/zoneinfo";
    /** Zone names are made of these (tzdata's own rule, plus no dots at all: no name in the database has one). */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+){0,3}");
    private static final byte[] TZIF = "TZif".getBytes(StandardCharsets.US_ASCII);

    final Path root;
    final Path localtime;
    final Path etcTimezone;
    final Path zoneinfo;

    HostZone(Path root) {
        this.root = root;
        this.localtime = root.resolve("etc/localtime");
        this.etcTimezone = root.resolve("etc/timezone");
        this.zoneinfo = root.resolve(ZONEINFO);
    }

    /**
     * @param settings the plugin's config section: {@code root} (default {@code /}) and nothing else
     * @return the host's zone configuration under that root
     * @throws CommandException naming the setting if it is unknown or not an existing absolute directory
     */
    static HostZone fromSettings(Map<String, Object> settings) throws CommandException {
        for (String key : settings.keySet()) {
            if (!key.equals("root")) {
                throw new CommandException("unknown setting " + quote(key) + " in config key 'plugins.settings.timezone' (known: root)");
            }
        }
        Object root = settings.getOrDefault("root", "/");
        if (!(root instanceof String) || !((String) root).startsWith("/")) {
            throw new CommandException("config key 'plugins.settings.timezone.root' must be an absolute path, got " + root);
        }
        Path p = Path.of((String) root).normalize();
        if (!Files.isDirectory(p)) {
            throw new CommandException("config key 'plugins.settings.timezone.root' names " + quote(p.toString())
                + ", which is not a directory");
        }
        return new HostZone(p);
    }

    /** What {@code etc/localtime} is. */
    record Localtime(String type, String target, String zone) {
        static final String LINK = "link", FILE = "file", MISSING = "missing";
    }

    Localtime localtime() throws IOException {
        if (!Files.exists(localtime, LinkOption.NOFOLLOW_LINKS)) return new Localtime(Localtime.MISSING, null, null);
        if (Files.isSymbolicLink(localtime)) {
            String target = Files.readSymbolicLink(localtime).toString();
            return new Localtime(Localtime.LINK, target, zoneOfLinkTarget(target));
        }
        // a copy of a zone file (containers, older RHEL): it is the zone whose file has the same bytes, if a
        // candidate is one; the database is not scanned
        String zone = null;
        byte[] content = Files.readAllBytes(localtime);
        for (String candidate : Arrays.asList(etcTimezone().orElse(null), ZoneId.systemDefault().getId())) {
            if (candidate == null || !NAME.matcher(candidate).matches()) continue;
            Path f = zoneinfo.resolve(candidate);
            if (Files.isRegularFile(f) && Arrays.equals(Files.readAllBytes(f), content)) {
                zone = candidate;
                break;
            }
        }
        return new Localtime(Localtime.FILE, null, zone);
    }

    /**
     * @param target a link target such as {@code ../usr/share/zoneinfo/Europe/Paris} or
     *               {@code /usr/share/zoneinfo/posix/Europe/Paris}
     * @return the zone name it points at, or null if it does not point into a zoneinfo directory
     */
    static String zoneOfLinkTarget(String target) {
        String t = Path.of(target).normalize().toString();
        int i = t.lastIndexOf("zoneinfo/");
        if (i < 0) return null;
        String zone = t.substring(i + "zoneinfo/".length());
        if (zone.startsWith("posix/")) zone = zone.substring("posix/".length());
        return NAME.matcher(zone).matches() ? zone : null;
    }

    /** @return the name in {@code etc/timezone} (its first line that is not a comment), if there is one */
    Optional<String> etcTimezone() throws IOException {
        if (!Files.isRegularFile(etcTimezone)) return Optional.empty();
        try (Stream<String> lines = Files.lines(etcTimezone, StandardCharsets.UTF_8)) {
            return lines.map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).findFirst();
        }
    }

    /** @return whether PID 1 is systemd, as {@code <root>/proc/1/comm} says */
    boolean systemdIsPid1() {
        try {
            return Files.readString(root.resolve("proc/1/comm"), StandardCharsets.UTF_8).strip().equals("systemd");
        } catch (IOException e) {
            return false;
        }
    }

    /** @return the timedatectl program under the root, if installed */
    Optional<Path> timedatectl() {
        for (String dir : List.of("usr/bin", "bin", "usr/sbin", "sbin")) {
            Path p = root.resolve(dir).resolve("timedatectl");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /**
     * Checks a zone name against the zoneinfo database before anything uses it.
     *
     * @param param the param's name, for messages
     * @param zone  the name, e.g. {@code Europe/Paris}
     * @return the zone's file in the database (not resolved: a link inside the database stays a link)
     * @throws InvalidParamException naming the param, quoting the value and saying what is wrong
     */
    Path zoneFile(String param, String zone) throws InvalidParamException {
        if (zone.startsWith("/") || Arrays.asList(zone.split("/", -1)).stream().anyMatch(s -> s.equals("..") || s.equals("."))) {
            throw new InvalidParamException(param, quote(zone) + " is not a time zone name: a name such as Europe/Paris,"
                + " with no '.', '..' or leading '/'");
        }
        if (!NAME.matcher(zone).matches()) {
            throw new InvalidParamException(param, quote(zone) + " is not a time zone name: a name such as Europe/Paris,"
                + " of letters, digits, '_', '+' and '-' separated by '/'");
        }
        Path file = zoneinfo.resolve(zone);
        if (Files.isDirectory(file)) {
            throw new InvalidParamException(param, quote(zone) + " is a region of the zoneinfo database, not a zone; pick one of"
                + " its zones, such as " + example(file, zone));
        }
        if (!Files.isRegularFile(file)) {
            throw new InvalidParamException(param, quote(zone) + " is not in the zoneinfo database (" + hostPath(zoneinfo) + ")"
                + suggestion(zone));
        }
        try {
            Path real = file.toRealPath();
            if (!real.startsWith(zoneinfo.toRealPath())) {
                throw new InvalidParamException(param, quote(zone) + " resolves to " + quote(real.toString())
                    + ", outside the zoneinfo database (" + hostPath(zoneinfo) + ")");
            }
            byte[] head = new byte[TZIF.length];
            int n;
            try (InputStream in = Files.newInputStream(real)) {
                n = in.readNBytes(head, 0, head.length);
            }
            if (n < head.length || !Arrays.equals(head, TZIF)) {
                throw new InvalidParamException(param, quote(zone) + " is not a time zone: " + hostPath(file)
                    + " is not a TZif zone file");
            }
        } catch (IOException e) {
            throw new InvalidParamException(param, quote(zone) + " cannot be read in the zoneinfo database: " + e.getMessage());
        }
        return file;
    }

    private static String example(Path dir, String region) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> region + "/" + p.getFileName()).sorted().findFirst()
                .map(HostZone::quote).orElse("'" + region + "/...'");
        } catch (IOException e) {
            return "'" + region + "/...'";
        }
    }

    /** A name the JVM knows under another case, or a hint that the database is out of date. */
    private String suggestion(String zone) {
        if (ZoneId.getAvailableZoneIds().contains(zone)) {
            return "; the JVM knows it, so this host's tzdata package is missing or older than the JVM's";
        }
        return ZoneId.getAvailableZoneIds().stream().filter(z -> z.equalsIgnoreCase(zone))
            .filter(z -> Files.isRegularFile(zoneinfo.resolve(z))).findFirst().map(z -> "; did you mean '" + z + "'?")
            .orElse("; names are like Europe/Paris, America/New_York, UTC");
    }

    /** @return the link target for etc/localtime: relative, so that it holds under any root */
    String linkTarget(Path zoneFile) { return localtime.getParent().relativize(zoneFile).toString(); }

    /** Replaces etc/localtime with a link to the zone file, atomically: a new link renamed over the old entry. */
    void replaceLocaltime(Path zoneFile) throws IOException {
        Path etc = localtime.getParent();
        Path tmp = etc.resolve(".localtime.outpost-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            Files.createSymbolicLink(tmp, Path.of(linkTarget(zoneFile)));
            Files.move(tmp, localtime, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + hostPath(localtime) + " atomically: " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(etc);
    }

    /** Writes etc/timezone atomically: a new file, synced, renamed over the old one; mode 0644. */
    void writeEtcTimezone(String zone) throws IOException {
        Path etc = etcTimezone.getParent();
        Path tmp = etc.resolve(".timezone.outpost-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            Files.createFile(tmp);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--")); // whatever the umask
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap((zone + "\n").getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            Files.move(tmp, etcTimezone, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(etc);
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /** @return the path as the host names it: {@code /etc/localtime} whatever the root */
    String hostPath(Path p) { return "/" + root.relativize(p); }

    /** @param value a value from a param or a file @return it in single quotes, control characters escaped, cut at 120 */
    static String quote(String value) { return "'" + escape(value) + "'"; }

    /** @param value text from a param, a file or a tool @return it with control characters escaped, cut at 120 */
    static String escape(String value) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < value.length() && i < 120; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        if (value.length() > 120) sb.append("...");
        return sb.toString();
    }
}
