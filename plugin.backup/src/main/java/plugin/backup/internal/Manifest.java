package plugin.backup.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What is known of an archive, kept beside it as {@code <archive file name>.manifest.json}: written after the archive
 * is complete, so an archive without one is an unfinished backup.
 *
 * @param name        the backup's name (retention keeps the newest N per name)
 * @param archive     the archive's file name
 * @param createdAt   when it was made (RFC 3339, UTC)
 * @param host        the host it was made on
 * @param paths       what was backed up
 * @param exclude     the exclusion patterns
 * @param compression gzip, zstd or none
 * @param files       entries in the archive (files, directories, links, ...)
 * @param bytes       bytes of file content in it
 * @param sizeBytes   the archive's size
 * @param sha256      the archive's sha256, hex
 * @param warnings    what tar warned about (files that changed while they were read, ...)
 * @param tar         the tar that wrote it
 */
record Manifest(String name, String archive, String createdAt, String host, List<String> paths, List<String> exclude,
        String compression, long files, long bytes, long sizeBytes, String sha256, List<String> warnings, String tar) {

    static final String SUFFIX = ".manifest.json";
    /** The manifest's own format, for readers to come. */
    static final int FORMAT = 1;

    /** @return the manifest as JSON-shaped data (what backup.list reports) */
    Map<String, Object> toData() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("name", name);
        m.put("archive", archive);
        m.put("createdAt", createdAt);
        m.put("host", host);
        m.put("paths", new ArrayList<>(paths));
        m.put("exclude", new ArrayList<>(exclude));
        m.put("compression", compression);
        m.put("files", files);
        m.put("bytes", bytes);
        m.put("sizeBytes", sizeBytes);
        m.put("sha256", sha256);
        m.put("warnings", new ArrayList<>(warnings));
        m.put("tar", tar);
        return m;
    }

    /** @return the manifest file's content */
    byte[] toJson() { return Json.write(toData()).getBytes(StandardCharsets.UTF_8); }

    /**
     * @param file a manifest file
     * @return what it says
     * @throws IOException if it cannot be read or is not a manifest (the message says what is wrong)
     */
    static Manifest read(Path file) throws IOException {
        Object o;
        try {
            o = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | java.nio.charset.MalformedInputException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage());
        }
        if (!(o instanceof Map)) throw new IOException(file + " is not a JSON object");
        Map<?, ?> m = (Map<?, ?>) o;
        try {
            return new Manifest(str(m, "name"), str(m, "archive"), str(m, "createdAt"), (String) m.get("host"),
                strings(m, "paths"), strings(m, "exclude"), str(m, "compression"), num(m, "files"), num(m, "bytes"),
                num(m, "sizeBytes"), str(m, "sha256"), strings(m, "warnings"), (String) m.get("tar"));
        } catch (ClassCastException | IllegalArgumentException e) {
            throw new IOException(file + " is not a backup manifest: " + e.getMessage());
        }
    }

    private static String str(Map<?, ?> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof String)) throw new IllegalArgumentException("'" + k + "' is missing or not a string");
        return (String) v;
    }

    private static long num(Map<?, ?> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof Long)) throw new IllegalArgumentException("'" + k + "' is missing or not an integer");
        return (Long) v;
    }

    private static List<String> strings(Map<?, ?> m, String k) {
        Object v = m.get(k);
        if (v == null) return List.of();
        List<String> out = new ArrayList<>();
        for (Object x : (List<?>) v) out.add((String) x);
        return List.copyOf(out);
    }
}
