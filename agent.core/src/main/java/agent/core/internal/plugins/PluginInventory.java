package agent.core.internal.plugins;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.reflect.TypeToken;

import agent.core.internal.config.AgentConfig;
import agent.core.internal.dispatch.HandlerRegistry;

/**
 * What is installed, as hello, {@code plugin.list} and the shell show it: every bundle with its version, state and
 * actions, which of them are the agent's core (by identity: what the distribution installed, apart from its
 * plugins), and which plugins are quarantined (they did not start in time, or their components failed) and why.
 * Keeps what plugins the agent itself must start, in {@code <data_dir>/plugins/plugins.json}: runtime-installed plugins
 * are started by the agent with a watchdog, never by the framework at launch, so one that hangs cannot keep the agent
 * from getting ready.
 */
@Component(service = PluginInventory.class, immediate = true)
public final class PluginInventory {
    private static final Logger LOG = Logger.getLogger("agent.core.plugins");
    /** Location prefix of bundles the plugin manager installed; others came with the agent. */
    public static final String LOCATION = "outpost:plugin:";
    /** A plugin's state in hello and plugin.list when it is quarantined. */
    public static final String QUARANTINED = "quarantined";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    /** What the agent remembers of a runtime-installed plugin. */
    static final class Entry {
        /** Start it when the agent starts. */
        boolean start = true;
        /** Why it is quarantined, or null. */
        String quarantined;
        /** sha256 of the jar installed under this bsn and version. */
        String sha256;
    }

    private final BundleContext context;
    private final HandlerRegistry registry;
    private final Path file;
    private final Map<String, Entry> entries; // guarded by this
    private final List<Runnable> changeListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param context  the core's bundle context
     * @param registry what each bundle serves
     * @param config   where the data dir is
     */
    @Activate
    public PluginInventory(BundleContext context, @Reference HandlerRegistry registry, @Reference AgentConfig config) {
        this.context = context;
        this.registry = registry;
        this.file = config.dataDir.resolve("plugins").resolve("plugins.json");
        this.entries = load(file);
        registry.refuseHandlersFrom(this::refused);
    }

    private boolean refused(Bundle b) { return b != null && quarantineReason(b.getSymbolicName()) != null; }

    private static Map<String, Entry> load(Path file) {
        if (!Files.exists(file)) return new LinkedHashMap<>();
        try {
            Map<String, Entry> m = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), new TypeToken<LinkedHashMap<String, Entry>>() {}.getType());
            return m == null ? new LinkedHashMap<>() : m;
        } catch (IOException | RuntimeException e) {
            LOG.warning("cannot read " + file + " (" + e.getMessage() + "); runtime-installed plugins are started as found");
            return new LinkedHashMap<>();
        }
    }

    private synchronized void save() {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), ".plugins-", ".json");
            Files.writeString(tmp, GSON.toJson(entries), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warning("cannot write " + file + ": " + e.getMessage());
        }
    }

    /** @param listener told after a plugin was installed, upgraded, removed or quarantined (the server's plugin list) */
    public void onChange(Runnable listener) { changeListeners.add(listener); }

    /** @param listener no longer told */
    public void removeOnChange(Runnable listener) { changeListeners.remove(listener); }

    /**
     * A plugin change is complete (its bundle is uninstalled, or started with its actions): what hello lists is now
     * true. The registry's own changes come earlier, while a bundle is still stopping.
     */
    void changed() { changeListeners.forEach(Runnable::run); }

    /** @param bsn a runtime plugin @param start start it at agent start @param sha256 its jar's */
    synchronized void installed(String bsn, boolean start, String sha256) {
        Entry e = entries.computeIfAbsent(bsn, b -> new Entry());
        e.start = start;
        e.quarantined = null;
        e.sha256 = sha256;
        save();
    }

    /** @param bsn a plugin that is gone */
    synchronized void removed(String bsn) {
        if (entries.remove(bsn) != null) save();
    }

    /** @param bsn a plugin @param why why it may not run */
    void quarantine(String bsn, String why) {
        synchronized (this) {
            entries.computeIfAbsent(bsn, b -> new Entry()).quarantined = why;
            save();
        }
        registry.refuseHandlersFrom(this::refused); // a component that comes up late must not serve either
        LOG.severe("plugin " + bsn + " is quarantined: " + why + "; it serves no actions until it is removed or upgraded");
    }

    /** @param bsn a plugin @return why it is quarantined, or null */
    public synchronized String quarantineReason(String bsn) {
        Entry e = entries.get(bsn);
        return e == null ? null : e.quarantined;
    }

    /** @param bsn a plugin @return the recorded sha256 of its installed jar, or null */
    synchronized String sha256(String bsn) {
        Entry e = entries.get(bsn);
        return e == null ? null : e.sha256;
    }

    /** @return the runtime plugins the agent starts itself at start-up (not quarantined, start requested) */
    synchronized List<String> toStart() {
        List<String> out = new ArrayList<>();
        entries.forEach((bsn, e) -> {
            if (e.start && e.quarantined == null) out.add(bsn);
        });
        return out;
    }

    /** @return every bundle but the framework, with what hello and plugin.list say of it */
    public List<Map<String, Object>> list() {
        Map<String, List<String>> actions = actionsByBundle();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getBundleId() == 0) continue;
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("bsn", b.getSymbolicName());
            p.put("version", b.getVersion().toString());
            String why = quarantineReason(b.getSymbolicName());
            p.put("state", why != null ? QUARANTINED : BundleStates.name(b.getState()));
            p.put("actions", why != null ? List.of() : actions.getOrDefault(key(b), List.of()));
            if (why != null) p.put("error", why);
            p.put("core", isCore(b));
            p.put("installedAtRuntime", b.getLocation().startsWith(LOCATION));
            out.add(p);
        }
        return out;
    }

    /** @return the actions each bundle serves now, by {@code bsn version} */
    Map<String, List<String>> actionsByBundle() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        registry.actions().forEach((a, reg) -> out.computeIfAbsent(reg.bundleName, x -> new ArrayList<>()).add(a));
        return out;
    }

    static String key(Bundle b) { return b.getSymbolicName() + " " + b.getVersion(); }

    /** @param bsn a symbolic name @return the bundle of the agent's core with that name, or null */
    Bundle coreBundle(String bsn) {
        for (Bundle b : context.getBundles()) if (bsn.equals(b.getSymbolicName()) && isCore(b)) return b;
        return null;
    }

    /**
     * The core by identity: the framework, this bundle, and every bundle the distribution installed that is not one
     * of its plugins (a plugin serves actions: its manifest provides the CommandHandler service). A bundle installed
     * at runtime is never core, whatever its name.
     */
    boolean isCore(Bundle b) {
        if (b.getBundleId() == 0 || b.getBundleId() == context.getBundle().getBundleId()) return true;
        if (b.getLocation().startsWith(LOCATION)) return false;
        BundleRevision rev = b.adapt(BundleRevision.class);
        if (rev == null) return false;
        for (BundleCapability c : rev.getDeclaredCapabilities("osgi.service")) {
            Object classes = c.getAttributes().get("objectClass");
            if (classes instanceof List && ((List<?>) classes).contains("agent.api.CommandHandler")) return false;
        }
        return true;
    }

    /** @return the packages the core exports: a plugin may not export any of them */
    Set<String> corePackages() {
        Set<String> out = new TreeSet<>();
        for (Bundle b : context.getBundles()) {
            if (!isCore(b)) continue;
            BundleRevision rev = b.adapt(BundleRevision.class);
            if (rev == null) continue;
            for (BundleCapability c : rev.getDeclaredCapabilities(BundleRevision.PACKAGE_NAMESPACE)) {
                out.add(String.valueOf(c.getAttributes().get(BundleRevision.PACKAGE_NAMESPACE)));
            }
        }
        return out;
    }

    /** @param bsn a symbolic name @return the installed bundle of that name, or null */
    Bundle find(String bsn) {
        for (Bundle b : context.getBundles()) if (bsn.equals(b.getSymbolicName())) return b;
        return null;
    }
}
