package plugin.disk.internal;

import java.util.List;

/** Formatting for messages: quoting untrusted values so that an error never carries control characters. */
final class Text {
    private Text() {}

    /** @param value a value from a param, a file or a tool @return it in single quotes, escaped and cut at 120 chars */
    static String quote(String value) {
        if (value == null) return "null";
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < value.length() && i < 120; i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        if (value.length() > 120) sb.append("...");
        return sb.append('\'').toString();
    }

    /**
     * The lines of a failed tool's output that say why: a tool that refuses its arguments prints the reason and then
     * its usage (mkfs.xfs: "Filesystem must be larger than 300MB." and forty lines of options), so the usage is left
     * out and the last lines before it are kept.
     *
     * @param output a tool's output
     * @param lines  how many to keep
     * @return those lines joined by " | "
     */
    static String why(String output, int lines) {
        if (output == null) return "";
        List<String> all = output.strip().lines().toList();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).strip().toLowerCase().startsWith("usage:") && i > 0) {
                return tail(String.join("\n", all.subList(0, i)), lines);
            }
        }
        return tail(output, lines);
    }

    /** @param output a tool's output @param lines how many to keep @return its last non-empty lines, joined by " | " */
    static String tail(String output, int lines) {
        if (output == null) return "";
        List<String> all = output.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        return String.join(" | ", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
