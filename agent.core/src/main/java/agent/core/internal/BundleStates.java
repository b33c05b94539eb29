package agent.core.internal;

import org.osgi.framework.Bundle;

/** Bundle state names as hello and plugin.list report them. */
final class BundleStates {
    private BundleStates() {}

    static String name(int state) {
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
