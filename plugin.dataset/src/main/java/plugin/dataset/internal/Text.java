package plugin.dataset.internal;

/** Formatting for messages: untrusted values quoted, control characters escaped, long ones cut. */
final class Text {
    private Text() {}

    /** @param value a value from a param, an archive or a server @return it in single quotes, escaped, cut at 160 chars */
    static String quote(String value) {
        if (value == null) return "null";
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < value.length() && i < 160; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        if (value.length() > 160) sb.append("...");
        return sb.append('\'').toString();
    }

    /** @return a byte count for people: "512 B", "1.5 MiB" */
    static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
