package plugin.files.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import agent.api.InvalidParamException;

/**
 * A file's metadata as the file actions report and set it: type, size, the whole mode (with setuid, setgid and
 * sticky bits, which {@link java.nio.file.attribute.PosixFilePermission} leaves out), owner and group.
 */
record Meta(String type, long size, int mode, UserPrincipal owner, GroupPrincipal group, int uid, int gid,
        String modified, Object fileKey) {

    /** User and group names as useradd takes them, or numeric ids. */
    private static final Pattern PRINCIPAL = Pattern.compile("[A-Za-z_][A-Za-z0-9._-]{0,31}\\$?|[0-9]{1,10}");
    private static final Pattern MODE = Pattern.compile("0?[0-7]{3}|[0-7]{4}");

    /**
     * @param path a path to read through: a {@code /proc/self/fd/N} path reaches the object its descriptor holds
     * @param follow whether a symlink at {@code path} is followed (always, for a /proc/self/fd path)
     */
    static Meta read(Path path, boolean follow) throws IOException {
        LinkOption[] opts = follow ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
        PosixFileAttributes a = Files.readAttributes(path, PosixFileAttributes.class, opts);
        Map<String, Object> unix = Files.readAttributes(path, "unix:mode,uid,gid", opts);
        String type = a.isRegularFile() ? "file" : a.isDirectory() ? "directory" : a.isSymbolicLink() ? "symlink" : "other";
        return new Meta(type, a.size(), (Integer) unix.get("mode") & 07777, a.owner(), a.group(), (Integer) unix.get("uid"),
            (Integer) unix.get("gid"), a.lastModifiedTime().toInstant().toString(), a.fileKey());
    }

    /** @return the mode as ls and chmod show it, e.g. {@code 0644} */
    String modeText() { return octal(mode); }

    static String octal(int mode) { return String.format("%04o", mode & 07777); }

    /** @return the fields every file action reports */
    Map<String, Object> toData() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("type", type);
        d.put("size", size);
        d.put("mode", modeText());
        d.put("owner", owner.getName());
        d.put("group", group.getName());
        d.put("uid", uid);
        d.put("gid", gid);
        d.put("modified", modified);
        return d;
    }

    /**
     * @param param the param's name
     * @param text  {@code 644}, {@code 0644} or {@code 4755}
     * @return the mode, or empty if not given
     */
    static Optional<Integer> parseMode(String param, Optional<String> text) throws InvalidParamException {
        if (text.isEmpty()) return Optional.empty();
        if (!MODE.matcher(text.get()).matches()) {
            throw new InvalidParamException(param, "must be an octal mode such as '0644' or '4755' (a string), got '"
                + PathPolicy.escape(text.get()) + "'");
        }
        return Optional.of(Integer.parseInt(text.get(), 8));
    }

    static Optional<UserPrincipal> user(String param, Optional<String> name) throws InvalidParamException {
        if (name.isEmpty()) return Optional.empty();
        check(param, name.get(), "user");
        try {
            return Optional.of(lookup().lookupPrincipalByName(name.get()));
        } catch (UserPrincipalNotFoundException e) {
            throw new InvalidParamException(param, "names no user of this host: '" + name.get() + "'");
        } catch (IOException e) {
            throw new InvalidParamException(param, "could not be looked up: " + e.getMessage());
        }
    }

    static Optional<GroupPrincipal> group(String param, Optional<String> name) throws InvalidParamException {
        if (name.isEmpty()) return Optional.empty();
        check(param, name.get(), "group");
        try {
            return Optional.of(lookup().lookupPrincipalByGroupName(name.get()));
        } catch (UserPrincipalNotFoundException e) {
            throw new InvalidParamException(param, "names no group of this host: '" + name.get() + "'");
        } catch (IOException e) {
            throw new InvalidParamException(param, "could not be looked up: " + e.getMessage());
        }
    }

    private static void check(String param, String name, String what) throws InvalidParamException {
        if (!PRINCIPAL.matcher(name).matches()) {
            throw new InvalidParamException(param, "must be a " + what + " name (letters, digits, '.', '_', '-') or a numeric id,"
                + " got '" + PathPolicy.escape(name) + "'");
        }
    }

    private static UserPrincipalLookupService lookup() {
        return java.nio.file.FileSystems.getDefault().getUserPrincipalLookupService();
    }

    /**
     * Sets owner, group and mode through a path that reaches exactly one object (a /proc/self/fd path): owner and group
     * first, since chown clears the setuid and setgid bits.
     */
    static void apply(Path fd, UserPrincipal owner, GroupPrincipal group, int mode) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(fd, PosixFileAttributeView.class);
        if (owner != null) view.setOwner(owner);
        if (group != null) view.setGroup(group);
        Files.setAttribute(fd, "unix:mode", mode);
    }
}
