package plugin.package_.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import agent.api.CommandException;
import agent.api.ErrorCode;
import agent.api.ProcessResult;

/**
 * Fedora, RHEL and their kin: dnf (4 or 5) or yum to change, rpm to list. Non-interactive with {@code -y}; a dry run
 * is {@code --assumeno} (which resolves the transaction, prints it and stops); security updates come from the
 * repositories' advisories ({@code --security}). dnf 4 is told to fail rather than wait on its own lock
 * ({@code exit_on_lock}): the plugin has waited, with its bound, already.
 *
 * <p>Not run on this project's test machines (Debian): tested by the argument arrays built and by parsing recorded
 * outputs; see the README.
 */
final class Dnf extends Manager {
    enum Flavour {
        DNF4("dnf"), DNF5("dnf"), YUM("yum");

        final String program;

        Flavour(String program) { this.program = program; }
    }

    private static final Pattern NO_MATCH = Pattern.compile("No match for argument: (\\S+)");
    private static final Pattern LOCKED = Pattern.compile("(\\S+ already locked by \\d+|can't create transaction lock on .*|"
        + "Waiting for process with pid \\d+ to finish.*|Another app is currently holding the yum lock.*)");
    private static final Pattern ERROR = Pattern.compile("^Error: (.*)$", Pattern.MULTILINE);

    final Flavour flavour;

    Dnf(Runner run, PackageSettings settings, Flavour flavour) {
        super(run, settings);
        this.flavour = flavour;
    }

    /** @return dnf5 where {@code dnf} is dnf5 (Fedora 41 on), else dnf 4 */
    static Flavour flavourOf(Runner run, String program) {
        Optional<Path> dnf = run.find(program);
        if (dnf.isEmpty()) return run.find("dnf5").isPresent() ? Flavour.DNF5 : Flavour.DNF4;
        try {
            Path real = dnf.get().toRealPath();
            return real.getFileName().toString().startsWith("dnf5") ? Flavour.DNF5 : Flavour.DNF4;
        } catch (java.io.IOException e) {
            return Flavour.DNF4;
        }
    }

    @Override
    String id() { return flavour == Flavour.YUM ? "yum" : "dnf"; }

    @Override
    Grammar grammar() { return Grammar.RPM; }

    @Override
    List<Pkg> installed() throws Exception { return rpmInstalled(); }

    private List<String> base(boolean simulate) {
        List<String> a = new ArrayList<>(List.of(flavour.program, simulate ? "--assumeno" : "-y"));
        if (flavour == Flavour.DNF4) a.add("--setopt=exit_on_lock=True");
        for (String o : settings.dnfOptions()) a.add("--setopt=" + o);
        return a;
    }

    @Override
    List<LockProbe.Lock> locks(boolean refresh) {
        List<LockProbe.Lock> l = new ArrayList<>(rpmLocks());
        if (flavour == Flavour.YUM) {
            l.add(LockProbe.Lock.pidFile(Path.of("/var/run/yum.pid")));
        } else {
            l.add(LockProbe.Lock.pidFile(Path.of("/var/cache/dnf/metadata_lock.pid")));
            l.add(LockProbe.Lock.pidFile(Path.of("/var/cache/dnf/download_lock.pid")));
            l.add(LockProbe.Lock.pidFile(Path.of("/var/lib/dnf/rpmdb_lock.pid")));
        }
        return l;
    }

    @Override
    boolean simulationLocks() { return true; }

    @Override
    List<String> refreshArgs() {
        List<String> a = new ArrayList<>(List.of(flavour.program, "-q"));
        for (String o : settings.dnfOptions()) a.add("--setopt=" + o);
        a.addAll(List.of("makecache", "--refresh"));
        return a;
    }

    /** dnf's spec for a version: {@code name-[epoch:]version[-release]}. */
    private static String spec(Spec s) { return s.version() == null ? s.name() : s.name() + "-" + s.version(); }

    @Override
    List<String> installArgs(List<Spec> specs, boolean simulate, boolean allowDowngrade) {
        List<String> a = base(simulate);
        // dnf's install takes a lower version as a downgrade by itself; the param is checked before this
        a.add("install");
        for (Spec s : specs) a.add(spec(s));
        return a;
    }

    @Override
    List<String> removeArgs(List<String> names, boolean purge, boolean simulate) {
        List<String> a = base(simulate);
        a.add("remove");
        a.addAll(names);
        return a;
    }

    @Override
    List<String> upgradeArgs(List<Spec> specs, boolean securityOnly, boolean simulate) {
        List<String> a = base(simulate);
        a.add("upgrade");
        if (securityOnly) a.add("--security");
        for (Spec s : specs) a.add(spec(s));
        return a;
    }

    /** @return the check-update command: dnf5 calls it check-upgrade */
    List<String> checkUpdateArgs(boolean securityOnly) {
        List<String> a = new ArrayList<>(List.of(flavour.program, "-q"));
        for (String o : settings.dnfOptions()) a.add("--setopt=" + o);
        if (flavour == Flavour.DNF5) {
            a.add("check-upgrade");
            if (securityOnly) a.add("--security");
        } else {
            if (securityOnly) a.add("--security");
            a.add("check-update");
        }
        return a;
    }

    @Override
    List<Update> updates() throws Exception {
        Map<String, Pkg> installed = new LinkedHashMap<>();
        for (Pkg p : installed()) installed.put(p.name() + "." + p.arch(), p);
        List<DnfOutput.Available> all = checkUpdate(false);
        List<DnfOutput.Available> security = checkUpdate(true);
        List<Update> out = new ArrayList<>();
        for (DnfOutput.Available a : all) {
            Pkg p = installed.get(a.name() + "." + a.arch());
            DnfOutput.Available sec = security.stream().filter(s -> s.name().equals(a.name()) && s.arch().equals(a.arch())).findFirst().orElse(null);
            out.add(new Update(a.name(), a.arch(), p == null ? null : p.version(), a.version(), sec != null,
                sec == null ? null : sec.version(), List.of(a.repo())));
        }
        return out;
    }

    private List<DnfOutput.Available> checkUpdate(boolean security) throws Exception {
        ProcessResult r = run.query(checkUpdateArgs(security));
        // 100: updates listed; 0: none
        if (r.exitCode() == 0) return List.of();
        if (r.exitCode() != 100) throw exception(failure(r, String.join(" ", checkUpdateArgs(security))));
        return DnfOutput.checkUpdate(r.output());
    }

    @Override
    List<Change> parsePlan(String output) { return DnfOutput.plan(output); }

    @Override
    boolean simulationSucceeded(ProcessResult r) {
        String out = r.output() == null ? "" : r.output();
        // --assumeno answers "no" to the transaction it printed: dnf 4 says "Operation aborted." and exits 1
        return r.exitCode() == 0 || (r.exitCode() == 1 && (out.contains("Operation aborted") || out.contains("Exiting due to strict setting")
            || out.contains("Operation aborted by the user")) && !NO_MATCH.matcher(out).find());
    }

    @Override
    Failure failure(ProcessResult r, String what) {
        String out = r.output() == null ? "" : r.output();
        Matcher lock = LOCKED.matcher(out);
        // 200: "There was a problem with acquiring or releasing of locks" (dnf(8))
        if (r.exitCode() == 200 || (r.exitCode() != 0 && lock.find())) {
            lock.reset();
            return new Failure(ErrorCode.BUSY, "the package manager is busy: " + (lock.find() ? lock.group(1) : Runner.tail(out, 1))
                + ". Nothing was changed.");
        }
        if (r.exitCode() == 0) return null;
        List<String> missing = new ArrayList<>();
        Matcher m = NO_MATCH.matcher(out);
        while (m.find()) if (!missing.contains(m.group(1))) missing.add(m.group(1));
        if (!missing.isEmpty()) {
            return new Failure(ErrorCode.NOT_FOUND, what + ": no package matches " + String.join(", ", missing.stream().map(x -> "'" + x + "'").toList())
                + " (check the name and version, or refresh). Nothing was changed.");
        }
        List<String> errors = new ArrayList<>();
        Matcher e = ERROR.matcher(out);
        while (e.find()) errors.add(e.group(1));
        return new Failure(ErrorCode.FAILED, what + " failed with exit code " + r.exitCode() + ": "
            + (errors.isEmpty() ? Runner.tail(out, 3) : String.join(" / ", errors)));
    }

    @Override
    Reboot reboot() throws Exception {
        // dnf-utils / yum-utils: exit 1 means a reboot is needed, 0 that it is not
        Optional<Path> nr = run.find("needs-restarting");
        if (nr.isPresent()) {
            ProcessResult r = run.query(List.of(nr.get().toString(), "-r"));
            if (r.exitCode() == 1) return new Reboot(true, "needs-restarting -r: " + Runner.tail(r.output(), 2));
            if (r.exitCode() == 0) return Reboot.no();
        }
        if (Files.exists(Path.of("/run/reboot-required"))) return new Reboot(true, "/run/reboot-required exists");
        return Reboot.byKernel(Versions.RPM);
    }
}
