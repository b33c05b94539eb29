package plugin.health.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The host's kernel files ({@code /proc}, {@code /sys}, {@code /etc}) under a root directory: {@code /} on a host, a
 * fixture tree in tests. Every read answers null for a file that is missing or unreadable: which files exist depends
 * on the kernel, the hardware and the privileges, and a missing one is an answer, not an error.
 */
final class HostFiles {
    final Path root;

    HostFiles(Path root) { this.root = root; }

    /** @param hostPath an absolute path as the host names it, e.g. {@code /proc/stat} @return where it is under the root */
    Path path(String hostPath) {
        return root.resolve(hostPath.startsWith("/") ? hostPath.substring(1) : hostPath);
    }

    /** @return the whole file, or null if it cannot be read */
    String read(String hostPath) {
        try {
            return Files.readString(path(hostPath), StandardCharsets.UTF_8);
        } catch (IOException | SecurityException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    /** @return the first line, stripped, or null if the file cannot be read or is empty */
    String line(String hostPath) {
        String s = read(hostPath);
        if (s == null) return null;
        int nl = s.indexOf('\n');
        String l = (nl < 0 ? s : s.substring(0, nl)).strip();
        return l.isEmpty() ? null : l;
    }

    /** @return the file's first line as a number, or null */
    Long number(String hostPath) {
        String l = line(hostPath);
        if (l == null) return null;
        try {
            return Long.parseLong(l);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    boolean exists(String hostPath) { return Files.exists(path(hostPath)); }

    /** @return the names in a directory, sorted; empty if it cannot be listed */
    List<String> list(String hostPath) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(path(hostPath))) {
            for (Path p : s) names.add(p.getFileName().toString());
        } catch (IOException | SecurityException e) {
            return List.of();
        }
        Collections.sort(names);
        return names;
    }

    /** @return the target of a symbolic link, or null */
    String link(String hostPath) {
        try {
            return Files.readSymbolicLink(path(hostPath)).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    /**
     * Reads a file of {@code key: value} lines ({@code /proc/meminfo}, {@code /proc/self/status}) or
     * {@code KEY=value} lines ({@code /etc/os-release}, {@code uevent}).
     *
     * @param sep ':' or '='
     * @return the pairs in file order, values stripped (and unquoted for '='); empty if the file cannot be read
     */
    Map<String, String> pairs(String hostPath, char sep) {
        String s = read(hostPath);
        Map<String, String> out = new LinkedHashMap<>();
        if (s == null) return out;
        for (String line : s.split("\n")) {
            int i = line.indexOf(sep);
            if (i <= 0) continue;
            String v = line.substring(i + 1).strip();
            if (sep == '=' && v.length() >= 2 && (v.charAt(0) == '"' || v.charAt(0) == '\'') && v.charAt(v.length() - 1) == v.charAt(0)) {
                v = v.substring(1, v.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
            }
            out.put(line.substring(0, i).strip(), v);
        }
        return out;
    }

    /** Splits on runs of spaces and tabs, without a regex: /proc's tables are read often. */
    static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        int n = line.length();
        int i = 0;
        while (i < n) {
            while (i < n && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) i++;
            int start = i;
            while (i < n && line.charAt(i) != ' ' && line.charAt(i) != '\t') i++;
            if (i > start) out.add(line.substring(start, i));
        }
        return out;
    }

    static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** @return {@code x} rounded to two decimals: enough for percentages and load, and half the JSON */
    static double round2(double x) { return Math.round(x * 100.0) / 100.0; }
}
