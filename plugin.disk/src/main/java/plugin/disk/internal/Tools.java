package plugin.disk.internal;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;

/**
 * Finds the programs the disk actions run and runs them through {@link CommandContext#exec}. A missing
 * program is reported with the package that provides it, so the operator knows what to install.
 */
final class Tools {
    /** A service's PATH often lacks the sbin directories, where most of these programs live. */
    private static final List<String> SYSTEM_DIRS = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
        "/usr/bin", "/sbin", "/bin");

    /** Tool → {Debian/Ubuntu package, RHEL-like package}. */
    private static final Map<String, String[]> PACKAGES = Map.ofEntries(
        Map.entry("growpart", new String[] {"cloud-guest-utils", "cloud-utils-growpart"}),
        Map.entry("sgdisk", new String[] {"gdisk", "gdisk"}),
        Map.entry("parted", new String[] {"parted", "parted"}),
        Map.entry("mkfs.xfs", new String[] {"xfsprogs", "xfsprogs"}),
        Map.entry("xfs_growfs", new String[] {"xfsprogs", "xfsprogs"}),
        Map.entry("mkfs.ext4", new String[] {"e2fsprogs", "e2fsprogs"}),
        Map.entry("resize2fs", new String[] {"e2fsprogs", "e2fsprogs"}),
        Map.entry("e2fsck", new String[] {"e2fsprogs", "e2fsprogs"}),
        Map.entry("dumpe2fs", new String[] {"e2fsprogs", "e2fsprogs"}),
        Map.entry("lsblk", new String[] {"util-linux", "util-linux"}),
        Map.entry("blkid", new String[] {"util-linux", "util-linux"}),
        Map.entry("wipefs", new String[] {"util-linux", "util-linux"}),
        Map.entry("partx", new String[] {"util-linux", "util-linux"}),
        Map.entry("blockdev", new String[] {"util-linux", "util-linux"}),
        // Debian splits these out of util-linux into the (always installed) package "mount"
        Map.entry("mount", new String[] {"mount", "util-linux"}),
        Map.entry("umount", new String[] {"mount", "util-linux"}),
        Map.entry("losetup", new String[] {"mount", "util-linux"}));

    private final List<Path> dirs;

    /** @param dirs where to look, in order */
    Tools(List<Path> dirs) { this.dirs = List.copyOf(dirs); }

    /** @return tools found on this process's PATH, then in the usual system directories */
    static Tools fromEnvironment() {
        Set<String> dirs = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                if (d.startsWith("/")) dirs.add(d); // a relative PATH entry would depend on the working directory
            }
        }
        dirs.addAll(SYSTEM_DIRS);
        List<Path> paths = new ArrayList<>();
        for (String d : dirs) paths.add(Path.of(d));
        return new Tools(paths);
    }

    /** @param tool a program name @return its absolute path, if installed */
    Optional<Path> find(String tool) {
        for (Path d : dirs) {
            Path p = d.resolve(tool);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** @param tool a program name @return whether it is installed */
    boolean has(String tool) { return find(tool).isPresent(); }

    /**
     * @param tool a program name
     * @return its absolute path
     * @throws CommandException naming the tool, where it was looked for and the package that provides it
     */
    Path require(String tool) throws CommandException {
        Optional<Path> p = find(tool);
        if (p.isPresent()) return p.get();
        throw new CommandException(tool + " is not installed (looked in " + dirsText() + "): " + installHint(tool));
    }

    /** @param tools program names @throws CommandException for the first one missing */
    void requireAll(String... tools) throws CommandException {
        for (String t : tools) require(t);
    }

    /** @param tool a program name @return which package to install on Debian/Ubuntu and on RHEL-like systems */
    static String installHint(String tool) {
        String[] pkg = PACKAGES.get(tool);
        if (pkg == null) return "install the package that provides it";
        return "install package " + pkg[0] + " (Debian/Ubuntu) or " + pkg[1] + " (RHEL-like)";
    }

    private String dirsText() {
        StringBuilder sb = new StringBuilder();
        for (Path d : dirs) sb.append(sb.length() == 0 ? "" : ":").append(d);
        return sb.toString();
    }

    /**
     * Runs a program that only reports (lsblk, blkid, dumpe2fs); its output is for parsing and is not echoed.
     *
     * @return the exit code and output (stdout and stderr together)
     */
    ProcessResult query(CommandContext ctx, String tool, String... args) throws Exception {
        return ctx.exec(ProcessSpec.of(argv(tool, args)).capture());
    }

    /**
     * Runs a program that changes something; the command line and its output go to the command's output,
     * so the result shows what was done.
     *
     * @return the exit code and output (stdout and stderr together)
     */
    ProcessResult change(CommandContext ctx, String tool, String... args) throws Exception {
        List<String> argv = argv(tool, args);
        ctx.output().println("$ " + tool + (args.length == 0 ? "" : " " + String.join(" ", args)));
        ProcessResult r = ctx.exec(ProcessSpec.of(argv).capture());
        // progress meters (mke2fs) redraw themselves with backspaces and carriage returns: keep only the text
        String out = r.output() == null ? "" : r.output().replaceAll("\b+", "").replace("\r\n", "\n").replace('\r', '\n');
        if (!out.isEmpty()) ctx.output().write(out.endsWith("\n") ? out : out + "\n");
        if (r.exitCode() != 0) ctx.output().println("(exit " + r.exitCode() + ")");
        return r;
    }

    /**
     * {@link #change} that must succeed.
     *
     * @return the output
     * @throws CommandException naming the program, its exit code and the end of its output
     */
    String changeOrFail(CommandContext ctx, String tool, String... args) throws Exception {
        ProcessResult r = change(ctx, tool, args);
        if (r.exitCode() != 0) throw failed(tool, args, r);
        return r.output();
    }

    /** @return an exception naming the program, its arguments, its exit code and the end of its output */
    static CommandException failed(String tool, String[] args, ProcessResult r) {
        return new CommandException(tool + " " + String.join(" ", args) + " failed with exit code " + r.exitCode()
            + ": " + Text.why(r.output(), 4));
    }

    private List<String> argv(String tool, String... args) throws CommandException {
        List<String> argv = new ArrayList<>();
        argv.add(require(tool).toString());
        argv.addAll(Arrays.asList(args));
        return argv;
    }
}
