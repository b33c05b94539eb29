package plugin.package_.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What dpkg-query, apt-get's simulation, apt-cache policy and apt-config print (with {@code LC_ALL=C}), parsed.
 */
final class AptOutput {
    /** dpkg-query's format: name, version, architecture and the status abbreviation (two letters and a flag). */
    static final String QUERY_FORMAT = "${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n";
    /** {@code Inst name [old] (new Label:suite[, Label:suite] [arch])}, as apt-get -s prints it. */
    private static final Pattern INST = Pattern.compile("^Inst (\\S+) (?:\\[([^\\]]+)\\] )?\\((\\S+) (.*?) ?\\[([^\\]]+)\\]\\)(.*)$");
    private static final Pattern REMV = Pattern.compile("^(Remv|Purg) (\\S+)(?: \\[([^\\]]+)\\])?.*$");
    private static final Pattern SHELL = Pattern.compile("^([A-Z_]+)='(.*)'$");

    private AptOutput() {}

    /** @return the packages dpkg knows as installed (also half-done ones, with their state); not the removed ones */
    static List<Pkg> installed(String output) {
        List<Pkg> out = new ArrayList<>();
        for (String line : output.split("\n")) {
            String[] f = line.split("\t", -1);
            if (f.length < 4 || f[0].isEmpty() || f[3].length() < 2) continue;
            char status = f[3].charAt(1);
            // n: not installed, c: only its config files are left
            if (status == 'n' || status == 'c') continue;
            String state = status == 'i' && f[3].trim().length() == 2 ? null : state(f[3]);
            out.add(new Pkg(f[0], f[1], f[2], state));
        }
        return out;
    }

    private static String state(String abbrev) {
        String s;
        switch (abbrev.charAt(1)) {
            case 'i': s = "installed"; break;
            case 'U': s = "unpacked"; break;
            case 'F': s = "half-configured"; break;
            case 'H': s = "half-installed"; break;
            case 'W': s = "triggers-awaited"; break;
            case 't': s = "triggers-pending"; break;
            default: s = "status " + abbrev.trim();
        }
        return abbrev.trim().length() > 2 ? s + ", needs reinstall" : s;
    }

    /** @return the changes an apt-get simulation announces ({@code Inst}, {@code Remv}, {@code Purg} lines) */
    static List<Change> plan(String output) {
        List<Change> out = new ArrayList<>();
        for (String line : output.split("\n")) {
            Matcher m = INST.matcher(line);
            if (m.matches()) {
                String name = m.group(1), from = m.group(2), to = m.group(3);
                String[] na = splitArch(name, m.group(5));
                out.add(new Change(na[0], na[1], Change.actionOf(from, to, Versions.DEBIAN), from, to));
                continue;
            }
            Matcher r = REMV.matcher(line);
            if (r.matches()) {
                String[] na = splitArch(r.group(2), null);
                out.add(new Change(na[0], na[1], "removed", r.group(3), null));
            }
        }
        return out;
    }

    /** @return name and architecture of {@code name:arch} (multiarch) or of a name and the line's architecture */
    private static String[] splitArch(String name, String arch) {
        int colon = name.indexOf(':');
        if (colon > 0) return new String[] {name.substring(0, colon), name.substring(colon + 1)};
        return new String[] {name, arch};
    }

    /** An upgradable package from an {@code Inst} line of a simulated dist-upgrade: it has an old version. */
    record Upgradable(String name, String arch, String installed, String candidate, String release) {}

    static List<Upgradable> upgradable(String simulation) {
        List<Upgradable> out = new ArrayList<>();
        for (String line : simulation.split("\n")) {
            Matcher m = INST.matcher(line);
            if (m.matches() && m.group(2) != null) {
                String[] na = splitArch(m.group(1), m.group(5));
                out.add(new Upgradable(na[0], na[1], m.group(2), m.group(3), m.group(4).trim()));
            }
        }
        return out;
    }

    /** @return the variables of {@code apt-config shell NAME key/d ...} */
    static Map<String, String> shell(String output) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            Matcher m = SHELL.matcher(line.trim());
            if (m.matches()) out.put(m.group(1), m.group(2).replace("'\\''", "'"));
        }
        return out;
    }

    /** One package's {@code apt-cache policy}: installed, candidate, and each version's sources. */
    record Policy(String name, String installed, String candidate, Map<String, List<String>> sources) {}

    /** @return the packages of {@code apt-cache policy NAME...}, by name as apt prints it */
    static Map<String, Policy> policies(String output) {
        Map<String, Policy> out = new LinkedHashMap<>();
        String name = null, installed = null, candidate = null, version = null;
        Map<String, List<String>> sources = null;
        for (String line : output.split("\n")) {
            if (!line.startsWith(" ") && line.endsWith(":") && !line.isBlank()) {
                if (name != null) out.put(name, new Policy(name, installed, candidate, sources));
                name = line.substring(0, line.length() - 1);
                installed = candidate = version = null;
                sources = new LinkedHashMap<>();
                continue;
            }
            if (name == null) continue;
            String t = line.trim();
            if (t.startsWith("Installed: ")) installed = none(t.substring(11));
            else if (t.startsWith("Candidate: ")) candidate = none(t.substring(11));
            else if (t.equals("Version table:")) continue;
            else if (line.startsWith(" *** ") || (line.startsWith("     ") && !line.startsWith("      "))) {
                // a version line: " *** 1.0 500" or "     2.0 500"
                String[] f = t.replace("*** ", "").split("\\s+");
                version = f[0];
                sources.put(version, new ArrayList<>());
            } else if (version != null && line.startsWith("        ")) {
                // a source line: "        500 http://deb.debian.org/debian bookworm/main amd64 Packages"
                String[] f = t.split("\\s+", 2);
                if (f.length == 2) sources.get(version).add(f[1]);
            }
        }
        if (name != null) out.put(name, new Policy(name, installed, candidate, sources));
        return out;
    }

    private static String none(String v) { return v.equals("(none)") ? null : v; }

    /** @return each package file of {@code apt-cache policy} (no names) with its release fields (o, a, n, l, c, b) */
    static Map<String, Map<String, String>> releases(String output) {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        String source = null;
        for (String line : output.split("\n")) {
            String t = line.trim();
            if (line.startsWith(" ") && !line.startsWith("  ") && t.matches("-?[0-9]+ .+")) {
                source = t.split("\\s+", 2)[1];
                out.put(source, new LinkedHashMap<>());
            } else if (source != null && t.startsWith("release ")) {
                for (String kv : t.substring(8).split(",")) {
                    int eq = kv.indexOf('=');
                    if (eq > 0) out.get(source).put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            } else if (!line.startsWith(" ")) {
                source = null;
            }
        }
        return out;
    }

    /**
     * A security source: its suite or codename ends in {@code -security} (Debian {@code bookworm-security}, Ubuntu
     * {@code jammy-security}) or its label says Security ({@code Debian-Security}), as unattended-upgrades' and
     * update-notifier's defaults tell them apart.
     */
    static boolean isSecurity(Map<String, String> release) {
        if (release == null) return false;
        String a = release.getOrDefault("a", ""), n = release.getOrDefault("n", ""), l = release.getOrDefault("l", "");
        return a.endsWith("-security") || n.endsWith("-security") || l.toLowerCase(Locale.ROOT).contains("security");
    }

    /** @return a source's name for data: {@code Label:suite} when the release says, else the source line */
    static String originName(String source, Map<String, String> release) {
        if (release == null || release.isEmpty()) return source;
        String label = release.getOrDefault("l", release.getOrDefault("o", ""));
        return label + ":" + release.getOrDefault("a", release.getOrDefault("n", ""));
    }
}
