package plugin.files.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * A unified diff of two texts ({@code diff -u}'s format, three lines of context), for what a dry run of
 * {@code file.put} would change. Lines common to both ends are set aside first (a config edit usually touches a few
 * lines in the middle); the rest is compared with Myers' O(ND) algorithm. When the two differ in more than
 * {@link #MAX_EDITS} lines the diff is still correct but not minimal: all old lines out, all new lines in.
 */
final class UnifiedDiff {
    static final int CONTEXT = 3;
    /** Myers keeps O(D²) integers for D differing lines: 1,500 is about 9 MB at worst. */
    static final int MAX_EDITS = 1500;

    private enum Op { KEEP, DEL, ADD }

    private record Edit(Op op, String line, int oldIndex, int newIndex) {}

    private UnifiedDiff() {}

    /**
     * @param oldText  the current text, or null if the file does not exist
     * @param newText  the text it would get
     * @param oldLabel the name on the {@code ---} line
     * @param newLabel the name on the {@code +++} line
     * @return the diff, empty if the texts are equal
     */
    static String diff(String oldText, String newText, String oldLabel, String newLabel) {
        String before = oldText == null ? "" : oldText;
        if (before.equals(newText)) return "";
        List<String> a = lines(before);
        List<String> b = lines(newText);
        List<Edit> edits = edits(a, b);
        StringBuilder out = new StringBuilder();
        out.append("--- ").append(oldText == null ? "/dev/null" : oldLabel).append('\n');
        out.append("+++ ").append(newLabel).append('\n');
        int i = 0;
        while (i < edits.size()) {
            if (edits.get(i).op == Op.KEEP) { i++; continue; }
            // a hunk: from CONTEXT lines before this change to CONTEXT lines after the last change within reach
            int start = Math.max(0, i - CONTEXT);
            int end = i;
            int lastChange = i;
            while (end < edits.size()) {
                if (edits.get(end).op != Op.KEEP) lastChange = end;
                else if (end - lastChange > 2 * CONTEXT) break;
                end++;
            }
            end = Math.min(edits.size(), lastChange + CONTEXT + 1);
            hunk(out, edits.subList(start, end), a, b);
            i = end;
        }
        return out.toString();
    }

    private static void hunk(StringBuilder out, List<Edit> h, List<String> a, List<String> b) {
        int oldStart = -1, newStart = -1, oldCount = 0, newCount = 0;
        for (Edit e : h) {
            if (e.op != Op.ADD) { if (oldStart < 0) oldStart = e.oldIndex; oldCount++; }
            if (e.op != Op.DEL) { if (newStart < 0) newStart = e.newIndex; newCount++; }
        }
        // diff's convention: a side with no lines names the line before the hunk
        if (oldStart < 0) oldStart = firstPosition(h, true);
        if (newStart < 0) newStart = firstPosition(h, false);
        out.append("@@ -").append(range(oldStart, oldCount)).append(" +").append(range(newStart, newCount)).append(" @@\n");
        for (Edit e : h) {
            out.append(e.op == Op.KEEP ? ' ' : e.op == Op.DEL ? '-' : '+');
            String line = e.line;
            if (line.endsWith("\n")) {
                out.append(line);
            } else {
                out.append(line).append("\n\\ No newline at end of file\n");
            }
        }
    }

    private static int firstPosition(List<Edit> h, boolean old) {
        Edit first = h.get(0);
        return old ? first.oldIndex : first.newIndex;
    }

    private static String range(int start, int count) {
        // 1-based; an empty range is shown at the line before it
        if (count == 0) return start + ",0";
        return count == 1 ? String.valueOf(start + 1) : (start + 1) + "," + count;
    }

    /** Lines with their '\n' kept, so a missing newline at the end shows as a change. */
    static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                out.add(text.substring(from, i + 1));
                from = i + 1;
            }
        }
        if (from < text.length()) out.add(text.substring(from));
        return out;
    }

    private static List<Edit> edits(List<String> a, List<String> b) {
        int prefix = 0;
        while (prefix < a.size() && prefix < b.size() && a.get(prefix).equals(b.get(prefix))) prefix++;
        int suffix = 0;
        while (suffix < a.size() - prefix && suffix < b.size() - prefix
            && a.get(a.size() - 1 - suffix).equals(b.get(b.size() - 1 - suffix))) suffix++;
        List<Edit> out = new ArrayList<>();
        for (int i = 0; i < prefix; i++) out.add(new Edit(Op.KEEP, a.get(i), i, i));
        List<String> midA = a.subList(prefix, a.size() - suffix);
        List<String> midB = b.subList(prefix, b.size() - suffix);
        List<Op> script = myers(midA, midB);
        int x = 0, y = 0;
        if (script == null) { // too different for a minimal diff: replace the middle wholesale
            for (String l : midA) { out.add(new Edit(Op.DEL, l, prefix + x, prefix + y)); x++; }
            for (String l : midB) { out.add(new Edit(Op.ADD, l, prefix + x, prefix + y)); y++; }
        } else {
            for (Op op : script) {
                switch (op) {
                    case KEEP: out.add(new Edit(Op.KEEP, midA.get(x), prefix + x, prefix + y)); x++; y++; break;
                    case DEL: out.add(new Edit(Op.DEL, midA.get(x), prefix + x, prefix + y)); x++; break;
                    default: out.add(new Edit(Op.ADD, midB.get(y), prefix + x, prefix + y)); y++; break;
                }
            }
        }
        int oa = a.size() - suffix, ob = b.size() - suffix;
        for (int i = 0; i < suffix; i++) out.add(new Edit(Op.KEEP, a.get(oa + i), oa + i, ob + i));
        return out;
    }

    /** Myers' greedy shortest edit script; null if it needs more than {@link #MAX_EDITS} edits. */
    private static List<Op> myers(List<String> a, List<String> b) {
        int n = a.size(), m = b.size();
        int max = Math.min(n + m, MAX_EDITS);
        List<int[]> trace = new ArrayList<>();
        int[] v = new int[3];
        int offset = 1; // v[k + offset] for k in -d..d
        int found = -1;
        for (int d = 0; d <= max; d++) {
            int[] next = new int[2 * d + 3];
            int nOff = d + 1;
            for (int k = -d; k <= d; k += 2) {
                int x;
                boolean down = k == -d || (k != d && get(v, offset, k - 1) < get(v, offset, k + 1));
                x = down ? get(v, offset, k + 1) : get(v, offset, k - 1) + 1;
                int y = x - k;
                while (x < n && y < m && a.get(x).equals(b.get(y))) { x++; y++; }
                next[k + nOff] = x;
                if (x >= n && y >= m) { found = d; break; }
            }
            trace.add(next);
            v = next;
            offset = nOff;
            if (found >= 0) break;
        }
        if (found < 0) return null;
        // walk back through the trace
        List<Op> ops = new ArrayList<>();
        int x = n, y = m;
        for (int d = found; d > 0; d--) {
            int[] prev = trace.get(d - 1);
            int pOff = d;
            int k = x - y;
            boolean down = k == -d || (k != d && get(prev, pOff, k - 1) < get(prev, pOff, k + 1));
            int prevK = down ? k + 1 : k - 1;
            int prevX = get(prev, pOff, prevK);
            int prevY = prevX - prevK;
            while (x > prevX && y > prevY) { ops.add(Op.KEEP); x--; y--; }
            ops.add(down ? Op.ADD : Op.DEL);
            x = prevX;
            y = prevY;
        }
        while (x > 0 && y > 0) { ops.add(Op.KEEP); x--; y--; }
        java.util.Collections.reverse(ops);
        return ops;
    }

    private static int get(int[] v, int offset, int k) {
        int i = k + offset;
        return i < 0 || i >= v.length ? 0 : v[i];
    }
}
