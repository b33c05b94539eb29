package plugin.package_.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;
import agent.api.ProcessResult;

/**
 * One package manager: how to list what is installed, and the argument arrays that install, remove, upgrade and
 * refresh, simulated or for real, with the parsers of what they print. The actions ({@code Package*} handlers) hold
 * the flow; a manager holds the manager's own words.
 */
abstract class Manager {
    final Runner run;
    final PackageSettings settings;

    Manager(Runner run, PackageSettings settings) {
        this.run = run;
        this.settings = settings;
    }

    /** A package to install, with the version asked for or null. */
    record Spec(String name, String version) {}

    /**
     * One package that could be upgraded.
     *
     * @param security        true if an upgrade comes from a security source or advisory, false if none does, null if
     *                        the manager cannot say for single packages (zypper: see its patches)
     * @param securityVersion the newest version a security source offers, or null
     * @param origins         where the candidate comes from, as the manager names it
     */
    record Update(String name, String arch, String installed, String candidate, Boolean security, String securityVersion,
            List<String> origins) {
        Map<String, Object> toData() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("name", name);
            d.put("architecture", arch);
            d.put("installed", installed);
            d.put("candidate", candidate);
            d.put("security", security);
            d.put("securityVersion", securityVersion);
            d.put("origins", origins);
            return d;
        }
    }

    /** What a failed run means: the code and the message, naming what was at fault. */
    record Failure(ErrorCode code, String message) {}

    /** @return {@code apt}, {@code dnf}, {@code yum} or {@code zypper} */
    abstract String id();

    abstract Grammar grammar();

    Comparator<String> order() { return grammar() == Grammar.DEBIAN ? Versions.DEBIAN : Versions.RPM; }

    /** @return the installed set, from the system's own database */
    abstract List<Pkg> installed() throws Exception;

    /** @return the locks that another process may hold, for a run that refreshes the lists or not */
    abstract List<LockProbe.Lock> locks(boolean refresh) throws Exception;

    /** @return whether a simulated run takes the manager's lock too (apt's does not) */
    abstract boolean simulationLocks();

    abstract List<String> refreshArgs();

    abstract List<String> installArgs(List<Spec> specs, boolean simulate, boolean allowDowngrade);

    abstract List<String> removeArgs(List<String> names, boolean purge, boolean simulate);

    /**
     * @param specs        the packages to upgrade, a version each where one is chosen; empty: every package
     * @param securityOnly only security updates (apt passes the security versions in {@code specs} instead)
     */
    abstract List<String> upgradeArgs(List<Spec> specs, boolean securityOnly, boolean simulate) throws CommandException;

    /** @return the upgrades available now, from the lists as they are (refresh first if they must be fresh) */
    abstract List<Update> updates() throws Exception;

    /** @return what a simulated run says it would do */
    abstract List<Change> parsePlan(String output);

    /** @return whether a simulation ended well (dnf's --assumeno ends with exit code 1 when it would do something) */
    boolean simulationSucceeded(ProcessResult r) { return r.exitCode() == 0; }

    /** @return what a run that did not succeed means, or null if it succeeded */
    abstract Failure failure(ProcessResult r, String what);

    /** @return whether the host needs a reboot, and why */
    abstract Reboot reboot() throws Exception;

    /** Runs a changing command; a failure becomes the exception its code calls for. */
    ProcessResult change(List<String> argv, String what) throws Exception {
        ProcessResult r = run.change(argv);
        Failure f = failure(r, what);
        if (f != null) throw exception(f);
        return r;
    }

    /** Runs a simulation; it must succeed. */
    ProcessResult simulate(List<String> argv, String what) throws Exception {
        ProcessResult r = run.change(argv);
        if (!simulationSucceeded(r)) {
            Failure f = failure(r, what);
            throw exception(f != null ? f : new Failure(ErrorCode.FAILED, what + " (simulated) failed with exit code "
                + r.exitCode() + ": " + Runner.tail(r.output(), 3)));
        }
        return r;
    }

    static CommandException exception(Failure f) {
        // a busy lock stops a run before it changes anything: refused, to be tried again
        if (f.code() == ErrorCode.BUSY) return new CommandRefusedException(f.message(), ErrorCode.BUSY);
        return new CommandException(f.message(), f.code());
    }

    /** @return the installed set read with rpm (dnf, yum and zypper share the database) */
    List<Pkg> rpmInstalled() throws Exception {
        ProcessResult r = run.query(List.of("rpm", "-qa", "--qf", RpmOutput.QUERY_FORMAT));
        if (r.exitCode() != 0) throw new CommandException("rpm -qa failed with exit code " + r.exitCode() + ": " + Runner.tail(r.output(), 3));
        return RpmOutput.installed(r.output());
    }

    /** The rpm database's lock, wherever this rpm keeps it. */
    static List<LockProbe.Lock> rpmLocks() {
        return List.of(LockProbe.Lock.fcntl(Path.of("/var/lib/rpm/.rpm.lock")),
            LockProbe.Lock.fcntl(Path.of("/usr/lib/sysimage/rpm/.rpm.lock")));
    }

    /** @return the manager this host has, or the one the settings name */
    static Manager detect(Runner run, PackageSettings s) throws CommandException {
        PackageSettings.Kind k = s.manager();
        if (k == PackageSettings.Kind.AUTO) {
            if (run.find("apt-get").isPresent() && run.find("dpkg-query").isPresent()) k = PackageSettings.Kind.APT;
            else if (run.find("dnf").isPresent() || run.find("dnf5").isPresent()) k = PackageSettings.Kind.DNF;
            else if (run.find("yum").isPresent()) k = PackageSettings.Kind.YUM;
            else if (run.find("zypper").isPresent()) k = PackageSettings.Kind.ZYPPER;
            else throw new CommandException("no supported package manager on this host (looked for apt-get, dnf, yum and zypper in "
                + String.join(":", Runner.SYSTEM_DIRS) + ")");
        }
        switch (k) {
            case APT: return new Apt(run, s);
            case DNF: return new Dnf(run, s, Dnf.flavourOf(run, "dnf"));
            case YUM: return new Dnf(run, s, Dnf.Flavour.YUM);
            default: return new Zypper(run, s);
        }
    }

    /** @return the file's text if it exists, else null */
    static String readIfExists(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
