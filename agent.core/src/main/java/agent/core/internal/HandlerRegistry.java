package agent.core.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.api.CommandHandler;

/**
 * Every {@link CommandHandler} service, by action. Dynamic: a bundle that starts adds its actions at once, one
 * that stops takes them away. When two handlers claim an action, the higher service ranking (then the older
 * service) wins and the other waits as a fallback.
 */
@Component(service = HandlerRegistry.class)
public final class HandlerRegistry {
    private static final Logger LOG = Logger.getLogger("agent.core.registry");

    /** One handler service and what it declared. */
    static final class Registration {
        final CommandHandler handler;
        final List<String> actions;
        final String concurrencyKey;
        final String bundle;
        final int ranking;
        final long serviceId;
        /** Whether every action of the handler supports dry runs ({@link CommandHandler#DRY_RUN}). */
        final boolean dryRun;

        Registration(CommandHandler handler, List<String> actions, String concurrencyKey, String bundle, int ranking,
                long serviceId) {
            this(handler, actions, concurrencyKey, bundle, ranking, serviceId, false);
        }

        Registration(CommandHandler handler, List<String> actions, String concurrencyKey, String bundle, int ranking,
                long serviceId, boolean dryRun) {
            this.dryRun = dryRun;
            this.handler = handler;
            this.actions = actions;
            this.concurrencyKey = concurrencyKey;
            this.bundle = bundle;
            this.ranking = ranking;
            this.serviceId = serviceId;
        }
    }

    private static final Comparator<Registration> PRIORITY =
        Comparator.comparingInt((Registration r) -> -r.ranking).thenComparingLong(r -> r.serviceId);

    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addHandler(CommandHandler handler, ServiceReference<CommandHandler> ref) {
        Object rank = ref.getProperty("service.ranking");
        add(new Registration(handler, actionsOf(ref.getProperty(CommandHandler.ACTIONS)),
            stringOrNull(ref.getProperty(CommandHandler.CONCURRENCY_KEY)), ref.getBundle().getSymbolicName()
                + " " + ref.getBundle().getVersion(), rank instanceof Integer ? (Integer) rank : 0,
            (Long) ref.getProperty("service.id"), Boolean.TRUE.equals(ref.getProperty(CommandHandler.DRY_RUN))
                || "true".equals(ref.getProperty(CommandHandler.DRY_RUN))));
    }

    void removeHandler(CommandHandler handler, ServiceReference<CommandHandler> ref) {
        remove(handler);
    }

    /** Removes a handler's registration directly; used by tests and by {@link #removeHandler}. */
    void remove(CommandHandler handler) {
        for (Registration r : registrations) {
            if (r.handler == handler && registrations.remove(r)) LOG.info(() -> "actions removed: " + r.actions);
        }
        changeListeners.forEach(Runnable::run);
    }

    /** Adds a registration directly; used by tests and by {@link #addHandler}. */
    void add(Registration r) {
        if (r.actions.isEmpty()) {
            LOG.warning(() -> "a CommandHandler from " + r.bundle + " declares no " + CommandHandler.ACTIONS
                + " property and is ignored");
            return;
        }
        registrations.add(r);
        LOG.info(() -> "actions added: " + r.actions + " from " + r.bundle);
        changeListeners.forEach(Runnable::run);
    }

    void onChange(Runnable listener) { changeListeners.add(listener); }

    /** @return the handler that serves the action now */
    Optional<Registration> lookup(String action) {
        return registrations.stream().filter(r -> r.actions.contains(action)).min(PRIORITY);
    }

    /** @return every action served now, with the registration that serves it */
    SortedMap<String, Registration> actions() {
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

    static Map<String, Object> describe(Registration r) {
        return Map.of("bundle", r.bundle, "concurrencyKey", r.concurrencyKey == null ? "" : r.concurrencyKey);
    }
}
