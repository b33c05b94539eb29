package plugin.script.internal;

/** Quoting of untrusted values for messages: an error never carries control characters or a whole script. */
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

    /** @param output a tool's output @return its last non-empty line, stripped, or "(no output)" */
    static String lastLine(String output) {
        if (output == null) return "(no output)";
        return output.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).reduce((a, b) -> b).orElse("(no output)");
    }
}
