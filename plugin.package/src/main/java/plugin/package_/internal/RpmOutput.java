package plugin.package_.internal;

import java.util.ArrayList;
import java.util.List;

/** What rpm prints for the query format below: the installed set of dnf, yum and zypper hosts. */
final class RpmOutput {
    /** name, [epoch:]version-release, arch, tab-separated; the epoch only when there is one (as dnf shows versions). */
    static final String QUERY_FORMAT = "%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\n";

    private RpmOutput() {}

    static List<Pkg> installed(String output) {
        List<Pkg> out = new ArrayList<>();
        for (String line : output.split("\n")) {
            String[] f = line.split("\t");
            if (f.length != 3 || f[0].isEmpty()) continue;
            // gpg-pubkey entries are keys rpm keeps in its database, not packages
            if (f[0].equals("gpg-pubkey")) continue;
            out.add(new Pkg(f[0], f[1], f[2].equals("(none)") ? "noarch" : f[2], null));
        }
        return out;
    }
}
