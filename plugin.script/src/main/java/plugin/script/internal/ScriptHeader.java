package plugin.script.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a script in the scripts directory says about itself, in the comment block at its top (after the {@code #!}
 * line, up to the first line that is not a comment):
 *
 * <pre>
 * #!/bin/bash
 * # description: Restart a systemd unit and show its last log lines
 * # arg: unit       the unit to restart
 * # arg: [lines]    how many journal lines to show (default 20)
 * </pre>
 *
 * {@code description:} lines are joined; each {@code arg:} declares one positional argument: {@code name} is required,
 * {@code [name]} optional, {@code name...} or {@code [name...]} takes the rest. Keys are case-insensitive; other
 * comment lines are ignored.
 *
 * @param description what the script does, or null
 * @param args        its declared arguments, in order
 */
record ScriptHeader(String description, List<Arg> args) {
    static final ScriptHeader NONE = new ScriptHeader(null, List.of());

    private static final Pattern KEY = Pattern.compile("#\\s*(description|arg)\\s*:\\s*(.*)", Pattern.CASE_INSENSITIVE);
    private static final Pattern ARG = Pattern.compile("(\\[)?([A-Za-z0-9_-]+)(\\.\\.\\.)?(\\])?(?:\\s+(.*))?");

    /**
     * @param name        the argument's name
     * @param description what it is, or null
     * @param required    whether it must be given
     * @param repeated    whether it takes every argument from here on
     */
    record Arg(String name, String description, boolean required, boolean repeated) {}

    /** @param text the start of a script @return its header (nothing declared if it has none) */
    static ScriptHeader parse(String text) {
        List<String> lines = text.lines().toList();
        int i = !lines.isEmpty() && lines.get(0).startsWith("#!") ? 1 : 0;
        StringBuilder description = new StringBuilder();
        List<Arg> args = new ArrayList<>();
        for (; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (!line.startsWith("#")) break;
            Matcher m = KEY.matcher(line);
            if (!m.matches()) continue;
            String value = m.group(2).strip();
            if (m.group(1).toLowerCase(Locale.ROOT).equals("description")) {
                if (!value.isEmpty()) description.append(description.length() == 0 ? "" : " ").append(value);
            } else {
                Matcher a = ARG.matcher(value);
                if (!a.matches() || (a.group(1) == null) != (a.group(4) == null)) continue; // not an argument we understand
                args.add(new Arg(a.group(2), a.group(5) == null || a.group(5).isBlank() ? null : a.group(5).strip(),
                    a.group(1) == null, a.group(3) != null));
            }
        }
        return new ScriptHeader(description.length() == 0 ? null : description.toString(), List.copyOf(args));
    }

    /** @return the fewest arguments the header allows */
    int minArgs() { return (int) args.stream().filter(Arg::required).count(); }

    /** @return the most arguments the header allows, or -1 for no limit */
    int maxArgs() { return args.stream().anyMatch(Arg::repeated) ? -1 : args.size(); }

    /** @return a usage line such as {@code unit [lines]} */
    String usage() {
        StringBuilder sb = new StringBuilder();
        for (Arg a : args) {
            if (sb.length() > 0) sb.append(' ');
            sb.append(a.required ? "" : "[").append(a.name).append(a.repeated ? "..." : "").append(a.required ? "" : "]");
        }
        return sb.toString();
    }

    /** @return the arguments as JSON-shaped data */
    List<Map<String, Object>> argsAsData() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Arg a : args) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", a.name);
            m.put("description", a.description);
            m.put("required", a.required);
            m.put("repeated", a.repeated);
            out.add(m);
        }
        return out;
    }
}
