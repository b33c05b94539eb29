package plugin.script.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reboot requests (exit code 194) of each script, so that a script that asks for a reboot every time it runs
 * cannot keep the host in a reboot loop. A command is never run again after its reboot, so a loop can only come from
 * the same script being sent again and again (a server retrying, a patch-until-done loop): requests of one script
 * (same name or text, interpreter, args and user) count "in a row" while each comes within the window of the
 * previous one, and any other exit code of that script ends the row. Kept in the plugin's state directory, one line
 * per script ({@code <sha256> <count> <epoch millis of the last request>}), replaced atomically.
 */
final class RebootLedger {
    private static final String FILE = "reboot-requests";
    private final Path file;

    /** @param stateDir the plugin's own directory under the agent's data directory */
    RebootLedger(Path stateDir) { this.file = stateDir.resolve(FILE); }

    /**
     * @param parts what identifies a script: name or text, interpreter, args, user
     * @return a key for it
     */
    static String key(List<String> parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String p : parts) {
                md.update((p == null ? "\u0001null" : p).getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /**
     * @param key    a script's key
     * @param now    the time
     * @param window how far apart requests may be and still count as in a row
     * @return how many requests in a row the script has made before now
     */
    synchronized int inARow(String key, Instant now, Duration window) throws IOException {
        long[] e = read().get(key);
        if (e == null || now.toEpochMilli() - e[1] > window.toMillis()) return 0;
        return (int) e[0];
    }

    /** Counts one more request of the script, durably (before the reboot command runs). */
    synchronized void recordRequest(String key, Instant now, Duration window) throws IOException {
        Map<String, long[]> all = read();
        long[] e = all.get(key);
        long count = e == null || now.toEpochMilli() - e[1] > window.toMillis() ? 1 : e[0] + 1;
        all.put(key, new long[] {count, now.toEpochMilli()});
        write(all, now, window);
    }

    /** Ends the script's row: it exited with another code than 194. */
    synchronized void endRow(String key, Instant now, Duration window) throws IOException {
        Map<String, long[]> all = read();
        if (all.remove(key) != null) write(all, now, window);
    }

    private Map<String, long[]> read() throws IOException {
        Map<String, long[]> out = new LinkedHashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return out;
        }
        for (String line : lines) {
            String[] f = line.strip().split(" ");
            if (f.length != 3 || f[0].length() != 64) continue; // a damaged line forgets one script's row, nothing worse
            try {
                out.put(f[0], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
            } catch (NumberFormatException e) {
                // as above
            }
        }
        return out;
    }

    /** Writes the entries still inside a window of now: temp file, fsync, rename, fsync of the directory. */
    private void write(Map<String, long[]> all, Instant now, Duration window) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, long[]> e : all.entrySet()) {
            if (now.toEpochMilli() - e.getValue()[1] > window.toMillis()) continue;
            sb.append(e.getKey()).append(' ').append(e.getValue()[0]).append(' ').append(e.getValue()[1]).append('\n');
        }
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }
}
