package plugin.backup.internal;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether an archive can be restored into a target without writing anything outside it, decided from GNU tar's own
 * listing of the archive (the parser that will extract it, so no second reading of the headers can disagree), before
 * anything is written. An archive with any of these is refused whole:
 * <ul>
 * <li>an absolute name, or a {@code ..} component, in a member name or a hard link's target;</li>
 * <li>a member under one of the archive's own symbolic links (a link, then a file written through it);</li>
 * <li>a member whose path in the target goes through an existing symbolic link that leads outside the target;</li>
 * <li>a device node, unless the command asks for them; a type tar would not restore as a file (volume labels,
 * multi-volume parts, incremental dump directories);</li>
 * <li>a name the agent's JVM cannot check byte for byte (not UTF-8, or not ASCII without a UTF-8 locale).</li>
 * </ul>
 * Symbolic links themselves may point anywhere: they are data (a backup of /etc holds absolute ones), and nothing is
 * written through them. Tar's own guards stay on as well (it strips leading '/' and refuses '..').
 */
final class RestorePlan {
    private static final int MAX_LISTED = 1000;
    private static final int MAX_PROBLEMS = 50;

    final List<String> problems = new ArrayList<>();
    long problemCount;
    final List<String> conflicts = new ArrayList<>();
    long conflictCount;
    final Listing.Totals totals = new Listing.Totals();
    final List<Map<String, Object>> listed = new ArrayList<>();

    private final Path target;
    private final Path targetReal;
    private final boolean devices;
    private final boolean jvmUtf8 = jnuIsUtf8();
    private final Set<String> symlinks = new HashSet<>();
    private final Set<String> checkedDirs = new HashSet<>();

    private RestorePlan(Path target, boolean devices) {
        this.target = target;
        this.targetReal = Destination.realOrSelf(target);
        this.devices = devices;
    }

    /**
     * @param index   tar's listing of the archive ({@code --list --verbose --absolute-names --quoting-style=c})
     * @param target  where it would be restored
     * @param devices whether device nodes may be restored
     * @return the plan: its problems (refuse if any), the entries that already exist in the target, the totals
     */
    static RestorePlan check(Path index, Path target, boolean devices) throws IOException {
        RestorePlan p = new RestorePlan(target, devices);
        Listing.read(index, p::firstPass);
        Listing.read(index, p::secondPass);
        return p;
    }

    boolean refused() { return problemCount > 0; }

    /** Names, types and links on their own; the archive's symbolic links, for the second pass. */
    private void firstPass(TarEntry e) {
        totals.add(e);
        String name = normalize(e.name(), "member name");
        if (name == null) return;
        if (e.isSymlink()) symlinks.add(name);
        switch (e.type()) {
            case '-', 'C', 'd', 'l', 'p' -> { }
            case 'h' -> normalize(e.link(), "hard link target of " + Text.quote(e.name()));
            case 'c', 'b' -> {
                if (!devices) problem(Text.quote(e.name()) + " is a " + e.kind() + " (restoring device nodes needs devices: true)");
            }
            default -> problem(Text.quote(e.name()) + " is a " + e.kind() + ", which a restore does not write");
        }
        if (name.equals(".") && !e.isDirectory()) problem("an entry named " + Text.quote(e.name()) + " would replace the target itself");
    }

    /** Where each entry would be written: not through a link of the archive, nor through one that leads out. */
    private void secondPass(TarEntry e) throws IOException {
        String name = normalize(e.name(), null);
        if (name == null) return;
        throughLinks(e, name);
        if (e.isHardLink()) {
            String to = normalize(e.link(), null);
            if (to != null) throughLinks(e, to); // link(2) does not follow a link at the target itself
        }
        if (!e.validUtf8() || (!jvmUtf8 && !isAscii(name))) {
            problem(Text.quote(e.name()) + " cannot be checked: "
                + (!e.validUtf8() ? "it is not UTF-8" : "the agent's JVM runs without a UTF-8 locale (sun.jnu.encoding="
                    + System.getProperty("sun.jnu.encoding") + "; set LANG=C.UTF-8 for the agent)")
                + "; restore this archive with tar by hand if you trust it");
            return;
        }
        Path where;
        try {
            where = name.equals(".") ? target : target.resolve(name);
        } catch (InvalidPathException x) {
            problem(Text.quote(e.name()) + " cannot be checked: " + x.getMessage());
            return;
        }
        boolean exists = Files.exists(where, LinkOption.NOFOLLOW_LINKS);
        if (exists && !(e.isDirectory() && Files.isDirectory(where, LinkOption.NOFOLLOW_LINKS))) {
            conflictCount++;
            if (conflicts.size() < 100) conflicts.add(where.toString());
        }
        if (listed.size() < MAX_LISTED) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("type", e.kind());
            if (e.isFile()) m.put("sizeBytes", e.size());
            if (e.link() != null) m.put("link", e.link());
            m.put("exists", exists);
            listed.add(m);
        }
    }

    private void throughLinks(TarEntry e, String name) throws IOException {
        int slash = -1;
        while ((slash = name.indexOf('/', slash + 1)) >= 0) {
            String dir = name.substring(0, slash);
            if (symlinks.contains(dir)) {
                problem(Text.quote(e.name()) + " would be written through " + Text.quote(dir)
                    + ", a symbolic link of the archive itself");
                return;
            }
            if (!checkedDirs.contains(dir)) {
                String bad = leadsOut(dir);
                if (bad != null) {
                    problem(Text.quote(e.name()) + " would be written through " + bad);
                    return;
                }
                checkedDirs.add(dir);
            }
        }
    }

    /** @return why writing under the existing {@code target/dir} would leave the target, or null if it would not */
    private String leadsOut(String dir) throws IOException {
        Path p;
        try {
            p = target.resolve(dir);
        } catch (InvalidPathException x) {
            return Text.quote(dir) + ", a name the agent cannot check";
        }
        if (!Files.isSymbolicLink(p)) return null;
        Path real;
        try {
            real = p.toRealPath();
        } catch (IOException dangling) {
            return p + ", a symbolic link to nothing (" + Text.quote(Files.readSymbolicLink(p).toString()) + ")";
        }
        return real.startsWith(targetReal) ? null : p + ", an existing symbolic link to " + real + ", outside the target";
    }

    /** @return the name without '.', empty components and trailing '/'; null (and a problem) if absolute or with '..' */
    private String normalize(String name, String what) {
        if (name == null || name.isEmpty()) {
            if (what != null) problem("an empty " + what);
            return null;
        }
        if (name.startsWith("/")) {
            if (what != null) problem("the " + what + " " + Text.quote(name) + " is absolute");
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) continue;
            if (part.equals("..")) {
                if (what != null) problem("the " + what + " " + Text.quote(name) + " has '..'");
                return null;
            }
            if (sb.length() > 0) sb.append('/');
            sb.append(part);
        }
        return sb.length() == 0 ? "." : sb.toString();
    }

    /** Without a UTF-8 locale the JVM maps file names through ASCII: a name with other characters is not the file. */
    private static boolean jnuIsUtf8() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8")).equals(StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) > 0x7e) return false;
        return true;
    }

    private void problem(String p) {
        problemCount++;
        if (problems.size() < MAX_PROBLEMS) problems.add(p);
    }
}
