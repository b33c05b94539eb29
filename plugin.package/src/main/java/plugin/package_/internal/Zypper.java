package plugin.package_.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import agent.api.CommandException;
import agent.api.ErrorCode;
import agent.api.ProcessResult;

/**
 * SUSE and openSUSE: zypper to change, rpm to list. {@code --non-interactive} with licences agreed, XML output where
 * it is parsed; a dry run is {@code --dry-run}. zypper waits for its own lock {@code ZYPP_LOCK_TIMEOUT} seconds. Security
 * fixes are patches: {@code package.updates} lists the security patches beside the package updates, and
 * {@code securityOnly} upgrades apply them ({@code zypper patch --category security}).
 *
 * <p>Not run on this project's test machines (Debian): tested by the argument arrays built and by parsing recorded
 * outputs; see the README.
 */
final class Zypper extends Manager {
    /** zypper's exit codes (zypper(8), EXIT CODES). */
    static final int EXIT_LOCKED = 7, EXIT_CAP_NOT_FOUND = 104;
    private static final Pattern NOT_FOUND = Pattern.compile("(?:Package|No provider of) '([^']+)' (?:not found|found)");
    private static final Pattern LOCKED = Pattern.compile("(System management is locked by the application with pid \\d+[^\\n]*)");

    Zypper(Runner run, PackageSettings settings) {
        super(run, settings);
        run.env("ZYPP_LOCK_TIMEOUT", Integer.toString(settings.lockWaitSeconds()));
    }

    @Override
    String id() { return "zypper"; }

    @Override
    Grammar grammar() { return Grammar.RPM; }

    @Override
    List<Pkg> installed() throws Exception { return rpmInstalled(); }

    private static List<String> base(boolean xml) {
        List<String> a = new ArrayList<>(List.of("zypper", "--non-interactive", "--no-color"));
        if (xml) a.add("--xmlout");
        return a;
    }

    @Override
    List<LockProbe.Lock> locks(boolean refresh) {
        List<LockProbe.Lock> l = new ArrayList<>(rpmLocks());
        l.add(LockProbe.Lock.pidFile(Path.of("/run/zypp.pid")));
        l.add(LockProbe.Lock.pidFile(Path.of("/var/run/zypp.pid")));
        return l;
    }

    @Override
    boolean simulationLocks() { return true; }

    @Override
    List<String> refreshArgs() {
        List<String> a = base(false);
        a.add("refresh");
        return a;
    }

    /** zypper's spec for a version: {@code name=version}. */
    private static String spec(Spec s) { return s.version() == null ? s.name() : s.name() + "=" + s.version(); }

    @Override
    List<String> installArgs(List<Spec> specs, boolean simulate, boolean allowDowngrade) {
        List<String> a = base(true);
        a.addAll(List.of("install", "--auto-agree-with-licenses"));
        if (allowDowngrade) a.add("--oldpackage");
        if (simulate) a.add("--dry-run");
        for (Spec s : specs) a.add(spec(s));
        return a;
    }

    @Override
    List<String> removeArgs(List<String> names, boolean purge, boolean simulate) {
        List<String> a = base(true);
        a.add("remove");
        if (simulate) a.add("--dry-run");
        a.addAll(names);
        return a;
    }

    @Override
    List<String> upgradeArgs(List<Spec> specs, boolean securityOnly, boolean simulate) throws CommandException {
        List<String> a = base(true);
        if (securityOnly) {
            if (!specs.isEmpty()) {
                throw new agent.api.InvalidParamException("names", "cannot be combined with securityOnly on zypper: security"
                    + " fixes come as patches (zypper patch --category security), which cover packages of their own");
            }
            a.addAll(List.of("patch", "--category", "security", "--auto-agree-with-licenses"));
        } else {
            a.addAll(List.of("update", "--auto-agree-with-licenses"));
            for (Spec s : specs) a.add(spec(s));
        }
        if (simulate) a.add("--dry-run");
        return a;
    }

    @Override
    List<Update> updates() throws Exception {
        ProcessResult r = run.query(List.of("zypper", "--non-interactive", "--no-color", "--xmlout", "list-updates"));
        if (failure(r, "zypper list-updates") != null) throw exception(failure(r, "zypper list-updates"));
        return ZypperOutput.updates(r.output());
    }

    /** @return the security patches that apply to this host */
    List<ZypperOutput.Patch> securityPatches() throws Exception {
        ProcessResult r = run.query(List.of("zypper", "--non-interactive", "--no-color", "--xmlout", "list-patches", "--category", "security"));
        if (failure(r, "zypper list-patches") != null) throw exception(failure(r, "zypper list-patches"));
        return ZypperOutput.patches(r.output());
    }

    @Override
    List<Change> parsePlan(String output) { return ZypperOutput.plan(output); }

    @Override
    boolean simulationSucceeded(ProcessResult r) { return ok(r.exitCode()); }

    /** 0, and the informational codes 100-103 and 106 (updates, security updates, reboot or restart needed, repos skipped). */
    static boolean ok(int exit) { return exit == 0 || (exit >= 100 && exit <= 103) || exit == 106; }

    @Override
    Failure failure(ProcessResult r, String what) {
        if (ok(r.exitCode())) return null;
        String out = r.output() == null ? "" : r.output();
        Matcher lock = LOCKED.matcher(out);
        if (r.exitCode() == EXIT_LOCKED || lock.find()) {
            lock.reset();
            return new Failure(ErrorCode.BUSY, "the package manager is busy: "
                + (lock.find() ? lock.group(1).replaceAll("\\.+$", "") : "zypper's lock is held (exit code 7)") + ". Nothing was changed.");
        }
        if (r.exitCode() == EXIT_CAP_NOT_FOUND) {
            List<String> missing = new ArrayList<>();
            Matcher m = NOT_FOUND.matcher(out);
            while (m.find()) if (!missing.contains(m.group(1))) missing.add(m.group(1));
            return new Failure(ErrorCode.NOT_FOUND, what + ": " + (missing.isEmpty() ? "a package asked for was not found"
                : "no package matches " + String.join(", ", missing.stream().map(x -> "'" + x + "'").toList()))
                + " (check the name and version, or refresh). Nothing was changed.");
        }
        List<String> errors = ZypperOutput.errors(out);
        return new Failure(ErrorCode.FAILED, what + " failed with exit code " + r.exitCode() + ": "
            + (errors.isEmpty() ? Runner.tail(out, 3) : String.join(" / ", errors)));
    }

    @Override
    Reboot reboot() throws Exception {
        ProcessResult r = run.query(List.of("zypper", "--non-interactive", "needs-rebooting"));
        if (r.exitCode() == 102) return new Reboot(true, "zypper needs-rebooting: " + Runner.tail(r.output(), 1));
        if (r.exitCode() == 0) return Reboot.no();
        if (Files.exists(Path.of("/run/reboot-needed"))) return new Reboot(true, "/run/reboot-needed exists");
        return Reboot.byKernel(Versions.RPM);
    }
}
