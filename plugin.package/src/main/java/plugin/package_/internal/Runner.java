package plugin.package_.internal;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * Runs the package manager's programs through {@link CommandContext#exec}: argument arrays, stdin from /dev/null, an
 * environment that keeps every program from asking anything (the manager adds its own variables), and a PATH with
 * the sbin directories, which maintainer scripts need and a service's PATH may lack.
 */
final class Runner {
    static final List<String> SYSTEM_DIRS = List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin");

    final CommandContext ctx;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<Path> dirs;

    Runner(CommandContext ctx) { this(ctx, searchPath()); }

    Runner(CommandContext ctx, List<Path> dirs) {
        this.ctx = ctx;
        this.dirs = List.copyOf(dirs);
        env.put("PATH", String.join(":", SYSTEM_DIRS));
        env.put("LC_ALL", "C"); // the messages parsed are the untranslated ones
        env.put("LANG", "C");
        env.put("TERM", "dumb");
    }

    static List<Path> searchPath() {
        Set<String> d = new LinkedHashSet<>(SYSTEM_DIRS);
        String path = System.getenv("PATH");
        if (path != null) {
            for (String p : path.split(File.pathSeparator)) if (p.startsWith("/")) d.add(p);
        }
        List<Path> out = new ArrayList<>();
        for (String s : d) out.add(Path.of(s));
        return out;
    }

    Runner env(String name, String value) {
        env.put(name, value);
        return this;
    }

    Map<String, String> environment() { return env; }

    /** @return the program's absolute path, if installed */
    Optional<Path> find(String program) {
        for (Path d : dirs) {
            Path p = d.resolve(program);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** Runs a program that only reports; its output is for parsing, not echoed. */
    ProcessResult query(List<String> argv) throws Exception { return ctx.exec(spec(argv)); }

    /** Runs a program that may change the host: the command line and its output go to the command's output. */
    ProcessResult change(List<String> argv) throws Exception {
        ctx.output().println("$ " + String.join(" ", argv));
        ProcessResult r = ctx.exec(spec(argv));
        String out = r.output() == null ? "" : r.output().replace("\r\n", "\n").replace('\r', '\n');
        if (!out.isEmpty()) ctx.output().write(out.endsWith("\n") ? out : out + "\n");
        if (r.exitCode() != 0) ctx.output().println("(exit " + r.exitCode() + ")");
        return r;
    }

    private ProcessSpec spec(List<String> argv) throws CommandException {
        List<String> a = new ArrayList<>(argv);
        if (!a.get(0).startsWith("/")) {
            String program = a.get(0);
            a.set(0, find(program).orElseThrow(() -> new CommandException(program + " is not installed (looked in "
                + String.join(":", dirs.stream().map(Path::toString).toList()) + ")")).toString());
        }
        ProcessSpec s = ProcessSpec.of(a).capture();
        env.forEach(s::env);
        return s;
    }

    /** @return the last lines of a program's output, one line, for an error message */
    static String tail(String output, int lines) {
        if (output == null || output.isBlank()) return "(no output)";
        List<String> all = output.strip().lines().filter(l -> !l.isBlank()).toList();
        return String.join(" / ", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
