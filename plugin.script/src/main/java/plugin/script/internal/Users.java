package plugin.script.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;

/** Who a script runs as: the passwd entry and groups of a user, from the system's name service (getent, id). */
final class Users {
    /** A user name as useradd accepts it (and Samba's trailing '$'); never an option, never a path. */
    static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?");

    private Users() {}

    /**
     * @param name   the user name
     * @param uid    its uid
     * @param gid    its primary gid
     * @param groups every group it is in, the primary one included (what initgroups(3) gives)
     * @param home   its home directory
     */
    record User(String name, long uid, long gid, List<Long> groups, String home) {}

    /** @return the uid the agent runs as (the owner of /proc/self is the process's effective uid) */
    static int agentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot tell which user the agent runs as from /proc/self: " + e, e);
        }
    }

    /**
     * Looks a user up through NSS ({@code getent passwd}, {@code id -G}), so LDAP and sssd users count as local ones do.
     *
     * @throws CommandRefusedException with {@link ErrorCode#NOT_FOUND} if there is no such user
     */
    static User lookup(CommandContext ctx, String name) throws CommandException, CommandCancelledException, IOException {
        Path getent = Tools.find("getent", "libc-bin (glibc)");
        ProcessResult pw = ctx.exec(ProcessSpec.of(getent.toString(), "passwd", name).env("LC_ALL", "C").capture());
        if (pw.exitCode() == 2) {
            throw new CommandRefusedException("param 'runAs': there is no user " + Text.quote(name) + " on this host", ErrorCode.NOT_FOUND);
        }
        if (pw.exitCode() != 0) {
            throw new CommandException("getent passwd " + name + " failed (exit code " + pw.exitCode() + "): "
                + Text.quote(Text.lastLine(pw.output())) + "; nothing was run");
        }
        String line = pw.output().lines().findFirst().orElse("");
        String[] f = line.split(":", -1);
        if (f.length < 7 || !f[0].equals(name)) {
            throw new CommandException("getent passwd " + name + " printed an entry that is not a passwd line: "
                + Text.quote(line) + "; nothing was run");
        }
        long uid = number(f[2], line);
        long gid = number(f[3], line);
        Path id = Tools.find("id", "coreutils");
        ProcessResult g = ctx.exec(ProcessSpec.of(id.toString(), "-G", "--", name).env("LC_ALL", "C").capture());
        if (g.exitCode() != 0) {
            throw new CommandException("id -G " + name + " failed (exit code " + g.exitCode() + "): "
                + Text.quote(Text.lastLine(g.output())) + "; nothing was run");
        }
        List<Long> groups = new ArrayList<>();
        for (String s : g.output().strip().split("\\s+")) {
            if (!s.isEmpty()) groups.add(number(s, g.output().strip()));
        }
        if (!groups.contains(gid)) groups.add(0, gid);
        return new User(name, uid, gid, List.copyOf(groups), f[5].isEmpty() ? "/" : f[5]);
    }

    private static long number(String s, String line) throws CommandException {
        try {
            long n = Long.parseLong(s);
            if (n >= 0 && n <= 0xFFFFFFFEL) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CommandException("the name service gave an id that is not a number in " + Text.quote(line) + "; nothing was run");
    }
}
