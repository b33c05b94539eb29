package plugin.health.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The open alerts, kept in {@code <data_dir>/plugins-data/health/open-alerts.tsv} so that a restart neither fires an
 * alert again (the server would see two "firing" and one "cleared") nor forgets one whose value recovers meanwhile
 * (the server would keep it open for good). One line per alert: metric, subject, since, fired at, last value, tab
 * separated; the subject (a mount point, which may hold anything but NUL) is escaped. Written only when the set of
 * open alerts changes: atomically, a new file renamed over the old one.
 */
final class AlertStore {
    static final String FILE = "open-alerts.tsv";

    private final Path file;

    AlertStore(Path dir) { this.file = dir.resolve(FILE); }

    /** @return the alerts recorded as open; an unreadable or damaged line is skipped, never fatal */
    List<AlertTracker.Open> load() {
        List<AlertTracker.Open> out = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException e) {
            System.getLogger("plugin.health").log(System.Logger.Level.WARNING, "cannot read " + file + ": " + e.getMessage());
            return out;
        }
        for (String line : lines) {
            String[] f = line.split("\t", -1);
            if (f.length != 5) continue;
            try {
                out.add(new AlertTracker.Open(f[0], f[1].isEmpty() ? null : unescape(f[1].substring(1)), Instant.parse(f[2]),
                    f[3].isEmpty() ? null : Instant.parse(f[3]), Double.parseDouble(f[4])));
            } catch (RuntimeException e) {
                // a line from a damaged file: the alert is lost, the rest is kept
            }
        }
        return out;
    }

    /** @param open the alerts open now @throws IOException if the file cannot be written */
    void save(List<AlertTracker.Open> open) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (AlertTracker.Open o : open) {
            // "=" marks a subject that is present, so that an empty mount point and none stay apart
            sb.append(o.metric()).append('\t').append(o.subject() == null ? "" : "=" + escape(o.subject())).append('\t')
                .append(o.since()).append('\t').append(o.firedAt() == null ? "" : o.firedAt().toString()).append('\t')
                .append(o.value()).append('\n');
        }
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                sb.append(n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
