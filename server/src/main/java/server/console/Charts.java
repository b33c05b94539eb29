package server.console;

import static server.console.Html.html;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import server.console.Html.Safe;

/**
 * Line charts as inline SVG, drawn on the server from the health snapshots it stored: no chart library, no script.
 * Each chart carries a text summary (its accessible name, and a legend with the latest values) for those who do not
 * see it.
 */
final class Charts {
    private Charts() {}

    /** One line: its name and samples (times in epoch milliseconds, values; NaN for a missing sample). */
    record Series(String name, long[] times, double[] values) {}

    private static final int W = 600;
    private static final int H = 150;
    private static final int LEFT = 44;
    private static final int RIGHT = 8;
    private static final int TOP = 8;
    private static final int BOTTOM = 22;
    /** Points drawn per line at most: more would not show on a page and would only weigh it down. */
    static final int MAX_POINTS = 240;
    private static final DateTimeFormatter HHMM = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT).withZone(ZoneOffset.UTC);

    /**
     * A chart over {@code [from, to]}. {@code yMax}: the top of the scale (100 for percentages), or NaN to fit the data.
     */
    static Safe chart(String id, String title, String unit, List<Series> series, long from, long to, double yMax) {
        double top = yMax;
        if (Double.isNaN(top)) {
            top = 0;
            for (Series s : series) for (double v : s.values()) if (!Double.isNaN(v)) top = Math.max(top, v);
            top = niceCeiling(top);
        }
        long span = Math.max(1, to - from);
        double plotW = W - LEFT - RIGHT;
        double plotH = H - TOP - BOTTOM;
        StringBuilder paths = new StringBuilder();
        List<Safe> legend = new ArrayList<>();
        List<String> summary = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            Series s = downsample(series.get(i));
            double min = Double.NaN;
            double max = Double.NaN;
            double latest = Double.NaN;
            StringBuilder d = new StringBuilder();
            boolean pen = false;
            long gap = breakAfter(s.times());
            long prev = Long.MIN_VALUE;
            for (int k = 0; k < s.times().length; k++) {
                double v = s.values()[k];
                if (Double.isNaN(v)) {
                    pen = false;
                    continue;
                }
                min = Double.isNaN(min) ? v : Math.min(min, v);
                max = Double.isNaN(max) ? v : Math.max(max, v);
                latest = v;
                double x = LEFT + plotW * (s.times()[k] - from) / span;
                double y = TOP + plotH * (1 - Math.min(1, Math.max(0, v / (top == 0 ? 1 : top))));
                boolean broken = prev != Long.MIN_VALUE && s.times()[k] - prev > gap; // no samples: the agent was away
                d.append(pen && !broken ? " L" : (d.length() == 0 ? "M" : " M")).append(fmt(x)).append(' ').append(fmt(y));
                pen = true;
                prev = s.times()[k];
            }
            if (d.length() > 0) {
                paths.append(html("<path class=\"line s{}\" d=\"{}\"/>", i % 6, d.toString()).html());
            }
            legend.add(html("<li><span class=\"key s{}\" aria-hidden=\"true\"></span>{} <strong>{}</strong></li>", i % 6, s.name(),
                Double.isNaN(latest) ? "no data" : value(latest, unit)));
            if (!Double.isNaN(latest)) {
                summary.add(s.name() + ": latest " + value(latest, unit) + ", lowest " + value(min, unit) + ", highest " + value(max, unit));
            }
        }
        String label = title + (summary.isEmpty() ? ": no samples in this period" : ". " + String.join("; ", summary));
        StringBuilder grid = new StringBuilder();
        for (double f : new double[] {0, 0.5, 1}) {
            double y = TOP + plotH * (1 - f);
            grid.append(html("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/><text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                LEFT, W - RIGHT, fmt(y), fmt(y), LEFT - 4, fmt(y + 4), value(top * f, unit)).html());
        }
        grid.append(html("<text class=\"axis\" x=\"{}\" y=\"{}\">{}</text><text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{} UTC</text>",
            LEFT, H - 6, HHMM.format(Instant.ofEpochMilli(from)), W - RIGHT, H - 6, HHMM.format(Instant.ofEpochMilli(to))).html());
        return html("""
            <figure class="chart" id="{}"><figcaption>{}</figcaption>\
            <svg viewBox="0 0 {} {}" role="img" aria-label="{}" focusable="false"><title>{}</title>{}{}</svg>\
            <ul class="legend">{}</ul></figure>""",
            id, title, W, H, label, label, new Safe(grid.toString()), new Safe(paths.toString()), Html.join(legend));
    }

    private static String value(double v, String unit) {
        return switch (unit) {
            case "%" -> Format.percent(v);
            default -> Format.number(Math.round(v * 100) / 100.0);
        };
    }

    private static String fmt(double d) {
        return String.format(Locale.ROOT, "%.1f", d);
    }

    /** 0..1 → 1, 3.7 → 4, 13 → 15, 130 → 150: a round top for the scale. */
    static double niceCeiling(double v) {
        if (v <= 1) return 1;
        double mag = Math.pow(10, Math.floor(Math.log10(v)));
        for (double step : new double[] {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) if (v <= step * mag) return step * mag;
        return 10 * mag;
    }

    /** A gap this long between samples breaks the line: three times the usual interval. */
    private static long breakAfter(long[] times) {
        if (times.length < 3) return Long.MAX_VALUE;
        long[] steps = new long[times.length - 1];
        for (int i = 1; i < times.length; i++) steps[i - 1] = times[i] - times[i - 1];
        Arrays.sort(steps);
        return Math.max(1000, steps[steps.length / 2] * 3);
    }

    /** At most {@link #MAX_POINTS} samples: the mean of each run of neighbours. */
    static Series downsample(Series s) {
        int n = s.times().length;
        if (n <= MAX_POINTS) return s;
        long[] t = new long[MAX_POINTS];
        double[] v = new double[MAX_POINTS];
        for (int b = 0; b < MAX_POINTS; b++) {
            int from = (int) ((long) b * n / MAX_POINTS);
            int to = (int) ((long) (b + 1) * n / MAX_POINTS);
            double sum = 0;
            int count = 0;
            for (int k = from; k < to; k++) {
                if (!Double.isNaN(s.values()[k])) {
                    sum += s.values()[k];
                    count++;
                }
            }
            t[b] = s.times()[(from + to - 1) / 2];
            v[b] = count == 0 ? Double.NaN : sum / count;
        }
        return new Series(s.name(), t, v);
    }
}
