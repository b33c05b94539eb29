package plugin.package_.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import agent.api.CommandException;
import agent.api.ErrorCode;
import agent.api.ProcessResult;

/**
 * Debian and Ubuntu: apt-get to change, dpkg-query to list, apt-cache policy to tell security sources. Runs as
 * unattended-upgrades does: {@code DEBIAN_FRONTEND=noninteractive}, {@code -y}, dpkg told to keep changed config files
 * ({@code --force-confdef --force-confold}), needrestart told to list, not restart ({@code NEEDRESTART_MODE=l}), and
 * never removes a package while installing or upgrading ({@code --no-remove}).
 */
final class Apt extends Manager {
    private static final Pattern NOT_FOUND = Pattern.compile(
        "^E: (?:Unable to locate package (\\S+)|Version '([^']+)' for '([^']+)' was not found|Package '([^']+)' has no installation candidate)",
        Pattern.MULTILINE);
    private static final Pattern LOCK = Pattern.compile("^E: (Could not get lock .*|Unable to acquire the dpkg frontend lock.*|Unable to lock .*)$",
        Pattern.MULTILINE);
    private static final Pattern ERROR = Pattern.compile("^E: (.*)$", Pattern.MULTILINE);

    Apt(Runner run, PackageSettings settings) {
        super(run, settings);
        run.env("DEBIAN_FRONTEND", "noninteractive");
        run.env("NEEDRESTART_MODE", "l"); // needrestart's apt hook: list what should restart, restart nothing, ask nothing
        run.env("APT_LISTCHANGES_FRONTEND", "none");
        run.env("APT_LISTBUGS_FRONTEND", "none");
        run.env("UCF_FORCE_CONFFOLD", "1");
        if (settings.aptConfig() != null) run.env("APT_CONFIG", settings.aptConfig().toString());
    }

    @Override
    String id() { return "apt"; }

    @Override
    Grammar grammar() { return Grammar.DEBIAN; }

    @Override
    List<Pkg> installed() throws Exception {
        ProcessResult r = run.query(List.of("dpkg-query", "-W", "-f", AptOutput.QUERY_FORMAT));
        if (r.exitCode() != 0) throw new CommandException("dpkg-query -W failed with exit code " + r.exitCode() + ": " + Runner.tail(r.output(), 3));
        return AptOutput.installed(r.output());
    }

    /** apt-get's options: every run, whatever it does. */
    private List<String> base(boolean simulate) {
        List<String> a = new ArrayList<>(List.of("apt-get", "-q"));
        if (simulate) {
            a.add("-s");
        } else {
            a.add("-y");
            // if the lock is taken between our wait and apt's own attempt, apt waits too, with the same bound
            a.addAll(List.of("-o", "DPkg::Lock::Timeout=" + settings.lockWaitSeconds()));
            a.addAll(List.of("-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"));
        }
        for (String o : settings.aptOptions()) a.addAll(List.of("-o", o));
        return a;
    }

    @Override
    List<LockProbe.Lock> locks(boolean refresh) throws Exception {
        ProcessResult r = run.query(List.of("apt-config", "shell", "STATUS", "Dir::State::status/f", "LISTS", "Dir::State::lists/d",
            "ARCHIVES", "Dir::Cache::archives/d"));
        Map<String, String> dirs = AptOutput.shell(r.output());
        // dpkg's lock lives beside its status file (apt's debSystem does the same)
        Path admin = Path.of(dirs.getOrDefault("STATUS", "/var/lib/dpkg/status")).getParent();
        List<LockProbe.Lock> locks = new ArrayList<>();
        locks.add(LockProbe.Lock.fcntl(admin.resolve("lock-frontend")));
        locks.add(LockProbe.Lock.fcntl(admin.resolve("lock")));
        locks.add(LockProbe.Lock.fcntl(Path.of(dirs.getOrDefault("ARCHIVES", "/var/cache/apt/archives/")).resolve("lock")));
        if (refresh) locks.add(LockProbe.Lock.fcntl(Path.of(dirs.getOrDefault("LISTS", "/var/lib/apt/lists/")).resolve("lock")));
        return locks;
    }

    @Override
    boolean simulationLocks() { return false; }

    @Override
    List<String> refreshArgs() {
        List<String> a = new ArrayList<>(List.of("apt-get", "-q"));
        for (String o : settings.aptOptions()) a.addAll(List.of("-o", o));
        a.add("update");
        return a;
    }

    @Override
    List<String> installArgs(List<Spec> specs, boolean simulate, boolean allowDowngrade) {
        List<String> a = base(simulate);
        a.addAll(List.of("install", "--no-remove"));
        if (allowDowngrade) a.add("--allow-downgrades");
        for (Spec s : specs) a.add(s.version() == null ? s.name() : s.name() + "=" + s.version());
        return a;
    }

    @Override
    List<String> removeArgs(List<String> names, boolean purge, boolean simulate) {
        List<String> a = base(simulate);
        a.add(purge ? "purge" : "remove");
        a.addAll(names);
        return a;
    }

    @Override
    List<String> upgradeArgs(List<Spec> specs, boolean securityOnly, boolean simulate) {
        List<String> a = base(simulate);
        if (specs.isEmpty()) {
            // apt-get's upgrade never removes; --with-new-pkgs lets it add new dependencies
            a.addAll(List.of("upgrade", "--with-new-pkgs"));
            return a;
        }
        a.addAll(List.of("install", "--only-upgrade", "--no-remove"));
        for (Spec s : specs) a.add(s.version() == null ? s.name() : s.name() + "=" + s.version());
        return a;
    }

    @Override
    List<Update> updates() throws Exception {
        ProcessResult sim = run.query(List.of("apt-get", "-q", "-s", "dist-upgrade"));
        if (sim.exitCode() != 0) throw exception(failure(sim, "apt-get -s dist-upgrade"));
        List<AptOutput.Upgradable> up = AptOutput.upgradable(sim.output());
        if (up.isEmpty()) return List.of();
        Map<String, Map<String, String>> releases = AptOutput.releases(run.query(List.of("apt-cache", "policy")).output());
        List<String> argv = new ArrayList<>(List.of("apt-cache", "policy"));
        // plain names: apt prints the native architecture's (and arch-all) packages under them
        up.stream().map(AptOutput.Upgradable::name).distinct().forEach(argv::add);
        Map<String, AptOutput.Policy> policies = AptOutput.policies(run.query(argv).output());
        List<Update> out = new ArrayList<>();
        for (AptOutput.Upgradable u : up) {
            AptOutput.Policy p = policies.getOrDefault(u.name() + ":" + u.arch(), policies.get(u.name()));
            String securityVersion = null;
            List<String> origins = new ArrayList<>();
            if (p != null) {
                for (Map.Entry<String, List<String>> v : p.sources().entrySet()) {
                    boolean newer = Versions.debian(v.getKey(), u.installed()) > 0;
                    for (String src : v.getValue()) {
                        Map<String, String> rel = releases.get(src);
                        if (v.getKey().equals(u.candidate())) origins.add(AptOutput.originName(src, rel));
                        if (newer && AptOutput.isSecurity(rel)
                            && (securityVersion == null || Versions.debian(v.getKey(), securityVersion) > 0)) {
                            securityVersion = v.getKey();
                        }
                    }
                }
            }
            out.add(new Update(u.name(), u.arch(), u.installed(), u.candidate(), securityVersion != null, securityVersion, origins));
        }
        return out;
    }

    @Override
    List<Change> parsePlan(String output) { return AptOutput.plan(output); }

    @Override
    Failure failure(ProcessResult r, String what) {
        String out = r.output() == null ? "" : r.output();
        Matcher lock = LOCK.matcher(out);
        if (lock.find()) return new Failure(ErrorCode.BUSY, "the package manager is busy: " + lock.group(1) + ". Nothing was changed.");
        if (r.exitCode() == 0) return null;
        List<String> missing = new ArrayList<>();
        Matcher m = NOT_FOUND.matcher(out);
        while (m.find()) {
            if (m.group(1) != null) missing.add("package '" + m.group(1) + "' is not known to apt");
            else if (m.group(2) != null) missing.add("version '" + m.group(2) + "' of package '" + m.group(3) + "' is not available");
            else missing.add("package '" + m.group(4) + "' has no installation candidate");
        }
        if (!missing.isEmpty()) {
            return new Failure(ErrorCode.NOT_FOUND, what + ": " + String.join("; ", missing)
                + " (refresh the package lists, or check the name). Nothing was changed.");
        }
        List<String> errors = new ArrayList<>();
        Matcher e = ERROR.matcher(out);
        while (e.find()) errors.add(e.group(1));
        return new Failure(ErrorCode.FAILED, what + " failed with exit code " + r.exitCode() + ": "
            + (errors.isEmpty() ? Runner.tail(out, 3) : String.join(" / ", errors)));
    }

    @Override
    Reboot reboot() {
        String pkgs = readIfExists(Path.of("/run/reboot-required.pkgs"));
        if (readIfExists(Path.of("/run/reboot-required")) != null) {
            return new Reboot(true, "/run/reboot-required exists" + (pkgs == null || pkgs.isBlank() ? ""
                : " (asked by " + String.join(", ", pkgs.strip().lines().distinct().toList()) + ")"));
        }
        return Reboot.byKernel(Versions.DEBIAN);
    }
}
