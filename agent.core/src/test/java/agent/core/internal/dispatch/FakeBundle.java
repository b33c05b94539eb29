package agent.core.internal.dispatch;

import java.lang.reflect.Proxy;

import org.osgi.framework.Bundle;
import org.osgi.framework.Version;

/** A bundle that only has a name and a version: what the registry reads of a handler's bundle. */
final class FakeBundle {
    private FakeBundle() {}

    static Bundle make() {
        return (Bundle) Proxy.newProxyInstance(FakeBundle.class.getClassLoader(), new Class<?>[] {Bundle.class}, (p, m, a) -> {
            switch (m.getName()) {
                case "getSymbolicName": return "plugin.test";
                case "getVersion": return new Version(1, 0, 0);
                case "getBundleId": return 42L;
                case "hashCode": return 42;
                case "equals": return p == a[0];
                case "toString": return "plugin.test 1.0.0";
                default: return null;
            }
        });
    }
}
