package plugin.package_.internal;

import java.util.Comparator;

/**
 * Version order as dpkg ({@code verrevcmp}) and rpm ({@code rpmvercmp}) define it: epoch, then the version, then the
 * revision or release, each compared in runs of non-digits and digits. Used to say "upgraded" or "downgraded", to pick
 * the newest security version, and to compare a running kernel with the installed ones.
 */
final class Versions {
    private Versions() {}

    /** dpkg's order: '~' sorts before everything, even the end of the string; letters before other characters. */
    static final Comparator<String> DEBIAN = Versions::debian;
    /** rpm's order, with '~' (before everything) and '^' (after the end, before anything else). */
    static final Comparator<String> RPM = Versions::rpm;

    static int debian(String a, String b) {
        String[] x = evr(a), y = evr(b);
        int c = Long.compare(Long.parseLong(x[0]), Long.parseLong(y[0]));
        if (c != 0) return c;
        c = verrevcmp(x[1], y[1]);
        if (c != 0) return c;
        return verrevcmp(x[2], y[2]);
    }

    /** @return epoch (default 0), version, revision (default "") */
    private static String[] evr(String v) {
        String epoch = "0";
        int colon = v.indexOf(':');
        if (colon > 0 && v.substring(0, colon).chars().allMatch(Character::isDigit)) {
            epoch = v.substring(0, colon);
            v = v.substring(colon + 1);
        }
        int dash = v.lastIndexOf('-');
        return dash < 0 ? new String[] {epoch, v, ""} : new String[] {epoch, v.substring(0, dash), v.substring(dash + 1)};
    }

    private static int order(char c) {
        if (Character.isDigit(c)) return 0;
        if (Character.isLetter(c)) return c;
        if (c == '~') return -1;
        return c + 256;
    }

    private static int verrevcmp(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() || j < b.length()) {
            int firstDiff = 0;
            while ((i < a.length() && !Character.isDigit(a.charAt(i))) || (j < b.length() && !Character.isDigit(b.charAt(j)))) {
                int ac = i < a.length() ? order(a.charAt(i)) : 0;
                int bc = j < b.length() ? order(b.charAt(j)) : 0;
                if (ac != bc) return ac - bc;
                i++;
                j++;
            }
            while (i < a.length() && a.charAt(i) == '0') i++;
            while (j < b.length() && b.charAt(j) == '0') j++;
            while (i < a.length() && Character.isDigit(a.charAt(i)) && j < b.length() && Character.isDigit(b.charAt(j))) {
                if (firstDiff == 0) firstDiff = a.charAt(i) - b.charAt(j);
                i++;
                j++;
            }
            if (i < a.length() && Character.isDigit(a.charAt(i))) return 1;
            if (j < b.length() && Character.isDigit(b.charAt(j))) return -1;
            if (firstDiff != 0) return firstDiff;
        }
        return 0;
    }

    static int rpm(String a, String b) {
        String[] x = rpmEvr(a), y = rpmEvr(b);
        int c = Long.compare(Long.parseLong(x[0]), Long.parseLong(y[0]));
        if (c != 0) return c;
        c = rpmvercmp(x[1], y[1]);
        if (c != 0 || x[2].isEmpty() || y[2].isEmpty()) return c; // a missing release matches any (as rpm compares a request)
        return rpmvercmp(x[2], y[2]);
    }

    private static String[] rpmEvr(String v) {
        String epoch = "0";
        int colon = v.indexOf(':');
        if (colon > 0 && v.substring(0, colon).chars().allMatch(Character::isDigit)) {
            epoch = v.substring(0, colon);
            v = v.substring(colon + 1);
        }
        int dash = v.indexOf('-');
        return dash < 0 ? new String[] {epoch, v, ""} : new String[] {epoch, v.substring(0, dash), v.substring(dash + 1)};
    }

    private static boolean alnum(char c) { return Character.isLetterOrDigit(c) && c < 128; }

    private static int rpmvercmp(String a, String b) {
        if (a.equals(b)) return 0;
        int i = 0, j = 0;
        while (i < a.length() || j < b.length()) {
            while (i < a.length() && !alnum(a.charAt(i)) && a.charAt(i) != '~' && a.charAt(i) != '^') i++;
            while (j < b.length() && !alnum(b.charAt(j)) && b.charAt(j) != '~' && b.charAt(j) != '^') j++;
            boolean at = i < a.length(), bt = j < b.length();
            if ((at && a.charAt(i) == '~') || (bt && b.charAt(j) == '~')) {
                if (!at || a.charAt(i) != '~') return 1;
                if (!bt || b.charAt(j) != '~') return -1;
                i++;
                j++;
                continue;
            }
            if ((at && a.charAt(i) == '^') || (bt && b.charAt(j) == '^')) {
                if (!at) return -1;
                if (!bt) return 1;
                if (a.charAt(i) != '^') return 1;
                if (b.charAt(j) != '^') return -1;
                i++;
                j++;
                continue;
            }
            if (!at || !bt) break;
            int si = i, sj = j;
            boolean numeric = Character.isDigit(a.charAt(i));
            if (numeric) {
                while (i < a.length() && Character.isDigit(a.charAt(i))) i++;
                while (j < b.length() && Character.isDigit(b.charAt(j))) j++;
            } else {
                while (i < a.length() && Character.isLetter(a.charAt(i)) && a.charAt(i) < 128) i++;
                while (j < b.length() && Character.isLetter(b.charAt(j)) && b.charAt(j) < 128) j++;
            }
            if (sj == j) return numeric ? 1 : -1; // the other segment is of the other kind: numbers are newer
            String x = a.substring(si, i), y = b.substring(sj, j);
            if (numeric) {
                x = x.replaceFirst("^0+(?=.)", "");
                y = y.replaceFirst("^0+(?=.)", "");
                if (x.length() != y.length()) return x.length() > y.length() ? 1 : -1;
            }
            int c = x.compareTo(y);
            if (c != 0) return c < 0 ? -1 : 1;
        }
        boolean at = i < a.length(), bt = j < b.length();
        if (!at && !bt) return 0;
        return at ? 1 : -1;
    }
}
