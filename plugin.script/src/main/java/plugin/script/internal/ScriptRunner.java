package plugin.script.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.DryRun;
import agent.api.ErrorCode;
import agent.api.InvalidParamException;
import agent.api.Params;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;
import agent.api.SettingsType;
import agent.api.Status;

/**
 * {@code script.run}: an inline script ({@code script}, run by {@code interpreter}, default {@code /bin/bash}) or a
 * named one from the scripts directory ({@code name}), with {@code args}, {@code env} (added to a minimal clean
 * environment, never the agent's), {@code workingDir}, {@code stdin}, {@code runAs} and {@code timeoutSeconds}.
 *
 * <p>Everything runs through {@code CommandContext.exec} with an argument array, so the agent's own containment of
 * the command's processes applies. The clean environment and stdin are {@code ProcessSpec}'s ({@code clearEnvironment},
 * {@code stdin}); util-linux {@code setpriv} at the front of the array gives the user's uid, gid and groups.
 */
@Component
@Actions("script.run")
@DryRun
@SettingsType(ScriptSettings.class)
public final class ScriptRunner implements CommandHandler {
    /** A script's exit code that asks for a reboot, then the command's report (as the SSM agent's 194). */
    static final int REBOOT_EXIT = 194;
    static final String DEFAULT_INTERPRETER = "/bin/bash";
    /** Where an inline script run as another user is written: every user can pass through it (sticky, 1777). */
    private static final Path SHARED_TMP = Path.of("/tmp");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

    @Reference
    AgentPaths paths;

    private final Object ledgerLock = new Object();

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        ScriptSettings settings = ctx.settings(ScriptSettings.class);
        Request r = Request.read(ctx.params(), settings);
        int agentUid = Users.agentUid();
        if (r.runAs != null && agentUid != 0) {
            throw new CommandRefusedException("param 'runAs': running as another user needs the agent to run as root; it"
                + " runs as uid " + agentUid);
        }
        String program;
        ScriptHeader header = ScriptHeader.NONE;
        if (r.name != null) {
            Path dir = settings.scriptsDir() != null ? settings.scriptsDir() : paths.scriptsDir();
            ScriptsDirectory sd = ScriptsDirectory.openIfExists(dir, agentUid);
            if (sd == null) {
                throw new CommandRefusedException("there is no scripts directory " + dir + " on this host, so no script "
                    + Text.quote(r.name) + " (plugins.settings.script.scripts_dir or the agent's scripts_dir)", ErrorCode.NOT_FOUND);
            }
            Path script = sd.script(r.name);
            header = ScriptsDirectory.header(script);
            checkArity(header, r);
            program = script.toString();
        } else {
            program = r.interpreter;
        }
        Users.User user = r.runAs == null ? null : Users.lookup(ctx, r.runAs);
        if (ctx.dryRun()) return dryRun(r, program, user);

        Path setpriv = user == null ? null : Tools.find("setpriv", "util-linux");
        // the agent's own temp dir is under its owner-only data dir, where another user cannot reach the script file
        Path tmp = user == null ? Files.createTempDirectory("outpost-script-")
            : Files.createTempDirectory(SHARED_TMP, "outpost-script-");
        try {
            // root's; others may pass through to the files they own, but not list it
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
            List<String> argv = new ArrayList<>();
            if (user != null) {
                argv.addAll(List.of(setpriv.toString(), "--reuid=" + user.uid(), "--regid=" + user.gid(),
                    user.groups().isEmpty() ? "--clear-groups" : "--groups=" + join(user.groups()), "--inh-caps=-all", "--"));
            }
            argv.add(program);
            if (r.text != null) {
                Path file = Files.writeString(tmp.resolve("script"), r.text, StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
                if (user != null) Files.setAttribute(file, "unix:uid", (int) user.uid(), LinkOption.NOFOLLOW_LINKS);
                argv.add(file.toString());
            }
            argv.addAll(r.args);
            ProcessSpec spec = ProcessSpec.of(argv).directory(Path.of(r.workingDir)).clearEnvironment();
            environment(r, user).forEach(spec::env);
            spec.env(Containment.MARKER, ctx.command().id()); // last: a command's env cannot replace it
            if (r.stdin != null) spec.stdin(r.stdin);
            return run(ctx, settings, r, spec, user);
        } finally {
            deleteTree(tmp);
        }
    }

    private Object run(CommandContext ctx, ScriptSettings settings, Request r, ProcessSpec spec, Users.User user)
            throws CommandException, CommandCancelledException {
        long started = System.nanoTime();
        ProcessResult result;
        try (Containment c = new Containment(ctx, ctx.command().id(), TimeUnit.SECONDS.toNanos(r.timeoutSeconds)).start()) {
            try {
                result = ctx.exec(spec);
            } catch (CommandCancelledException e) {
                c.sweepNow(); // what left the tree the agent killed
                throw e;
            } catch (IOException e) {
                throw new CommandException("the script could not be started: " + e.getMessage());
            }
            if (c.limitPassed()) {
                c.sweepNow();
                throw new CommandException("the script ran longer than its limit of " + r.timeoutSeconds + " s ("
                    + r.limitSource + "); it and every process it started were killed", ErrorCode.TIMED_OUT);
            }
        }
        int code = result.exitCode();
        ctx.exitCode(code);
        long durationMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("exitCode", code);
        data.put("name", r.name);
        data.put("runAs", user == null ? null : user.name());
        data.put("durationMs", durationMs);
        RebootLedger ledger = new RebootLedger(paths.pluginDir("script"));
        Duration window = Duration.ofMinutes(settings.rebootWindowMinutes());
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        try {
            if (code == REBOOT_EXIT) return reboot(ctx, settings, ledger, r.ledgerKey(), now, window, data);
            synchronized (ledgerLock) {
                ledger.endRow(r.ledgerKey(), now, window);
            }
        } catch (IOException e) {
            throw new CommandException("the script exited with code " + code + ", but the plugin's record of reboot"
                + " requests could not be updated: " + e.getMessage());
        }
        if (code != 0) throw new CommandException("the script exited with code " + code, ErrorCode.NONZERO_EXIT);
        return data;
    }

    /**
     * Exit code 194: record durably what to report once the agent is back, count the request, run the reboot command,
     * then wait for the shutdown to end this JVM. A stop while waiting is almost always that shutdown: the wait
     * goes on, so the command stays running in the store and ends with the recorded result after the restart.
     */
    private Object reboot(CommandContext ctx, ScriptSettings settings, RebootLedger ledger, String key, Instant now,
            Duration window, Map<String, Object> data) throws IOException, CommandException, CommandCancelledException {
        String command = String.join(" ", settings.rebootCommand());
        int row;
        synchronized (ledgerLock) {
            row = ledger.inARow(key, now, window);
            if (row >= settings.maxReboots()) {
                throw new CommandException("the script exited with code 194 (reboot the host, then report), but it has"
                    + " already asked for " + row + " reboot" + (row == 1 ? "" : "s") + " in a row (each within "
                    + settings.rebootWindowMinutes() + " minutes of the last) and plugins.settings.script.max_reboots is "
                    + settings.maxReboots() + ": the host was not rebooted");
            }
            ledger.recordRequest(key, now, window);
        }
        Map<String, Object> planned = new LinkedHashMap<>(data);
        planned.put("rebooted", true);
        planned.put("rebootRequestedAt", now.toString());
        planned.put("rebootsInARow", row + 1);
        planned.put("note", "the script exited with code 194: the host was rebooted with '" + command + "' and this"
            + " command was reported after the agent started again; it was not run again");
        try {
            ctx.resultOnRestart(Status.SUCCEEDED, null, planned);
        } catch (UncheckedIOException e) {
            throw new CommandException("the script exited with code 194, but how to report it after the restart could not"
                + " be recorded (" + e.getMessage() + "): the host was not rebooted");
        }
        ctx.output().println("[outpost] exit code 194: rebooting the host ($ " + command + "); this command is reported"
            + " once the agent is back");
        ProcessResult r;
        try {
            r = ctx.exec(ProcessSpec.of(settings.rebootCommand()));
        } catch (IOException e) {
            throw new CommandException("the script exited with code 194, but the reboot command could not be started: "
                + e.getMessage() + " (plugins.settings.script.reboot_command); the host was not rebooted");
        } catch (CommandCancelledException e) {
            // the agent is stopped while the reboot command runs: by the reboot itself, most likely (systemctl reboot
            // may stop the agent before it returns). Ending now would report the command cancelled; wait as below, so
            // it is reported from its record after the restart
            r = null;
        }
        if (r != null && r.exitCode() != 0) {
            throw new CommandException("the script exited with code 194, but the reboot command '" + command
                + "' exited with code " + r.exitCode() + ": the host was not rebooted");
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.rebootWaitSeconds());
        for (long left; (left = end - System.nanoTime()) > 0;) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                // see above: the shutdown, most likely; keep the command running until the JVM goes
            }
        }
        throw new CommandException("the script exited with code 194 and the reboot command '" + command + "' succeeded,"
            + " but the agent was still running " + settings.rebootWaitSeconds() + " s later: the host did not reboot"
            + " (plugins.settings.script.reboot_wait_seconds)");
    }

    private static void checkArity(ScriptHeader h, Request r) throws InvalidParamException {
        if (h.args().isEmpty()) return;
        int n = r.args.size();
        int max = h.maxArgs();
        if (n < h.minArgs() || (max >= 0 && n > max)) {
            throw new InvalidParamException("args", "must fit the script's declared arguments '" + h.usage() + "' ("
                + h.minArgs() + (max < 0 ? " or more" : max == h.minArgs() ? "" : " to " + max) + "), got " + n);
        }
    }

    /** The minimal clean environment, then the command's {@code env} over it. */
    private static Map<String, String> environment(Request r, Users.User user) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", Tools.PATH);
        env.put("LANG", "C.UTF-8");
        env.put("HOME", user != null ? user.home() : System.getProperty("user.home"));
        String name = user != null ? user.name() : System.getProperty("user.name");
        env.put("USER", name);
        env.put("LOGNAME", name);
        env.putAll(r.env);
        return env;
    }

    private static Map<String, Object> dryRun(Request r, String program, Users.User user) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("changed", true); // running a script may change anything; a dry run checks what would run, and as whom
        d.put("name", r.name);
        d.put("program", program);
        d.put("args", r.args);
        d.put("env", new ArrayList<>(r.env.keySet())); // names only: values may be secrets
        d.put("workingDir", r.workingDir);
        d.put("stdinBytes", r.stdin == null ? 0 : r.stdin.getBytes(StandardCharsets.UTF_8).length);
        d.put("timeoutSeconds", r.timeoutSeconds);
        if (user != null) {
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("user", user.name());
            u.put("uid", user.uid());
            u.put("gid", user.gid());
            u.put("groups", new ArrayList<>(user.groups()));
            d.put("runAs", u);
        } else {
            d.put("runAs", null);
        }
        return d;
    }

    private static String join(List<Long> ids) {
        StringBuilder sb = new StringBuilder();
        for (Long id : ids) sb.append(sb.length() == 0 ? "" : ",").append(id);
        return sb.toString();
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temp dir left behind is harmless: it holds nothing others can read
        }
    }

    /** A script.run command's params, checked, and the host's consent applied. */
    private static final class Request {
        String text;
        String name;
        String interpreter;
        List<String> args;
        Map<String, String> env = new LinkedHashMap<>();
        String workingDir;
        String stdin;
        String runAs;
        long timeoutSeconds;
        String limitSource;

        static Request read(Params p, ScriptSettings s) throws CommandException {
            Request r = new Request();
            r.text = p.optionalString("script").orElse(null);
            r.name = p.optionalString("name").orElse(null);
            if (r.text != null && r.name != null) {
                throw new InvalidParamException("name", "cannot be given with 'script': run either script text or a named"
                    + " script of the scripts directory");
            }
            if (r.text == null && r.name == null) {
                throw new InvalidParamException("script", "or 'name' is required: the text of a script to run, or the name"
                    + " of one in the scripts directory");
            }
            if (r.name != null) ScriptsDirectory.checkName(r.name);
            if (r.text != null) noNul("script", r.text);
            Optional<String> interp = p.optionalString("interpreter");
            if (interp.isPresent() && r.name != null) {
                throw new InvalidParamException("interpreter", "applies to inline scripts only: a named script is run"
                    + " as the executable it is (its #! line)");
            }
            if (r.text != null) r.interpreter = checkInterpreter(interp.orElse(DEFAULT_INTERPRETER));
            r.args = p.strings("args");
            for (String a : r.args) noNul("args", a);
            for (Map.Entry<String, Object> e : p.object("env").entrySet()) {
                if (!ENV_NAME.matcher(e.getKey()).matches()) {
                    throw new InvalidParamException("env", "names must be letters, digits and '_', not starting with a digit,"
                        + " got " + Text.quote(e.getKey()));
                }
                if (!(e.getValue() instanceof String)) {
                    throw new InvalidParamException("env", "values must be strings, got " + e.getValue() + " for " + e.getKey());
                }
                noNul("env", (String) e.getValue());
                r.env.put(e.getKey(), (String) e.getValue());
            }
            r.workingDir = p.optionalString("workingDir").orElse("/");
            Path wd = Path.of(r.workingDir);
            if (!wd.isAbsolute() || !Files.isDirectory(wd)) {
                throw new InvalidParamException("workingDir", "must be an existing directory given by its absolute path, got "
                    + Text.quote(r.workingDir));
            }
            r.stdin = p.optionalString("stdin").orElse(null);
            if (r.stdin != null) noNul("stdin", r.stdin);
            r.runAs = p.optionalString("runAs").orElse(null);
            if (r.runAs != null && !Users.NAME.matcher(r.runAs).matches()) {
                throw new InvalidParamException("runAs", "must be a user name, got " + Text.quote(r.runAs));
            }
            r.timeoutSeconds = p.integer("timeoutSeconds", 1, ScriptSettings.MAX_SECONDS, s.maxSeconds());
            r.limitSource = p.has("timeoutSeconds") ? "param timeoutSeconds" : "plugins.settings.script.max_seconds";

            // the host's consent, checked before anything runs
            if (r.text != null && !s.inline()) {
                throw new CommandRefusedException("inline scripts are not allowed on this host (plugins.settings.script"
                    + ".inline is false); run a script of the scripts directory by name");
            }
            if (r.runAs != null && !s.mayRunAs(r.runAs)) {
                throw new CommandRefusedException("param 'runAs': user " + Text.quote(r.runAs) + " is not allowed on this"
                    + " host (plugins.settings.script.run_as allows " + (s.runAs().isEmpty() ? "no user" : s.runAs()) + ")");
            }
            if (r.timeoutSeconds > s.maxSeconds()) {
                throw new CommandRefusedException("param 'timeoutSeconds': " + r.timeoutSeconds + " s is more than this host"
                    + " allows (plugins.settings.script.max_seconds is " + s.maxSeconds() + ")");
            }
            return r;
        }

        /** What identifies the script for the reboot ledger. */
        String ledgerKey() {
            List<String> parts = new ArrayList<>();
            parts.add(name != null ? "name" : "inline");
            parts.add(name != null ? name : text);
            parts.add(interpreter);
            parts.add(runAs);
            parts.addAll(args);
            return RebootLedger.key(parts);
        }

        private static String checkInterpreter(String path) throws InvalidParamException {
            Path p = Path.of(path);
            if (!p.isAbsolute()) {
                throw new InvalidParamException("interpreter", "must be the absolute path of a program, got "
                    + Text.quote(path));
            }
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                throw new InvalidParamException("interpreter", "must be an executable file, but " + Text.quote(path)
                    + (Files.exists(p) ? " is not one" : " does not exist on this host"));
            }
            return path;
        }

        private static void noNul(String param, String value) throws InvalidParamException {
            if (value.indexOf('\0') >= 0) throw new InvalidParamException(param, "must not contain NUL characters");
        }
    }
}
