package plugin.package_.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One package that a command changed (or, in a dry run, would change).
 *
 * @param name   the package
 * @param arch   its architecture
 * @param action {@code installed}, {@code upgraded}, {@code downgraded}, {@code reinstalled} or {@code removed}
 * @param from   the version before, null if it was not installed
 * @param to     the version after, null if it was removed
 */
record Change(String name, String arch, String action, String from, String to) {
    Map<String, Object> toData() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name);
        d.put("architecture", arch);
        d.put("action", action);
        d.put("from", from);
        d.put("to", to);
        return d;
    }

    static String actionOf(String from, String to, Comparator<String> order) {
        if (from == null) return "installed";
        if (to == null) return "removed";
        int c = order.compare(to, from);
        return c > 0 ? "upgraded" : c < 0 ? "downgraded" : "reinstalled";
    }

    /** @return what differs between two snapshots of the installed set, by name */
    static List<Change> between(List<Pkg> before, List<Pkg> after, Comparator<String> order) {
        Map<String, Pkg> b = new TreeMap<>(), a = new TreeMap<>();
        for (Pkg p : before) b.put(p.key(), p);
        for (Pkg p : after) a.put(p.key(), p);
        List<Change> out = new ArrayList<>();
        TreeMap<String, Boolean> keys = new TreeMap<>();
        b.keySet().forEach(k -> keys.put(k, true));
        a.keySet().forEach(k -> keys.put(k, true));
        for (String k : keys.keySet()) {
            Pkg x = b.get(k), y = a.get(k);
            if (x != null && y != null && x.version().equals(y.version())) continue;
            Pkg any = y != null ? y : x;
            out.add(new Change(any.name(), any.arch(), actionOf(x == null ? null : x.version(), y == null ? null : y.version(), order),
                x == null ? null : x.version(), y == null ? null : y.version()));
        }
        return out;
    }

    static List<Map<String, Object>> toData(List<Change> changes) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Change c : changes) out.add(c.toData());
        return out;
    }
}
