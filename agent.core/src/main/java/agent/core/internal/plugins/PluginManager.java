package agent.core.internal.plugins;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;
import java.util.regex.Pattern;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.ErrorCode;
import agent.api.InvalidParamException;
import agent.core.internal.config.AgentConfig;
import agent.core.internal.config.ConfigException;
import agent.core.internal.dispatch.ActionGate;
import agent.core.internal.dispatch.HandlerRegistry;
import agent.core.internal.server.ServerDownloads;

/**
 * {@code plugin.list}, {@code plugin.install}, {@code plugin.upgrade}, {@code plugin.remove} (docs/protocol.md §7):
 * plugin bundles installed, upgraded and removed while the agent runs. A jar is checked (sha256, manifest, policy,
 * signature, the core's packages and names) before anything changes. A plugin is started with a watchdog: one whose
 * components do not come up in time is stopped and quarantined, one whose components fail to activate is taken out
 * again (an upgrade puts the previous version back). The agent's core cannot be touched.
 */
@Component(service = {CommandHandler.class, PluginManager.class}, immediate = true)
@Actions({"plugin.list", "plugin.install", "plugin.upgrade", "plugin.remove"})
@ConcurrencyKey("plugin")
@DryRun
public final class PluginManager implements CommandHandler {
    private static final Logger LOG = Logger.getLogger("agent.core.plugins");
    /** A plugin's components must be up within this, at install, upgrade and agent start. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /** Stopping a plugin that hangs is given this long before the agent goes on without it. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    /** A manifest bigger than this is not a plugin's (a jar bomb's); bundles' manifests are a few KiB. */
    private static final long MAX_MANIFEST_BYTES = 1 << 20;
    /** Packages no plugin may export, whoever provides them now: the agent's and the framework's own. */
    private static final List<Pattern> RESERVED_PACKAGES = List.of(Pattern.compile("agent(\\..*)?"),
        Pattern.compile("org\\.osgi\\..*"), Pattern.compile("org\\.apache\\.felix\\..*"), Pattern.compile("java\\..*"));

    private final BundleContext context;
    private final HandlerRegistry registry;
    private final ActionGate gate;
    private final PluginInventory inventory;
    private final ServiceComponentRuntime scr;
    /** Certificates a plugin jar must be signed with (or issued by); null when signatures are not required. */
    private final List<X509Certificate> trusted;
    private final Path jars;
    private final List<Pattern> allow;
    private final List<Pattern> deny;
    private final AgentConfig config;

    /** The server connection's downloads, while there is one. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServerDownloads downloads;

    /**
     * Starts the plugins installed at runtime (the framework does not: see {@link PluginInventory}), each with the
     * watchdog, so a plugin that hangs is quarantined and the agent still gets ready.
     */
    @Activate
    public PluginManager(BundleContext context, @Reference HandlerRegistry registry, @Reference ActionGate gate,
            @Reference PluginInventory inventory, @Reference ServiceComponentRuntime scr, @Reference AgentConfig config)
            throws ConfigException {
        this.context = context;
        this.registry = registry;
        this.gate = gate;
        this.inventory = inventory;
        this.scr = scr;
        this.trusted = Boolean.TRUE.equals(config.plugins.get("require_signed"))
            ? JarSignatures.trustStore(Path.of((String) config.plugins.get("trust_store"))) : null;
        this.jars = config.dataDir.resolve("plugins");
        this.allow = patterns(config.plugins.get("allow"));
        this.deny = patterns(config.plugins.get("deny"));
        this.config = config;
        startInstalled();
    }

    /**
     * Why a plugin did not come up; {@code hung} when it did not answer at all (it is then quarantined); {@code code}
     * when the reason is a refusal rather than a failure (its config section does not fit its settings type).
     */
    record StartFailure(String message, boolean hung, ErrorCode code) {
        StartFailure(String message, boolean hung) { this(message, hung, null); }
    }

    private void startInstalled() {
        List<CompletableFuture<Void>> starts = new ArrayList<>();
        for (String bsn : inventory.toStart()) {
            Bundle b = inventory.find(bsn);
            if (b == null || b.getState() == Bundle.ACTIVE) continue;
            starts.add(CompletableFuture.runAsync(() -> {
                try {
                    StartFailure failure = startBounded(b);
                    if (failure != null) {
                        inventory.quarantine(bsn, failure.message());
                        stopBounded(b);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, r -> daemon(r, "outpost-plugin-start-" + bsn).start()));
        }
        // the watchdog bounds each; all of them start at once
        CompletableFuture.allOf(starts.toArray(new CompletableFuture<?>[0])).join();
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        String action = ctx.command().action();
        if (action.equals("plugin.list")) return inventory.list();
        try {
            switch (action) {
                case "plugin.install": return install(ctx);
                case "plugin.upgrade": return upgrade(ctx);
                case "plugin.remove": return remove(ctx);
                default: throw new CommandException("unknown plugin action " + action);
            }
        } finally {
            if (!ctx.dryRun()) inventory.changed(); // the server hears of the plugin list once the change is complete
        }
    }

    private Map<String, Object> install(CommandContext ctx) throws Exception {
        Candidate c = fetch(ctx);
        boolean start = ctx.params().bool("start", true);
        Bundle existing = inventory.find(c.bsn);
        if (existing != null) {
            c.delete();
            if (existing.getVersion().equals(c.version) && c.sha256.equals(inventory.sha256(c.bsn))) {
                return result(existing, false, "already installed");
            }
            throw new CommandRefusedException("plugin '" + c.bsn + "' is installed at version " + existing.getVersion()
                + (existing.getVersion().equals(c.version) ? " with other content" : "") + "; use plugin.upgrade to replace it with "
                + c.version + " (sha256 " + c.sha256 + ")");
        }
        if (ctx.dryRun()) {
            c.delete();
            return planned(c.bsn, null, c.version, true, "would install " + c.bsn + " " + c.version + (start ? " and start it" : ""));
        }
        Path kept = c.keep(jars);
        Bundle b;
        try (InputStream in = Files.newInputStream(kept)) {
            b = context.installBundle(PluginInventory.LOCATION + c.bsn, in);
        }
        if (start) {
            StartFailure failure = startBounded(b);
            if (failure != null && failure.hung()) {
                // it stays installed, quarantined, for the operator to see and remove
                inventory.installed(c.bsn, true, c.sha256);
                inventory.quarantine(c.bsn, failure.message());
                stopBounded(b);
                throw new CommandException("plugin '" + c.bsn + "' " + c.version + " is installed but quarantined: "
                    + failure.message() + "; remove it with plugin.remove");
            }
            if (failure != null) {
                String stuck = bounded("uninstall", b, () -> {
                    b.uninstall();
                    return null;
                }, STOP_TIMEOUT);
                if (stuck == null) refresh(b);
                Files.deleteIfExists(kept);
                String why = "plugin '" + c.bsn + "' " + c.version + " was not installed: " + failure.message();
                if (failure.code() != null) throw new CommandRefusedException(why + "; nothing was changed", failure.code());
                throw new CommandException(why);
            }
        }
        inventory.installed(c.bsn, start, c.sha256);
        LOG.info("installed plugin " + c.bsn + " " + c.version);
        return result(b, true, null);
    }

    private Map<String, Object> upgrade(CommandContext ctx) throws Exception {
        Candidate c = fetch(ctx);
        boolean allowDowngrade = ctx.params().bool("allowDowngrade", false);
        Bundle b = inventory.find(c.bsn);
        if (b == null) {
            c.delete();
            throw new CommandRefusedException("plugin '" + c.bsn + "' is not installed; use plugin.install", ErrorCode.NOT_FOUND);
        }
        Version from = b.getVersion();
        int cmp = c.version.compareTo(from);
        String note = null;
        boolean quarantined = inventory.quarantineReason(c.bsn) != null;
        if (cmp == 0) {
            // content, not only the version: a plugin rebuilt under the same version is new content
            if (c.sha256.equals(inventory.sha256(c.bsn)) && !quarantined) {
                c.delete();
                return result(b, false, "already at " + from + " with this content");
            }
            note = "same version " + from + ", new content (sha256 " + c.sha256 + ")";
        }
        if (cmp < 0 && !allowDowngrade) {
            c.delete();
            throw new CommandRefusedException("plugin '" + c.bsn + "' " + c.version + " is older than the installed " + from
                + "; set allowDowngrade to go back");
        }
        if (ctx.dryRun()) {
            c.delete();
            return planned(c.bsn, from, c.version, true, "would " + (note != null ? "replace " + c.bsn + " " + from + ": " + note
                : "upgrade " + c.bsn + " from " + from + " to " + c.version));
        }
        boolean runtime = b.getLocation().startsWith(PluginInventory.LOCATION);
        String previousSha = inventory.sha256(c.bsn);
        Path previous = jars.resolve(c.bsn + "-" + from + ".previous.jar");
        Path installedJar = jars.resolve(c.bsn + "-" + from + ".jar");
        Files.createDirectories(jars);
        // a plugin that came with the agent has no jar in the store: keep what the framework holds, for a rollback
        if (Files.exists(installedJar)) Files.copy(installedJar, previous, StandardCopyOption.REPLACE_EXISTING);
        else BundleJars.write(b, previous);
        List<String> before = inventory.actionsByBundle().getOrDefault(PluginInventory.key(b), List.of());
        try (ActionGate.Hold hold = gate.hold(before)) {
            try {
                hold.awaitIdle(drainWait(ctx));
            } catch (CommandException busy) {
                c.delete();
                throw new CommandException("upgrade of '" + c.bsn + "' to " + c.version + " not started: " + busy.getMessage());
            }
            String failure = replace(b, c.file, before);
            if (failure != null) {
                LOG.warning("upgrade of " + c.bsn + " to " + c.version + " failed (" + failure + "); putting " + from + " back");
                String rollback = replace(b, previous, before);
                if (rollback == null && quarantined) inventory.installed(c.bsn, true, previousSha); // it came back up
                c.delete();
                if (rollback != null) {
                    inventory.quarantine(c.bsn, "upgrade to " + c.version + " failed (" + failure + ") and so did putting "
                        + from + " back (" + rollback + ")");
                    throw new CommandException("upgrade of '" + c.bsn + "' to " + c.version + " failed (" + failure
                        + ") and so did putting " + from + " back: " + rollback + "; the plugin is quarantined");
                }
                if (runtime) inventory.installed(c.bsn, true, previousSha);
                throw new CommandException("upgrade of '" + c.bsn + "' to " + c.version + " failed, " + from + " is back: " + failure);
            }
        } finally {
            Files.deleteIfExists(previous);
        }
        if (!c.version.equals(from)) Files.deleteIfExists(installedJar);
        c.keep(jars);
        if (runtime) inventory.installed(c.bsn, true, c.sha256);
        else inventory.installed(c.bsn, true, c.sha256); // a built-in upgraded at runtime: its content is known now
        LOG.info("upgraded plugin " + c.bsn + " from " + from + " to " + c.version + (note == null ? "" : " (" + note + ")"));
        Map<String, Object> r = result(b, true, note);
        r.put("from", from.toString());
        r.put("to", c.version.toString());
        return r;
    }

    private Map<String, Object> remove(CommandContext ctx) throws Exception {
        String bsn = ctx.params().string("bsn");
        Bundle b = inventory.find(bsn);
        if (b == null) throw new CommandRefusedException("no plugin '" + bsn + "' is installed", ErrorCode.NOT_FOUND);
        if (inventory.isCore(b)) throw new CommandRefusedException("'" + bsn + "' is part of the agent's core and cannot be removed");
        String version = b.getVersion().toString();
        if (ctx.dryRun()) return planned(bsn, b.getVersion(), null, true, "would remove " + bsn + " " + version);
        // commands of its actions that arrive now wait for the removal, then are rejected as unknown
        try (ActionGate.Hold hold = gate.hold(inventory.actionsByBundle().getOrDefault(PluginInventory.key(b), List.of()))) {
            hold.awaitIdle(drainWait(ctx));
            String failure = bounded("uninstall", b, () -> {
                b.uninstall();
                return null;
            }, STOP_TIMEOUT);
            if (failure != null) {
                throw new CommandException("plugin '" + bsn + "' did not stop within " + STOP_TIMEOUT.toSeconds() + " s ("
                    + failure + "); it is removed at the next start of the agent");
            }
            refresh(b);
        }
        Files.deleteIfExists(jars.resolve(bsn + "-" + version + ".jar"));
        inventory.removed(bsn);
        LOG.info("removed plugin " + bsn + " " + version);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bsn", bsn);
        r.put("version", version);
        r.put("changed", true);
        return r;
    }

    /** How long a change waits for running commands of the plugin to end: param {@code waitSeconds}, default 60. */
    private static Duration drainWait(CommandContext ctx) throws InvalidParamException {
        return Duration.ofSeconds(ctx.params().integer("waitSeconds", 0, 3600, 60));
    }

    /**
     * update + refresh + start with the watchdog, then the actions it served before must be back.
     *
     * @return null if the bundle is up with its actions, else why not (the bundle is then stopped)
     */
    private String replace(Bundle b, Path jar, List<String> expected) throws IOException, InterruptedException {
        String failure = bounded("update", b, () -> {
            try (InputStream in = Files.newInputStream(jar)) {
                b.update(in);
            }
            return null;
        }, STOP_TIMEOUT.plus(START_TIMEOUT));
        if (failure != null) return failure;
        refresh(b);
        StartFailure started = startBounded(b);
        failure = started != null ? started.message() : awaitActions(b, expected);
        if (failure != null) stopBounded(b);
        return failure;
    }

    /**
     * Starts the bundle (transiently: the framework never starts it by itself at launch) and waits, bounded, until its
     * components are up.
     *
     * @return null if it is up, else why not: it did not resolve, a component failed to activate (naming it and the
     *         exception), or it did not come up within {@link #START_TIMEOUT} ({@code hung})
     */
    StartFailure startBounded(Bundle b) throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        StartFailure failure = boundedCall("start", b, () -> {
            b.start(Bundle.START_TRANSIENT);
            return null;
        }, START_TIMEOUT);
        if (failure != null) return failure;
        long unsatisfiedSince = System.nanoTime();
        while (true) {
            String components = componentFailures(b);
            if (components != null) return new StartFailure(components, false);
            String unsatisfied = unsatisfied(b);
            if (unsatisfied == null) {
                unsatisfiedSince = System.nanoTime();
            } else if (System.nanoTime() - unsatisfiedSince > TimeUnit.SECONDS.toNanos(2)) {
                return new StartFailure(unsatisfied, false);
            }
            if (componentsUp(b)) {
                List<HandlerRegistry.Registration> handlers =
                    registry.all().stream().filter(r -> r.bundle != null && r.bundle.getBundleId() == b.getBundleId()).toList();
                // its config section must fit the types its handlers declare: refused now, not at every command
                agent.api.InvalidSettingsException bad = SettingsCheck.firstProblem(handlers, config);
                if (bad != null) return new StartFailure(bad.getMessage(), false, ErrorCode.INVALID_SETTINGS);
                // handlers are activated at their first command (a plugin never used costs nothing); an installed one is
                // activated now, bounded, so that one that fails or blocks in activate is found before it is kept
                for (HandlerRegistry.Registration r : handlers) {
                    StartFailure activated = boundedCall("activate", b, () -> {
                        r.handler();
                        return null;
                    }, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                    if (activated != null) {
                        String failedComponents = componentFailures(b);
                        return activated.hung() || failedComponents == null ? activated : new StartFailure(failedComponents, false);
                    }
                }
                return null;
            }
            if (System.nanoTime() > deadline) {
                return new StartFailure("its components did not come up within " + START_TIMEOUT.toSeconds() + " s", true);
            }
            Thread.sleep(20);
        }
    }

    /** @return the components that failed to activate, each with its exception, or null */
    private String componentFailures(Bundle b) {
        List<String> failed = new ArrayList<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(b)) {
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    failed.add("component " + d.name + " failed to activate: " + firstLine(c.failure));
                }
            }
        }
        return failed.isEmpty() ? null : String.join("; ", failed);
    }

    /** @return the components that lack a service they need, naming the references, or null */
    private String unsatisfied(Bundle b) {
        List<String> out = new ArrayList<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(b)) {
            if (!scr.isComponentEnabled(d)) continue;
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                if (c.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE) {
                    List<String> refs = new ArrayList<>();
                    for (var u : c.unsatisfiedReferences) refs.add(u.name + (u.target == null ? "" : " " + u.target));
                    out.add("component " + d.name + " has no service for its reference(s) " + refs);
                } else if (c.state == ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION) {
                    out.add("component " + d.name + " waits for a configuration that nothing provides");
                }
            }
        }
        return out.isEmpty() ? null : String.join("; ", out);
    }

    /** Every enabled component has a configuration that is active or satisfied (a delayed one waits for use). */
    private boolean componentsUp(Bundle b) {
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(b)) {
            if (!scr.isComponentEnabled(d)) continue;
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                if (c.state != ComponentConfigurationDTO.ACTIVE && c.state != ComponentConfigurationDTO.SATISFIED) return false;
            }
        }
        return true;
    }

    private static String firstLine(String s) {
        if (s == null) return "(no reason given)";
        String line = s.strip().lines().findFirst().orElse(s);
        return line.length() > 400 ? line.substring(0, 400) + "..." : line;
    }

    /** Waits until the bundle serves at least the actions it served before, bounded. */
    private String awaitActions(Bundle b, List<String> expected) throws InterruptedException {
        long end = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            List<String> now = inventory.actionsByBundle().getOrDefault(PluginInventory.key(b), List.of());
            if (now.containsAll(expected)) return null;
            if (System.nanoTime() > end) return "its handlers " + expected + " did not appear within " + START_TIMEOUT.toSeconds() + " s";
            Thread.sleep(20);
        }
    }

    private void stopBounded(Bundle b) throws InterruptedException {
        String failure = bounded("stop", b, () -> {
            b.stop(Bundle.STOP_TRANSIENT);
            return null;
        }, STOP_TIMEOUT);
        if (failure != null) LOG.severe("plugin " + b.getSymbolicName() + " could not be stopped: " + failure);
    }

    @FunctionalInterface
    private interface BundleAction {
        Void run() throws Exception;
    }

    /**
     * Runs a framework call that enters the plugin's code (its components' activate or deactivate) on a thread of its
     * own, and gives up waiting after the limit: a plugin that blocks there must not block the agent.
     *
     * @return null if it ended normally, else what went wrong
     */
    private static String bounded(String what, Bundle b, BundleAction action, Duration limit) throws InterruptedException {
        StartFailure f = boundedCall(what, b, action, limit);
        return f == null ? null : f.message();
    }

    private static StartFailure boundedCall(String what, Bundle b, BundleAction action, Duration limit) throws InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        daemon(() -> {
            try {
                action.run();
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "outpost-plugin-" + what + "-" + b.getSymbolicName()).start();
        try {
            done.get(limit.toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (TimeoutException e) {
            return new StartFailure(what + " did not end within " + limit.toSeconds() + " s (a component blocks in activate"
                + " or deactivate)", true);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            return new StartFailure(what + " failed: " + (c instanceof BundleException && c.getCause() != null
                ? c.getMessage() + " (" + c.getCause() + ")" : String.valueOf(c.getMessage())), false);
        }
    }

    private void refresh(Bundle b) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(b), e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) done.countDown();
        });
        done.await(30, TimeUnit.SECONDS);
    }

    /** The jar of an install or upgrade, fetched into the store dir and checked before anything changes. */
    private Candidate fetch(CommandContext ctx) throws Exception {
        String url = ctx.params().string("url");
        String sha = ctx.params().string("sha256").toLowerCase();
        if (!sha.matches("[0-9a-f]{64}")) throw new InvalidParamException("sha256", "must be 64 hex digits, got '" + sha + "'");
        Files.createDirectories(jars);
        Path tmp = Files.createTempFile(jars, ".download-", ".jar");
        try {
            URI u = URI.create(url);
            // a relative URL, even "/agent/v1/bundles/...", means the server (docs/protocol.md §7); local files are file: URLs
            if ("file".equals(u.getScheme())) {
                Files.copy(Path.of(u), tmp, StandardCopyOption.REPLACE_EXISTING);
            } else {
                ServerDownloads d = downloads;
                if (d == null) {
                    throw new CommandException("param 'url': '" + url + "' needs the server connection; offline, use a file: URL");
                }
                try {
                    d.download(url, tmp);
                } catch (IOException e) {
                    throw new CommandException(e.getMessage());
                }
            }
            String actual = sha256(tmp);
            if (!actual.equals(sha)) {
                throw new CommandRefusedException("sha256 mismatch for " + url + ": expected " + sha + ", got " + actual
                    + "; nothing was installed");
            }
            PluginJar jar = PluginJar.read(tmp, url, MAX_MANIFEST_BYTES);
            Bundle core = inventory.coreBundle(jar.bsn);
            if (core != null) {
                throw new CommandRefusedException("'" + jar.bsn + "' is a bundle of the agent's core (installed with the"
                    + " distribution as " + core.getLocation() + ") and cannot be replaced by a plugin");
            }
            for (String p : jar.exports) {
                if (RESERVED_PACKAGES.stream().anyMatch(r -> r.matcher(p).matches()) || inventory.corePackages().contains(p)) {
                    throw new CommandRefusedException("plugin '" + jar.bsn + "' exports package '" + p + "', which the agent's"
                        + " core owns; a plugin may not provide it (every plugin after it would wire to it)");
                }
            }
            checkPolicy(jar.bsn);
            if (trusted != null) JarSignatures.verify(tmp, trusted, url);
            return new Candidate(tmp, jar.bsn, jar.version, actual);
        } catch (Exception e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private void checkPolicy(String bsn) throws CommandException {
        for (Pattern p : deny) {
            if (p.matcher(bsn).matches()) throw new CommandRefusedException("plugin '" + bsn + "' is denied by config key 'plugins.deny'");
        }
        if (!allow.isEmpty() && allow.stream().noneMatch(p -> p.matcher(bsn).matches())) {
            throw new CommandRefusedException("plugin '" + bsn + "' is not in config key 'plugins.allow'");
        }
    }

    private Map<String, Object> result(Bundle b, boolean changed, String note) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bsn", b.getSymbolicName());
        r.put("version", b.getVersion().toString());
        r.put("state", BundleStates.name(b.getState()));
        r.put("actions", inventory.actionsByBundle().getOrDefault(PluginInventory.key(b), List.of()));
        r.put("changed", changed);
        if (note != null) r.put("note", note);
        return r;
    }

    private static Map<String, Object> planned(String bsn, Version from, Version to, boolean changed, String plan) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bsn", bsn);
        if (from != null) r.put("from", from.toString());
        if (to != null) r.put("to", to.toString());
        r.put("changed", changed);
        r.put("dryRun", true);
        r.put("plan", plan);
        return r;
    }

    private static List<Pattern> patterns(Object list) {
        List<Pattern> out = new ArrayList<>();
        if (list instanceof List) {
            for (Object o : (List<?>) list) out.add(Pattern.compile(Pattern.quote(String.valueOf(o)).replace("*", "\\E.*\\Q")));
        }
        return out;
    }

    /** @param file a file @return its sha256, as hex */
    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) > 0;) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** A fetched, checked jar. */
    private static final class Candidate {
        final Path file;
        final String bsn;
        final Version version;
        final String sha256;

        Candidate(Path file, String bsn, Version version, String sha256) {
            this.file = file;
            this.bsn = bsn;
            this.version = version;
            this.sha256 = sha256;
        }

        Path keep(Path dir) throws IOException {
            return Files.move(file, dir.resolve(bsn + "-" + version + ".jar"), StandardCopyOption.REPLACE_EXISTING);
        }

        void delete() throws IOException { Files.deleteIfExists(file); }
    }
}
