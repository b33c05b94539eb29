package agent.core.internal.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentServiceObjects;

import agent.api.CommandHandler;

class HandlerRegistryTest {
    /** A handler service as Declarative Services hands it over: getting it is what activates the component. */
    static final class Objects implements ComponentServiceObjects<CommandHandler> {
        final AtomicInteger gets = new AtomicInteger();
        final AtomicInteger ungets = new AtomicInteger();
        final CommandHandler handler;
        final Hashtable<String, Object> props = new Hashtable<>();

        Objects(CommandHandler handler, String... actions) {
            this.handler = handler;
            props.put(CommandHandler.ACTIONS, actions);
            props.put("service.id", 7L);
        }

        @Override public CommandHandler getService() { gets.incrementAndGet(); return handler; }
        @Override public void ungetService(CommandHandler service) { ungets.incrementAndGet(); }

        @Override
        public ServiceReference<CommandHandler> getServiceReference() {
            return new ServiceReference<>() {
                @Override public Object getProperty(String key) { return props.get(key); }
                @Override public String[] getPropertyKeys() { return props.keySet().toArray(new String[0]); }
                @Override public Bundle getBundle() { return FakeBundle.make(); }
                @Override public Bundle[] getUsingBundles() { return null; }
                @Override public boolean isAssignableTo(Bundle bundle, String className) { return true; }
                @Override public int compareTo(Object reference) { return 0; }
                @Override public Dictionary<String, Object> getProperties() { return props; }
                @Override public <A> A adapt(Class<A> type) { return null; }
            };
        }
    }

    @Test
    void aHandlersActionsAreKnownWithoutActivatingItsComponentUntilItsFirstCommand() {
        HandlerRegistry registry = new HandlerRegistry();
        Objects disk = new Objects(ctx -> "listed", "disk.list");
        registry.addHandler(disk);
        assertThat(registry.actions()).containsKey("disk.list");
        HandlerRegistry.Registration r = registry.lookup("disk.list").orElseThrow();
        assertThat(disk.gets.get()).as("nothing activated by being registered or looked up").isZero();

        assertThat(r.handler()).isSameAs(disk.handler);
        assertThat(r.handler()).isSameAs(disk.handler);
        assertThat(disk.gets.get()).as("activated once, at the first command").isEqualTo(1);

        registry.removeHandler(disk);
        assertThat(registry.actions()).doesNotContainKey("disk.list");
        assertThat(disk.ungets.get()).isEqualTo(1);
    }

    @Test
    void aComponentThatDoesNotActivateFailsItsCommandSayingSo() {
        HandlerRegistry registry = new HandlerRegistry();
        Objects broken = new Objects(null, "broken.run");
        registry.addHandler(broken);
        assertThatThrownBy(() -> registry.lookup("broken.run").orElseThrow().handler())
            .isInstanceOf(IllegalStateException.class).hasMessageContaining("did not activate");
    }
}
