package plugin.backup.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;

/**
 * The system's GNU tar, which writes and reads every archive (see the README for why tar and not a Java library). It
 * is run with argument arrays through {@code CommandContext.exec}, in the C locale (stable messages; names in
 * listings quoted byte for byte) and with a PATH that finds gzip and zstd.
 */
final class GnuTar {
    private static final String[] DIRS = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"};
    static final String PATH = String.join(":", DIRS);

    private final Path program;
    private final String version;

    private GnuTar(Path program, String version) {
        this.program = program;
        this.version = version;
    }

    /**
     * @return the host's GNU tar
     * @throws CommandException if there is none, or the tar found is another one (busybox, bsdtar)
     */
    static GnuTar find(CommandContext ctx) throws CommandException, CommandCancelledException {
        Path p = program("tar").orElseThrow(() -> new CommandException("tar is not installed (looked in "
            + String.join(", ", DIRS) + "); install GNU tar (package tar). Nothing was changed."));
        ProcessResult r;
        try {
            r = ctx.exec(spec(List.of(p.toString(), "--version")).capture());
        } catch (IOException e) {
            throw new CommandException("cannot run " + p + ": " + e.getMessage() + ". Nothing was changed.");
        }
        String first = r.output().lines().findFirst().orElse("");
        if (r.exitCode() != 0 || !first.contains("GNU tar")) {
            throw new CommandException(p + " is not GNU tar (it says " + Text.quote(first) + "); backups need GNU tar"
                + " 1.30 or later (package tar). Nothing was changed.");
        }
        return new GnuTar(p, first.strip());
    }

    /** @param name a program @return where it is installed, if it is */
    static java.util.Optional<Path> program(String name) {
        for (String d : DIRS) {
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return java.util.Optional.of(p);
        }
        return java.util.Optional.empty();
    }

    /** @return its version line, e.g. {@code tar (GNU tar) 1.34} */
    String version() { return version; }

    /** @param args tar's arguments @return the whole argument array */
    List<String> argv(List<String> args) {
        List<String> argv = new ArrayList<>(args.size() + 1);
        argv.add(program.toString());
        argv.addAll(args);
        return argv;
    }

    /**
     * The metadata options, the same for writing and restoring: xattrs of every namespace (tar restores only
     * {@code user.*} unless told), POSIX ACLs, and SELinux contexts where SELinux is on.
     */
    static List<String> metadataOptions() {
        List<String> o = new ArrayList<>(List.of("--xattrs", "--xattrs-include=*", "--acls"));
        if (Files.isDirectory(Path.of("/sys/fs/selinux"))) o.add("--selinux");
        return o;
    }

    /** @param argv an argument array @return a spec that runs it in the C locale with a PATH that finds gzip and zstd */
    static ProcessSpec spec(List<String> argv) {
        return ProcessSpec.of(argv).env("LC_ALL", "C").env("PATH", PATH);
    }
}
