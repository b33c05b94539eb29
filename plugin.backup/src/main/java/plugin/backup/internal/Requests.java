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
    /** The destination that means the reference server: not reachable from a plugin yet (see the README). */
    static final String SERVER = "server";

    private Requests() {}

    /**
     * @return the destination directory a command names ({@code destination}), or the configured one
     * @throws CommandRefusedException for {@code "server"}, which needs an upload service the agent does not offer yet
     */
    static Destination destination(CommandContext ctx, AgentPaths paths, BackupSettings s) throws CommandException {
        Optional<String> d = ctx.params().optionalString("destination");
        if (d.isPresent() && d.get().equals(SERVER)) {
            throw new CommandRefusedException("param 'destination': \"server\" needs the agent to upload archives over its"
                + " own connection, which this agent's core does not offer to plugins yet; back up to a local directory"
                + " (the default is <data_dir>/backups). Nothing was changed.");
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
        String ref = ctx.params().string("archive");
        if (ref.isEmpty() || ref.indexOf('\0') >= 0 || ref.indexOf('\n') >= 0 || (!ref.startsWith("/") && ref.contains("/"))
                || ref.equals("..") || ref.equals(".")) {
            throw new InvalidParamException("archive", "must be an archive's file name in the destination, its absolute"
                + " path, or its sha256, got " + Text.quote(ref));
        }
        if (ref.startsWith("/")) absolute("archive", ref);
        return dest.find(ref).orElseThrow(() -> new CommandRefusedException("there is no archive " + Text.quote(ref)
            + (ref.startsWith("/") ? "" : " in " + dest.dir()) + (Destination.SHA256.matcher(ref).matches()
                ? " (backups held by the server cannot be reached from the agent yet)" : ""), ErrorCode.NOT_FOUND));
    }
}
