package agent.core.internal.shell;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** How the shell shows things: the one place where the agent's Gogo commands turn data into text. */
final class TextTable {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    private TextTable(String... header) {
        this.columns = header.length;
        rows.add(header);
    }

    /** @param header the column names @return a table */
    static TextTable of(String... header) { return new TextTable(header); }

    /** @param cells one row, as many cells as columns @return this */
    TextTable row(Object... cells) {
        String[] r = new String[columns];
        for (int i = 0; i < columns; i++) r[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "-";
        rows.add(r);
        return this;
    }

    @Override
    public String toString() {
        int[] width = new int[columns];
        for (String[] r : rows) for (int i = 0; i < columns; i++) width[i] = Math.max(width[i], r[i].length());
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < columns; i++) {
                sb.append(r[i]);
                if (i < columns - 1) sb.append(" ".repeat(width[i] - r[i].length() + 2));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** @param fields names and values, in order @return one "name  value" line each, names aligned */
    static String fields(Map<String, ?> fields) {
        int w = fields.keySet().stream().mapToInt(String::length).max().orElse(0);
        StringBuilder sb = new StringBuilder();
        fields.forEach((k, v) -> sb.append(k).append(" ".repeat(w - k.length() + 2)).append(v).append('\n'));
        return sb.toString();
    }
}
