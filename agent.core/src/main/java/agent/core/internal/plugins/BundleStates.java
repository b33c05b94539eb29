package agent.core.internal.plugins;

import org.osgi.framework.Bundle;

/** Bundle state names as hello and plugin.list report them. */
public final class BundleStates {
    private BundleStates() {}

    /** @param state a bundle state @return its name as hello shows it */
    public static String name(int state) {
        switch (state) {
            case Bundle.ACTIVE: return "active";
            case Bundle.RESOLVED: return "resolved";
            case Bundle.INSTALLED: return "installed";
            case Bundle.STARTING: return "starting";
            case Bundle.STOPPING: return "stopping";
            default: return "uninstalled";
        }
    }
}
