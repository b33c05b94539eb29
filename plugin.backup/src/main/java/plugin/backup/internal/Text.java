package plugin.backup.internal;

import java.util.List;

/** Quoting of untrusted values (names from archives and params) for messages: never a control character. */
final class Text {
    private Text() {}

    /** @param value a value from a param, an archive or a tool @return it in single quotes, escaped and cut at 200 chars */
    static String quote(String value) {
        if (value == null) return "null";
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < value.length() && i < 200; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        if (value.length() > 200) sb.append("...");
        return sb.append('\'').toString();
    }

    /** @param lines messages @param max how many to show @return them joined with "; ", and how many more there were */
    static String some(List<String> lines, int max) {
        String s = String.join("; ", lines.subList(0, Math.min(max, lines.size())));
        return lines.size() > max ? s + "; and " + (lines.size() - max) + " more" : s;
    }

    /** @param bytes a size @return it for a human, e.g. {@code 1.5 GiB} */
    static String bytes(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
