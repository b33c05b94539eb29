package plugin.backup.internal;

import java.nio.file.Path;
import java.util.Optional;

import agent.api.AgentPaths;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;
import agent.api.InvalidParamException;

/** Param checks the backup actions share. */
final class Requests {
    /** The destination that means the agent's server ({@link ServerBackups}). */
    static final String SERVER = "server";

    private Requests() {}

    /** @return whether the command names the agent's server as its destination */
    static boolean toServer(CommandContext ctx) throws CommandException {
        return ctx.params().optionalString("destination").filter(SERVER::equals).isPresent();
    }

    /**
     * @return the destination directory a command names ({@code destination}), or the configured one
     * @throws CommandRefusedException for {@code "server"}, for the actions that work on local archives only
     */
    static Destination destination(CommandContext ctx, AgentPaths paths, BackupSettings s) throws CommandException {
        Optional<String> d = ctx.params().optionalString("destination");
        if (d.isPresent() && d.get().equals(SERVER)) {
            throw new CommandRefusedException("param 'destination': " + ctx.command().action() + " works on local archives;"
                + " the server checked the sha256 of the copies it holds when they arrived, and keeps them. Nothing was changed.");
        }
        Path dir = d.isPresent() ? absolute("destination", d.get()) : s.destinationOr(paths.dataDir());
        return new Destination(dir.normalize());
    }

    /** @return the path, if it is absolute and has no {@code ..} */
    static Path absolute(String param, String value) throws InvalidParamException {
        if (value.isEmpty() || value.indexOf('\0') >= 0 || value.indexOf('\n') >= 0) {
            throw new InvalidParamException(param, "must be an absolute path, got " + Text.quote(value));
        }
        Path p = Path.of(value);
        if (!p.isAbsolute()) throw new InvalidParamException(param, "must be an absolute path, got " + Text.quote(value));
        for (Path part : p) {
            if (part.toString().equals("..")) throw new InvalidParamException(param, "must not contain '..', got " + Text.quote(value));
        }
        return p.normalize();
    }

    /**
     * @return the archive a command names ({@code archive}: a file name of the destination, an absolute path, or a
     *         sha256 from a manifest)
     */
    static Destination.Stored archive(CommandContext ctx, Destination dest) throws CommandException, java.io.IOException {
        String ref = archiveRef(ctx);
        return dest.find(ref).orElseThrow(() -> new CommandRefusedException("there is no archive " + Text.quote(ref)
            + (ref.startsWith("/") ? "" : " in " + dest.dir()), ErrorCode.NOT_FOUND));
    }

    /** @return the {@code archive} param, checked: a file name, an absolute path or a sha256 */
    static String archiveRef(CommandContext ctx) throws CommandException {
        String ref = ctx.params().string("archive");
        if (ref.isEmpty() || ref.indexOf('\0') >= 0 || ref.indexOf('\n') >= 0 || (!ref.startsWith("/") && ref.contains("/"))
                || ref.equals("..") || ref.equals(".")) {
            throw new InvalidParamException("archive", "must be an archive's file name in the destination, its absolute"
                + " path, or its sha256, got " + Text.quote(ref));
        }
        if (ref.startsWith("/")) absolute("archive", ref);
        return ref;
    }
}
