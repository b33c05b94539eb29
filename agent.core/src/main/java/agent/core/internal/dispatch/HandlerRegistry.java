package agent.core.internal.dispatch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.api.CommandHandler;

/**
 * Every {@link CommandHandler} service, by action. Dynamic: a bundle that starts adds its actions at once, one
 * that stops takes them away. When two handlers claim an action, the higher service ranking (then the older
 * service) wins and the other waits as a fallback. A handler's actions are learnt from its service properties; the
 * service itself is got at its first command, so Declarative Services neither activates a plugin's component nor
 * loads its classes before the plugin is used (a plugin that is never used costs almost nothing).
 */
@Component(service = HandlerRegistry.class, immediate = true)
public final class HandlerRegistry {
    private static final Logger LOG = Logger.getLogger("agent.core.registry");

    /** One handler service and what it declared. */
    public static final class Registration {
        /** Gets the handler service; null for a handler given directly (tests). */
        private final ComponentServiceObjects<CommandHandler> objects;
        private volatile CommandHandler handler; // got at the first command
        public final List<String> actions;
        /** Commands of handlers with the same key run one at a time; null for none. */
        public final String concurrencyKey;
        /** The bundle serving it, or null (a handler made by a test). */
        public final Bundle bundle;
        /** {@code bsn version}, for messages and hello. */
        public final String bundleName;
        public final int ranking;
        public final long serviceId;
        /** Whether every action of the handler supports dry runs ({@link CommandHandler#DRY_RUN}). */
        public final boolean dryRun;
        /** The class name of its settings type ({@link CommandHandler#SETTINGS_TYPE}), or null. */
        public final String settingsType;

        /** For tests: a handler with no bundle. */
        public Registration(CommandHandler handler, List<String> actions, String concurrencyKey, String bundleName,
                int ranking, long serviceId, boolean dryRun) {
            this(null, actions, concurrencyKey, null, bundleName, ranking, serviceId, dryRun, null);
            this.handler = handler;
        }

        Registration(ComponentServiceObjects<CommandHandler> objects, List<String> actions, String concurrencyKey, Bundle bundle,
                String bundleName, int ranking, long serviceId, boolean dryRun, String settingsType) {
            this.objects = objects;
            this.actions = actions;
            this.concurrencyKey = concurrencyKey;
            this.bundle = bundle;
            this.bundleName = bundleName;
            this.ranking = ranking;
            this.serviceId = serviceId;
            this.dryRun = dryRun;
            this.settingsType = settingsType;
        }

        /**
         * @return the handler, got (and its component activated) at the first call; call it where the time it takes is
         *         bounded, for a plugin's activation may block
         * @throws IllegalStateException if its component did not activate (Declarative Services logs why)
         */
        public CommandHandler handler() {
            CommandHandler h = handler;
            if (h != null) return h;
            synchronized (this) {
                if (handler == null) {
                    handler = objects.getService();
                    if (handler == null) {
                        throw new IllegalStateException("the handler of " + actions + " from " + bundleName
                            + " did not activate (its component failed to start; the log says why)");
                    }
                }
                return handler;
            }
        }

        /** Gives the handler back when its service goes. */
        void release() {
            CommandHandler h = handler;
            if (h != null && objects != null) {
                try {
                    objects.ungetService(h);
                } catch (IllegalStateException | IllegalArgumentException gone) {
                    // the component is already gone with its bundle
                }
            }
        }

        /** @return the action prefix of the handler's first action (its plugin's config section) */
        public String prefix() {
            String a = actions.get(0);
            return a.substring(0, a.indexOf('.'));
        }
    }

    private static final Comparator<Registration> PRIORITY =
        Comparator.comparingInt((Registration r) -> -r.ranking).thenComparingLong(r -> r.serviceId);

    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    /** Bundles whose handlers are not routed to (a quarantined plugin whose component came up late). */
    private volatile java.util.function.Predicate<Bundle> refused = b -> false;
    private final List<Consumer<Registration>> addListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, service = CommandHandler.class)
    void addHandler(ComponentServiceObjects<CommandHandler> handler) {
        ServiceReference<CommandHandler> ref = handler.getServiceReference();
        Object rank = ref.getProperty("service.ranking");
        Object dry = ref.getProperty(CommandHandler.DRY_RUN);
        Object settings = ref.getProperty(CommandHandler.SETTINGS_TYPE);
        Bundle b = ref.getBundle();
        add(new Registration(handler, actionsOf(ref.getProperty(CommandHandler.ACTIONS)),
            stringOrNull(ref.getProperty(CommandHandler.CONCURRENCY_KEY)), b, b.getSymbolicName() + " " + b.getVersion(),
            rank instanceof Integer ? (Integer) rank : 0, (Long) ref.getProperty("service.id"),
            Boolean.TRUE.equals(dry) || "true".equals(dry), settings == null ? null : settings.toString()));
    }

    void removeHandler(ComponentServiceObjects<CommandHandler> handler) {
        for (Registration r : registrations) {
            if (r.objects == handler && registrations.remove(r)) {
                // every handler goes when the agent stops: worth a line only while the agent runs on
                LOG.log(agentStopping(r.bundle) ? Level.FINE : Level.INFO, () -> "actions removed: " + r.actions);
                r.release();
            }
        }
        changeListeners.forEach(Runnable::run);
    }

    private static boolean agentStopping(Bundle plugin) {
        BundleContext context = plugin.getBundleContext();
        Bundle system = context == null ? null : context.getBundle(0);
        return system != null && system.getState() == Bundle.STOPPING;
    }

    /** Removes a handler's registration directly; used by tests. */
    public void remove(CommandHandler handler) {
        for (Registration r : registrations) {
            if (r.handler == handler && registrations.remove(r)) LOG.info(() -> "actions removed: " + r.actions);
        }
        changeListeners.forEach(Runnable::run);
    }

    /** @param refused bundles whose handlers must not be routed to, now or later */
    public void refuseHandlersFrom(java.util.function.Predicate<Bundle> refused) {
        this.refused = refused;
        for (Registration r : registrations) {
            if (refused.test(r.bundle) && registrations.remove(r)) LOG.warning("actions " + r.actions + " of " + r.bundleName + " are refused");
        }
    }

    /** Adds a registration directly; used by tests and by {@link #addHandler}. */
    public void add(Registration r) {
        if (refused.test(r.bundle)) {
            LOG.warning(() -> "actions " + r.actions + " of " + r.bundleName + " are refused: the plugin is quarantined");
            return;
        }
        if (r.actions.isEmpty()) {
            LOG.warning(() -> "a CommandHandler from " + r.bundleName + " declares no " + CommandHandler.ACTIONS
                + " property and is ignored");
            return;
        }
        registrations.add(r);
        LOG.info(() -> "actions added: " + r.actions + " from " + r.bundleName);
        addListeners.forEach(l -> l.accept(r));
        changeListeners.forEach(Runnable::run);
    }

    /** @param listener told of every change (the plugin list a server sees) */
    public void onChange(Runnable listener) { changeListeners.add(listener); }

    /** @param listener no longer told */
    public void removeOnChange(Runnable listener) { changeListeners.remove(listener); }

    /** @param listener told of every registration as it is added, and of those there already are */
    public void onAdd(Consumer<Registration> listener) {
        addListeners.add(listener);
        registrations.forEach(listener);
    }

    /** @param listener no longer told */
    public void removeOnAdd(Consumer<Registration> listener) { addListeners.remove(listener); }

    /** @return the handler that serves the action now */
    public Optional<Registration> lookup(String action) {
        Registration best = null;
        for (Registration r : registrations) {
            if (r.actions.contains(action) && (best == null || PRIORITY.compare(r, best) < 0)) best = r;
        }
        return Optional.ofNullable(best);
    }

    /** @param r a registration @return whether it still serves (its bundle was not stopped or changed meanwhile) */
    public boolean isCurrent(Registration r) { return registrations.contains(r); }

    /** @return every registration now */
    public List<Registration> all() { return List.copyOf(registrations); }

    /** @return every action served now, with the registration that serves it */
    public SortedMap<String, Registration> actions() {
        SortedMap<String, Registration> out = new TreeMap<>();
        List<Registration> sorted = new ArrayList<>(registrations);
        sorted.sort(PRIORITY.reversed()); // highest priority written last wins
        for (Registration r : sorted) for (String a : r.actions) out.put(a, r);
        return Collections.unmodifiableSortedMap(out);
    }

    private static List<String> actionsOf(Object property) {
        if (property instanceof String) return List.of((String) property);
        if (property instanceof String[]) return List.of((String[]) property);
        if (property instanceof Iterable) {
            List<String> out = new ArrayList<>();
            for (Object o : (Iterable<?>) property) out.add(String.valueOf(o));
            return out;
        }
        return List.of();
    }

    private static String stringOrNull(Object o) { return o == null ? null : o.toString(); }
}
