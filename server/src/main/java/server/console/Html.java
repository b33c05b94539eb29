package server.console;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * HTML that is safe by construction: {@link #html} fills each {@code {}} of a template with an argument, escaped,
 * unless the argument is already {@link Safe} HTML. Everything an agent or an operator sent (host names, outputs,
 * event data) reaches a page only through it, so none of it can become markup.
 */
final class Html {
    private Html() {}

    /** Markup that may go into a page as it is. */
    record Safe(String html) {
        static final Safe EMPTY = new Safe("");

        @Override
        public String toString() {
            return html;
        }
    }

    /**
     * The template with each {@code {}} replaced by the next argument: {@link Safe} as it is, null as nothing, anything
     * else as its text, escaped for element content and quoted attribute values alike.
     */
    static Safe html(String template, Object... args) {
        StringBuilder sb = new StringBuilder(template.length() + 16 * args.length);
        int arg = 0;
        int from = 0;
        for (int i = template.indexOf("{}"); i >= 0; i = template.indexOf("{}", from)) {
            sb.append(template, from, i);
            if (arg >= args.length) throw new IllegalArgumentException("more {} than arguments in: " + template);
            append(sb, args[arg++]);
            from = i + 2;
        }
        if (arg != args.length) throw new IllegalArgumentException(args.length + " arguments for " + arg + " {} in: " + template);
        sb.append(template, from, template.length());
        return new Safe(sb.toString());
    }

    private static void append(StringBuilder sb, Object v) {
        if (v == null) return;
        if (v instanceof Safe s) sb.append(s.html());
        else escape(sb, v.toString());
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        escape(sb, s);
        return sb.toString();
    }

    private static void escape(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
    }

    /** Pieces one after the other. */
    static Safe join(Collection<Safe> parts) {
        StringBuilder sb = new StringBuilder();
        for (Safe p : parts) sb.append(p.html());
        return new Safe(sb.toString());
    }

    /** A path segment or query value, percent-encoded (an agent id may hold any character). */
    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** {@code when} as a {@code <time>} that the page's script keeps saying "3 min ago" about; "never" for null. */
    static Safe ago(String when, long nowMillis) {
        if (when == null || when.isEmpty()) return html("<span class=\"muted\">never</span>");
        long t;
        try {
            t = java.time.Instant.parse(when).toEpochMilli();
        } catch (java.time.format.DateTimeParseException e) {
            return html("{}", when);
        }
        return html("<time datetime=\"{}\" data-ago title=\"{}\">{}</time>", when, when, Format.ago(nowMillis - t));
    }
}
