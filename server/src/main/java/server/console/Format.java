package server.console;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** How the console writes sizes, shares, durations and times. */
final class Format {
    private Format() {}

    /** "3 s ago", "4 min ago", "2 h ago", "5 d ago" (the page's script writes the same). */
    static String ago(long millis) {
        if (millis < 0) millis = 0;
        long s = millis / 1000;
        if (s < 60) return s + " s ago";
        if (s < 3600) return s / 60 + " min ago";
        if (s < 86400) return s / 3600 + " h ago";
        return s / 86400 + " d ago";
    }

    /** 1536 → "1.5 KiB". */
    static String bytes(double b) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int u = 0;
        while (Math.abs(b) >= 1024 && u < units.length - 1) {
            b /= 1024;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%.0f %s", b, units[u]) : String.format(Locale.ROOT, "%.1f %s", b, units[u]);
    }

    static String percent(double p) {
        return String.format(Locale.ROOT, p >= 10 || p == 0 ? "%.0f %%" : "%.1f %%", p);
    }

    static String number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : String.format(Locale.ROOT, "%.2f", d);
    }

    /** 1234 ms → "1.2 s", 75 s → "1 min 15 s". */
    static String duration(long millis) {
        if (millis < 1000) return millis + " ms";
        if (millis < 60_000) return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
        long s = millis / 1000;
        if (s < 3600) return s / 60 + " min " + s % 60 + " s";
        return s / 3600 + " h " + s % 3600 / 60 + " min";
    }

    /** Uptime in days, hours and minutes. */
    static String uptime(double seconds) {
        long s = (long) seconds;
        long d = s / 86400;
        long h = s % 86400 / 3600;
        long m = s % 3600 / 60;
        return d > 0 ? d + " d " + h + " h" : h > 0 ? h + " h " + m + " min" : m + " min";
    }

    /** The milliseconds between two RFC 3339 times, or -1 if either is missing or unreadable. */
    static long between(String from, String to) {
        if (from == null || to == null) return -1;
        try {
            return Duration.between(Instant.parse(from), Instant.parse(to)).toMillis();
        } catch (DateTimeParseException e) {
            return -1;
        }
    }

    /** "2026-11-30 20:22:38 UTC": a time as an operator reads it. */
    static String time(String rfc3339) {
        if (rfc3339 == null) return "";
        try {
            Instant t = Instant.parse(rfc3339);
            return t.toString().replace('T', ' ').replaceFirst("(\\.\\d+)?Z$", " UTC");
        } catch (DateTimeParseException e) {
            return rfc3339;
        }
    }

    // ---------------------------------------------------------------- reading JSON leniently

    /** {@code o.a.b.c} as a string, or null when any step is missing. */
    static String str(JsonElement o, String... path) {
        JsonElement e = at(o, path);
        return e == null || !e.isJsonPrimitive() ? null : e.getAsString();
    }

    /** {@code o.a.b.c} as a number, or NaN when missing or not a number. */
    static double num(JsonElement o, String... path) {
        JsonElement e = at(o, path);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsDouble() : Double.NaN;
    }

    static JsonObject obj(JsonElement o, String... path) {
        JsonElement e = at(o, path);
        return e != null && e.isJsonObject() ? e.getAsJsonObject() : null;
    }

    static JsonElement at(JsonElement o, String... path) {
        JsonElement e = o;
        for (String p : path) {
            if (e == null || !e.isJsonObject()) return null;
            e = e.getAsJsonObject().get(p);
        }
        return e == null || e.isJsonNull() ? null : e;
    }
}
