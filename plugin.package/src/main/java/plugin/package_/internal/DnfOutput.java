package plugin.package_.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What dnf (4 and 5) and yum print (with {@code LC_ALL=C}): check-update lists and transaction tables. */
final class DnfOutput {
    private DnfOutput() {}

    /** One line of check-update: {@code name.arch  version  repository}. */
    record Available(String name, String arch, String version, String repo) {}

    /**
     * @return the packages of a check-update (or dnf5 check-upgrade) listing; a name too long for its column is printed
     *         on a line of its own and continued on the next; the "Obsoleting Packages" part is not upgrades
     */
    static List<Available> checkUpdate(String output) {
        List<Available> out = new ArrayList<>();
        String pending = null;
        for (String raw : output.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty()) { pending = null; continue; }
            if (line.startsWith("Obsoleting Packages") || line.startsWith("Obsoleting packages")) break;
            if (line.startsWith("Last metadata expiration check") || line.startsWith("Updating and loading")
                || line.startsWith("Repositories loaded") || line.startsWith("Security:")) continue;
            String[] f = line.split("\\s+");
            if (pending != null && f.length == 2) {
                f = new String[] {pending, f[0], f[1]};
            } else if (f.length == 1 && f[0].lastIndexOf('.') > 0) {
                pending = f[0];
                continue;
            }
            pending = null;
            if (f.length != 3) continue;
            int dot = f[0].lastIndexOf('.');
            if (dot <= 0 || !Character.isDigit(f[1].charAt(0))) continue;
            out.add(new Available(f[0].substring(0, dot), f[0].substring(dot + 1), f[1], f[2]));
        }
        return out;
    }

    /** @return the changes of a transaction table ({@code dnf --assumeno install ...}), under its section headings */
    static List<Change> plan(String output) {
        List<Change> out = new ArrayList<>();
        String action = null;
        String pending = null;
        for (String raw : output.split("\n")) {
            String line = raw.stripTrailing();
            if (line.isBlank()) continue;
            if (!line.startsWith(" ")) {
                action = section(line);
                pending = null;
                continue;
            }
            if (action == null) continue;
            String[] f = line.strip().split("\\s+");
            if (f[0].equals("replacing") && f.length >= 4 && !out.isEmpty()) {
                // dnf5 shows the version an upgrade or downgrade replaces on the line below it
                Change last = out.remove(out.size() - 1);
                out.add(new Change(last.name(), last.arch(), last.action(), f[3], last.to()));
                continue;
            }
            if (f.length == 1) { pending = f[0]; continue; }
            if (pending != null) {
                String[] g = new String[f.length + 1];
                g[0] = pending;
                System.arraycopy(f, 0, g, 1, f.length);
                f = g;
                pending = null;
            }
            if (f.length < 4) continue;
            String name = f[0], arch = f[1], version = f[2];
            if (action.equals("removed")) out.add(new Change(name, arch, action, version, null));
            else out.add(new Change(name, arch, action, null, version));
        }
        return out;
    }

    /** @return the action a heading announces, or null for headings that list no package changes */
    private static String section(String heading) {
        String h = heading.trim().toLowerCase(Locale.ROOT);
        if (!h.endsWith(":")) return null;
        if (h.startsWith("installing") || h.startsWith("install ")) return "installed";
        if (h.startsWith("upgrading") || h.startsWith("updating")) return "upgraded";
        if (h.startsWith("downgrading")) return "downgraded";
        if (h.startsWith("reinstalling")) return "reinstalled";
        if (h.startsWith("removing") || h.startsWith("erasing")) return "removed";
        return null;
    }
}
