package plugin.script.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import agent.api.CommandRefusedException;
import agent.api.ErrorCode;

/**
 * The operator's scripts directory ({@code scripts_dir}): scripts runnable by name, trusted only when nobody but root
 * (or the agent's own user) could have written them. Like sudo with a writable sudoers file, a directory or script
 * that someone else could write is refused with the reason: whoever can write it could run code as the agent.
 */
final class ScriptsDirectory {
    /** A script's name: a plain file name, no path, not hidden, nothing a shell or a path would read specially. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,254}");
    /** The header is read from the start of the file only: a script is not parsed to its end to be listed. */
    private static final int HEADER_BYTES = 8192;

    private final Path configured;
    private final Path real;
    private final int agentUid;

    private ScriptsDirectory(Path configured, Path real, int agentUid) {
        this.configured = configured;
        this.real = real;
        this.agentUid = agentUid;
    }

    /**
     * @param dir      the configured directory
     * @param agentUid the uid the agent runs as
     * @return the directory, checked; null if it does not exist
     * @throws CommandRefusedException naming the directory (or the ancestor) anyone else could write, and how
     */
    static ScriptsDirectory openIfExists(Path dir, int agentUid) throws CommandRefusedException {
        Path real;
        try {
            real = dir.toRealPath();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new CommandRefusedException("the scripts directory " + dir + " cannot be read: " + e.getMessage());
        }
        if (!Files.isDirectory(real)) {
            throw new CommandRefusedException("the scripts directory " + dir + " is not a directory (plugins.settings.script"
                + ".scripts_dir or the agent's scripts_dir)");
        }
        ScriptsDirectory d = new ScriptsDirectory(dir, real, agentUid);
        String problem = d.untrustedDirectory(real);
        if (problem == null) {
            for (Path a = real.getParent(); a != null && problem == null; a = a.getParent()) problem = d.untrustedAncestor(a);
        }
        if (problem != null) {
            throw new CommandRefusedException("the scripts directory " + dir + " is not safe: " + problem
                + "; no script of it is run or listed until that is fixed");
        }
        return d;
    }

    /** @return the directory as configured */
    Path path() { return configured; }

    /**
     * @param name a script name from a command
     * @return the real path of the script to run: a regular executable file inside the directory, safe to trust
     * @throws CommandRefusedException for a name with a path in it, a missing script ({@link ErrorCode#NOT_FOUND}), a
     *                                 link out of the directory, a script others could write, or one not executable
     */
    Path script(String name) throws CommandRefusedException {
        checkName(name);
        Path p = real.resolve(name);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new CommandRefusedException("there is no script " + Text.quote(name) + " in " + configured
                + " (script.list shows those there are)", ErrorCode.NOT_FOUND);
        }
        Checked c = check(p);
        if (c.problem != null) throw new CommandRefusedException("script " + Text.quote(name) + " in " + configured + " is refused: " + c.problem);
        return c.target;
    }

    /** @param name a script name from a command @throws CommandRefusedException unless it is a plain file name */
    static void checkName(String name) throws CommandRefusedException {
        if (!NAME.matcher(name).matches()) {
            throw new agent.api.InvalidParamException("name", "must be the plain file name of a script in the scripts"
                + " directory (letters, digits, '.', '_', '+', '-', not starting with '.'; no path), got " + Text.quote(name));
        }
    }

    /** @return every script of the directory with its header and, for one that would be refused, why; by name */
    List<Map<String, Object>> list() throws IOException {
        TreeMap<String, Map<String, Object>> byName = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(real)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!NAME.matcher(name).matches()) continue; // hidden files, editor backups (name~), names we cannot run
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) continue;
                Checked c = check(p);
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("name", name);
                ScriptHeader h = c.target != null ? header(c.target) : ScriptHeader.NONE; // never read what a link out points at
                s.put("description", h.description());
                s.put("args", h.argsAsData());
                s.put("usable", c.problem == null);
                s.put("problem", c.problem);
                if (c.target != null) {
                    s.put("sizeBytes", Files.size(c.target));
                    s.put("modified", Files.getLastModifiedTime(c.target).toInstant().truncatedTo(ChronoUnit.SECONDS).toString());
                }
                byName.put(name, s);
            }
        }
        return new ArrayList<>(byName.values());
    }

    /** @param script a script's real path @return its header, or none if it cannot be read */
    static ScriptHeader header(Path script) {
        try (InputStream in = Files.newInputStream(script)) {
            return ScriptHeader.parse(new String(in.readNBytes(HEADER_BYTES), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return ScriptHeader.NONE;
        }
    }

    private record Checked(Path target, String problem) {}

    /** A script is trusted if it is, or links to, a regular executable file inside the directory that only root (or the agent) can write. */
    private Checked check(Path p) {
        Path target;
        try {
            target = p.toRealPath();
        } catch (IOException e) {
            return new Checked(null, "it is a link to nothing (" + e.getMessage() + ")");
        }
        if (!target.startsWith(real) || target.equals(real)) {
            return new Checked(null, "it is a link that leads out of the scripts directory, to " + target);
        }
        if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) return new Checked(target, "it is not a regular file");
        try {
            int mode = (Integer) Files.getAttribute(target, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            int owner = (Integer) Files.getAttribute(target, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if ((mode & 0022) != 0) {
                return new Checked(target, "it is " + writable(mode) + " (mode " + octal(mode) + "): anyone who can write it"
                    + " could run code as the agent; chmod go-w it");
            }
            if (!trustedOwner(owner)) {
                return new Checked(target, "it is owned by uid " + owner + ", not " + owners() + ": that user could change"
                    + " what runs as the agent; chown it");
            }
            if ((mode & 0100) == 0) return new Checked(target, "it is not executable (mode " + octal(mode) + "); chmod u+x it");
        } catch (IOException e) {
            return new Checked(target, "its owner and mode cannot be read: " + e.getMessage());
        }
        return new Checked(target, null);
    }

    private String untrustedDirectory(Path d) throws CommandRefusedException {
        int[] mo = modeAndOwner(d);
        if ((mo[0] & 0022) != 0) {
            return d + " is " + writable(mo[0]) + " (mode " + octal(mo[0]) + "): anyone who can write it could run code as"
                + " the agent; chmod go-w it";
        }
        if (!trustedOwner(mo[1])) return d + " is owned by uid " + mo[1] + ", not " + owners() + "; chown it";
        return null;
    }

    /** An ancestor may be writable by others only with the sticky bit (as /tmp): then they cannot rename what is ours. */
    private String untrustedAncestor(Path d) throws CommandRefusedException {
        int[] mo = modeAndOwner(d);
        if ((mo[0] & 0022) != 0 && (mo[0] & 01000) == 0) {
            return "its parent " + d + " is " + writable(mo[0]) + " without the sticky bit (mode " + octal(mo[0]) + "),"
                + " so others could replace the scripts directory";
        }
        if (!trustedOwner(mo[1])) {
            return "its parent " + d + " is owned by uid " + mo[1] + ", not " + owners() + ", so that user could replace the"
                + " scripts directory";
        }
        return null;
    }

    private static int[] modeAndOwner(Path d) throws CommandRefusedException {
        try {
            return new int[] {(Integer) Files.getAttribute(d, "unix:mode", LinkOption.NOFOLLOW_LINKS),
                (Integer) Files.getAttribute(d, "unix:uid", LinkOption.NOFOLLOW_LINKS)};
        } catch (IOException e) {
            throw new CommandRefusedException("the owner and mode of " + d + " cannot be read: " + e.getMessage());
        }
    }

    private boolean trustedOwner(int uid) { return uid == 0 || (agentUid != 0 && uid == agentUid); }

    private String owners() { return agentUid == 0 ? "root" : "root or the agent's uid " + agentUid; }

    private static String writable(int mode) {
        boolean g = (mode & 0020) != 0;
        boolean o = (mode & 0002) != 0;
        return g && o ? "group- and world-writable" : g ? "group-writable" : "world-writable";
    }

    private static String octal(int mode) { return String.format("%04o", mode & 07777); }

    @Override
    public String toString() { return configured.toString(); }
}
