package agent.core.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.logging.Logger;
import java.util.regex.Pattern;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.FrameworkWiring;

import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;

/**
 * {@code plugin.list}, {@code plugin.install}, {@code plugin.upgrade}, {@code plugin.remove} (PROTOCOL.md §7): plugin
 * bundles installed, upgraded and removed while the agent runs. A jar is checked (sha256, manifest, policy) before
 * anything changes; a failed upgrade puts the previous version back; the core cannot be touched.
 */
final class PluginManager implements CommandHandler {
    private static final Logger LOG = Logger.getLogger("agent.core.plugins");
    /** Location prefix of bundles this manager installed; others came with the agent. */
    static final String LOCATION = "outpost:plugin:";
    /** The agent itself and what it stands on: never removed or replaced by a command. */
    private static final List<Pattern> CORE = List.of(Pattern.compile("agent\\..*"),
        Pattern.compile("org\\.apache\\.felix\\..*"), Pattern.compile("org\\.osgi\\..*"), Pattern.compile("com\\.google\\.gson"),
        Pattern.compile("org\\.xerial\\.sqlite-jdbc"));
    private static final long HANDLER_WAIT_MS = 10_000;

    private final BundleContext context;
    private final HandlerRegistry registry;
    private final Dispatcher dispatcher;
    /** Certificates a plugin jar must be signed with (or issued by); null when signatures are not required. */
    private final List<java.security.cert.X509Certificate> trusted;
    /** The server connection, for downloads; null offline. */
    private final java.util.function.Supplier<ServerConnection> server;
    private final Path store;
    private final List<Pattern> allow;
    private final List<Pattern> deny;

    PluginManager(BundleContext context, HandlerRegistry registry, Dispatcher dispatcher, AgentConfig config,
            java.util.function.Supplier<ServerConnection> server) throws ConfigException {
        this.context = context;
        this.registry = registry;
        this.dispatcher = dispatcher;
        this.trusted = Boolean.TRUE.equals(config.plugins.get("require_signed"))
            ? JarSignatures.trustStore(Path.of((String) config.plugins.get("trust_store"))) : null;
        this.server = server;
        this.store = config.dataDir.resolve("plugins");
        this.allow = patterns(config.plugins.get("allow"));
        this.deny = patterns(config.plugins.get("deny"));
    }

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        switch (ctx.command().action()) {
            case "plugin.list": return list();
            case "plugin.install": return install(ctx);
            case "plugin.upgrade": return upgrade(ctx);
            case "plugin.remove": return remove(ctx);
            default: throw new CommandException("unknown plugin action " + ctx.command().action());
        }
    }

    List<Map<String, Object>> list() {
        Map<String, List<String>> actions = actionsByBundle();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getBundleId() == 0) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bsn", b.getSymbolicName());
            m.put("version", b.getVersion().toString());
            m.put("state", BundleStates.name(b.getState()));
            m.put("core", isCore(b.getSymbolicName()));
            m.put("installedAtRuntime", b.getLocation().startsWith(LOCATION));
            m.put("actions", actions.getOrDefault(key(b), List.of()));
            out.add(m);
        }
        return out;
    }

    private Map<String, Object> install(CommandContext ctx) throws Exception {
        Candidate c = fetch(ctx);
        boolean start = ctx.params().bool("start", true);
        Bundle existing = find(c.bsn);
        if (existing != null) {
            if (existing.getVersion().equals(c.version)) {
                c.delete();
                return result(existing, false, "already installed");
            }
            c.delete();
            throw new CommandRefusedException("plugin '" + c.bsn + "' is installed at version " + existing.getVersion()
                + "; use plugin.upgrade to move it to " + c.version);
        }
        Path kept = c.keep(store);
        Bundle b;
        try (InputStream in = Files.newInputStream(kept)) {
            b = context.installBundle(LOCATION + c.bsn, in);
        }
        if (start) {
            try {
                b.start();
            } catch (BundleException e) {
                b.uninstall();
                refresh(b);
                Files.deleteIfExists(kept);
                throw new CommandException("plugin '" + c.bsn + "' " + c.version + " cannot start: " + e.getMessage());
            }
            awaitHandlers(b, null);
        }
        LOG.info("installed plugin " + c.bsn + " " + c.version);
        return result(b, true, null);
    }

    private Map<String, Object> upgrade(CommandContext ctx) throws Exception {
        Candidate c = fetch(ctx);
        boolean allowDowngrade = ctx.params().bool("allowDowngrade", false);
        Bundle b = find(c.bsn);
        if (b == null) {
            c.delete();
            throw new CommandRefusedException("plugin '" + c.bsn + "' is not installed; use plugin.install");
        }
        Version from = b.getVersion();
        int cmp = c.version.compareTo(from);
        if (cmp == 0) {
            c.delete();
            return result(b, false, "already at " + from);
        }
        if (cmp < 0 && !allowDowngrade) {
            c.delete();
            throw new CommandRefusedException("plugin '" + c.bsn + "' " + c.version + " is older than the installed " + from
                + "; set allowDowngrade to go back");
        }
        Path previous = store.resolve(c.bsn + "-" + from + ".jar");
        // a plugin that came with the agent has no jar in the store: keep what the framework holds, for a rollback
        if (!Files.exists(previous)) BundleJars.write(b, previous);
        List<String> before = actionsByBundle().getOrDefault(key(b), List.of());
        Path kept = c.keep(store);
        try (Dispatcher.Hold hold = dispatcher.hold(before)) {
            try {
                hold.awaitIdle(drainWait(ctx));
            } catch (CommandException busy) {
                Files.deleteIfExists(kept);
                throw new CommandException("upgrade of '" + c.bsn + "' to " + c.version + " not started: " + busy.getMessage());
            }
            try {
                replace(b, kept);
                awaitHandlers(b, before);
            } catch (BundleException | CommandException e) {
                String why = e.getMessage();
                LOG.warning("upgrade of " + c.bsn + " to " + c.version + " failed (" + why + "); putting " + from + " back");
                try {
                    replace(b, previous);
                    awaitHandlers(b, before);
                } catch (BundleException | IOException | CommandException rollback) {
                    throw new CommandException("upgrade of '" + c.bsn + "' to " + c.version + " failed (" + why
                        + ") and so did putting " + from + " back: " + rollback.getMessage());
                }
                Files.deleteIfExists(kept);
                throw new CommandException("upgrade of '" + c.bsn + "' to " + c.version + " failed, " + from + " is back: " + why);
            }
        }
        Files.deleteIfExists(previous);
        LOG.info("upgraded plugin " + c.bsn + " from " + from + " to " + c.version);
        Map<String, Object> r = result(b, true, null);
        r.put("from", from.toString());
        r.put("to", c.version.toString());
        return r;
    }

    private Map<String, Object> remove(CommandContext ctx) throws Exception {
        String bsn = ctx.params().string("bsn");
        if (isCore(bsn)) throw new CommandRefusedException("'" + bsn + "' is part of the agent's core and cannot be removed");
        Bundle b = find(bsn);
        if (b == null) throw new CommandRefusedException("no plugin '" + bsn + "' is installed");
        String version = b.getVersion().toString();
        // commands of its actions that arrive now wait for the removal, then are rejected as unknown
        try (Dispatcher.Hold hold = dispatcher.hold(actionsByBundle().getOrDefault(key(b), List.of()))) {
            hold.awaitIdle(drainWait(ctx));
            b.uninstall();
            refresh(b);
        }
        Files.deleteIfExists(store.resolve(bsn + "-" + version + ".jar"));
        LOG.info("removed plugin " + bsn + " " + version);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bsn", bsn);
        r.put("version", version);
        return r;
    }

    /** How long a change waits for running commands of the plugin to end: param {@code waitSeconds}, default 60. */
    private static java.time.Duration drainWait(CommandContext ctx) throws agent.api.InvalidParamException {
        return java.time.Duration.ofSeconds(ctx.params().integer("waitSeconds", 0, 3600, 60));
    }

    /** update + refresh + start, so the new classes are wired and its components come up. */
    private void replace(Bundle b, Path jar) throws BundleException, IOException, InterruptedException {
        try (InputStream in = Files.newInputStream(jar)) {
            b.update(in);
        }
        refresh(b);
        b.start();
    }

    private void refresh(Bundle b) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(b), e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) done.countDown();
        });
        done.await(30, TimeUnit.SECONDS);
    }

    /** Waits until the bundle serves at least the actions it served before (or any, for a new one), bounded. */
    private void awaitHandlers(Bundle b, List<String> expected) throws CommandException, InterruptedException {
        long end = System.currentTimeMillis() + HANDLER_WAIT_MS;
        while (System.currentTimeMillis() < end) {
            List<String> now = actionsByBundle().getOrDefault(key(b), List.of());
            if (expected == null ? true : now.containsAll(expected)) return;
            Thread.sleep(50);
        }
        throw new CommandException("its handlers " + expected + " did not appear within " + HANDLER_WAIT_MS / 1000 + " s");
    }

    /** The jar of an install or upgrade, fetched into the store dir and checked before anything changes. */
    private Candidate fetch(CommandContext ctx) throws Exception {
        String url = ctx.params().string("url");
        String sha = ctx.params().string("sha256").toLowerCase();
        if (!sha.matches("[0-9a-f]{64}")) throw new agent.api.InvalidParamException("sha256", "must be 64 hex digits, got '" + sha + "'");
        Files.createDirectories(store);
        Path tmp = Files.createTempFile(store, ".download-", ".jar");
        try {
            URI u = URI.create(url);
            // a relative URL, even "/agent/v1/bundles/...", means the server (PROTOCOL.md §7); local files are file: URLs
            if ("file".equals(u.getScheme())) {
                Files.copy(Path.of(u), tmp, StandardCopyOption.REPLACE_EXISTING);
            } else {
                ServerConnection conn = server.get();
                if (conn == null) {
                    throw new CommandException("param 'url': '" + url + "' needs the server connection; offline, use a"
                        + " file: URL");
                }
                try {
                    conn.transport().download(url, tmp);
                } catch (IOException e) {
                    throw new CommandException(e.getMessage());
                }
            }
            String actual = sha256(tmp);
            if (!actual.equals(sha)) {
                throw new CommandRefusedException("sha256 mismatch for " + url + ": expected " + sha + ", got " + actual
                    + "; nothing was installed");
            }
            Manifest mf;
            try (JarFile jar = new JarFile(tmp.toFile())) {
                mf = jar.getManifest();
            } catch (IOException e) {
                throw new CommandRefusedException(url + " is not a jar: " + e.getMessage());
            }
            Attributes a = mf == null ? null : mf.getMainAttributes();
            String bsnHeader = a == null ? null : a.getValue("Bundle-SymbolicName");
            if (bsnHeader == null) {
                throw new CommandRefusedException(url + " is not an OSGi bundle: no Bundle-SymbolicName in META-INF/MANIFEST.MF");
            }
            String bsn = bsnHeader.split(";")[0].trim();
            Version version;
            try {
                version = Version.parseVersion(a.getValue("Bundle-Version"));
            } catch (IllegalArgumentException e) {
                throw new CommandRefusedException(url + ": Bundle-Version '" + a.getValue("Bundle-Version") + "' is not a version");
            }
            if (isCore(bsn)) throw new CommandRefusedException("'" + bsn + "' is part of the agent's core and cannot be replaced");
            checkPolicy(bsn);
            if (trusted != null) JarSignatures.verify(tmp, trusted, url);
            return new Candidate(tmp, bsn, version);
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

    private Bundle find(String bsn) {
        for (Bundle b : context.getBundles()) if (bsn.equals(b.getSymbolicName())) return b;
        return null;
    }

    private Map<String, Object> result(Bundle b, boolean changed, String note) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bsn", b.getSymbolicName());
        r.put("version", b.getVersion().toString());
        r.put("state", BundleStates.name(b.getState()));
        r.put("actions", actionsByBundle().getOrDefault(key(b), List.of()));
        r.put("changed", changed);
        if (note != null) r.put("note", note);
        return r;
    }

    private Map<String, List<String>> actionsByBundle() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        registry.actions().forEach((a, reg) -> out.computeIfAbsent(reg.bundle, x -> new ArrayList<>()).add(a));
        return out;
    }

    private static String key(Bundle b) { return b.getSymbolicName() + " " + b.getVersion(); }

    static boolean isCore(String bsn) { return CORE.stream().anyMatch(p -> p.matcher(bsn).matches()); }

    private static List<Pattern> patterns(Object list) {
        List<Pattern> out = new ArrayList<>();
        if (list instanceof List) {
            for (Object o : (List<?>) list) out.add(Pattern.compile(Pattern.quote(String.valueOf(o)).replace("*", "\\E.*\\Q")));
        }
        return out;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) > 0;) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fetched, checked jar. */
    private static final class Candidate {
        final Path file;
        final String bsn;
        final Version version;

        Candidate(Path file, String bsn, Version version) {
            this.file = file;
            this.bsn = bsn;
            this.version = version;
        }

        Path keep(Path dir) throws IOException {
            return Files.move(file, dir.resolve(bsn + "-" + version + ".jar"), StandardCopyOption.REPLACE_EXISTING);
        }

        void delete() throws IOException { Files.deleteIfExists(file); }
    }
}
