package plugin.package_.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.InvalidParamException;
import agent.api.ProcessResult;

/**
 * One package command's session: the manager found for this host, the checks every action makes before a process
 * runs, the bounded wait for the lock, and what every result carries (the manager, whether a reboot is needed).
 */
final class Session {
    /** More names than any sane command carries; the frame limit would stop it anyway. */
    static final int MAX_NAMES = 1000;

    final CommandContext ctx;
    final PackageSettings settings;
    final Manager manager;
    private final LockProbe locks;

    private Session(CommandContext ctx, PackageSettings settings, Manager manager, LockProbe locks) {
        this.ctx = ctx;
        this.settings = settings;
        this.manager = manager;
        this.locks = locks;
    }

    /** Finds the manager (by its programs; no process runs). */
    static Session open(CommandContext ctx) throws CommandException {
        PackageSettings s = ctx.settings(PackageSettings.class);
        return new Session(ctx, s, Manager.detect(new Runner(ctx), s), new LockProbe());
    }

    /**
     * @param required whether at least one name must be given
     * @return the names, each checked against the manager's grammar, without repeats
     */
    List<String> names(String param, boolean required) throws InvalidParamException {
        List<String> names = ctx.params().strings(param);
        if (required && names.isEmpty()) throw new InvalidParamException(param, "must list at least one package");
        if (names.size() > MAX_NAMES) throw new InvalidParamException(param, "lists " + names.size() + " packages; at most " + MAX_NAMES);
        Set<String> out = new LinkedHashSet<>();
        for (String n : names) {
            manager.grammar().checkName(param, n);
            out.add(n);
        }
        return new ArrayList<>(out);
    }

    /** @return the installed package of that name ({@code name:arch} picks the architecture), or null */
    static Pkg find(List<Pkg> installed, String name) {
        int colon = name.indexOf(':');
        String n = colon < 0 ? name : name.substring(0, colon);
        String arch = colon < 0 ? null : name.substring(colon + 1);
        for (Pkg p : installed) {
            if (p.name().equals(n) && (arch == null || p.arch().equals(arch))) return p;
        }
        return null;
    }

    /** Waits, at most lock_wait_seconds, until no other process holds the manager's locks; then refuses as busy. */
    void awaitLocks(boolean refresh) throws Exception {
        locks.await(ctx, manager.locks(refresh), Duration.ofSeconds(settings.lockWaitSeconds()));
    }

    /** Refreshes the package lists; a failure stops the command before anything is installed. */
    void refresh() throws Exception {
        ProcessResult r = manager.run.change(manager.refreshArgs());
        Manager.Failure f = manager.failure(r, "refreshing the package lists");
        if (f != null) {
            throw Manager.exception(new Manager.Failure(f.code(), f.message().endsWith("Nothing was changed.") ? f.message()
                : f.message() + ". No package was changed."));
        }
    }

    /** @return a result's common fields: the manager and, for a dry run, that it was one */
    Map<String, Object> data() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("manager", manager.id());
        if (ctx.dryRun()) d.put("dryRun", true);
        return d;
    }

    /** Adds whether the host needs a reboot now, and why. */
    void reboot(Map<String, Object> d) throws Exception {
        Reboot r = manager.reboot();
        d.put("rebootRequired", r.required());
        d.put("rebootReason", r.reason());
    }

    /**
     * Runs a changing command and reports what it changed, from the installed set before and after. A failure says
     * what had changed by then, if anything.
     */
    List<Change> runAndCompare(List<String> argv, String what, List<Pkg> before) throws Exception {
        try {
            manager.change(argv, what);
        } catch (CommandException e) {
            List<Change> partial = Change.between(before, manager.installed(), manager.order());
            if (partial.isEmpty()) throw e;
            throw new CommandException(e.getMessage().replace(" Nothing was changed.", "") + " Changed before it stopped: "
                + describe(partial), e.errorCode());
        }
        return Change.between(before, manager.installed(), manager.order());
    }

    /** @return a simulation's plan, with the versions before filled in from the installed set where it lacks them */
    List<Change> plan(String output, List<Pkg> before) {
        List<Change> out = new ArrayList<>();
        for (Change c : manager.parsePlan(output)) {
            if (c.from() == null && !c.action().equals("installed")) {
                Pkg p = find(before, c.name() + ":" + c.arch());
                if (p == null) p = find(before, c.name());
                if (p != null) c = new Change(c.name(), c.arch(), c.action(), p.version(), c.to());
            }
            out.add(c);
        }
        return out;
    }

    static String describe(List<Change> changes) {
        List<String> parts = new ArrayList<>();
        for (Change c : changes) {
            parts.add(c.name() + " " + (c.from() == null ? "" : c.from()) + (c.from() != null && c.to() != null ? " -> " : "")
                + (c.to() == null ? "" : c.to()) + " (" + c.action() + ")");
        }
        return String.join(", ", parts);
    }
}
