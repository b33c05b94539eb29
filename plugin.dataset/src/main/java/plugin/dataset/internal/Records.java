package plugin.dataset.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * What is installed: one small properties file per data set in {@code <data_dir>/plugins-data/dataset/installed},
 * written atomically (a new file, synced, renamed over the old one) after the switch, so that a record exists only for
 * a data set that is in place.
 */
final class Records {
    /** One installed data set. */
    record Installed(String name, String version, String sha256, String target, String path, String format, long sizeBytes,
                     long extractedBytes, long files, String installedAt, String url, String previousVersion, String previousPath) {

        Map<String, Object> toData() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("version", version);
            m.put("target", target);
            m.put("path", path);
            m.put("sha256", sha256);
            m.put("format", format);
            m.put("sizeBytes", sizeBytes);
            m.put("extractedBytes", extractedBytes);
            m.put("files", files);
            m.put("installedAt", installedAt);
            m.put("url", url);
            if (previousVersion != null) {
                m.put("previousVersion", previousVersion);
                m.put("previousPath", previousPath);
            }
            return m;
        }
    }

    private final Path dir;

    Records(Path dir) { this.dir = dir; }

    Optional<Installed> get(String name) throws IOException {
        Path f = dir.resolve(name + ".properties");
        if (!Files.exists(f)) return Optional.empty();
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(f)) {
            p.load(in);
        }
        return Optional.of(new Installed(p.getProperty("name"), p.getProperty("version"), p.getProperty("sha256"), p.getProperty("target"),
            p.getProperty("path"), p.getProperty("format"), Long.parseLong(p.getProperty("sizeBytes", "0")),
            Long.parseLong(p.getProperty("extractedBytes", "0")), Long.parseLong(p.getProperty("files", "0")), p.getProperty("installedAt"),
            p.getProperty("url"), p.getProperty("previousVersion"), p.getProperty("previousPath")));
    }

    /** @return every record, by name */
    List<Installed> all() throws IOException {
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.properties")) {
                for (Path p : s) {
                    String n = p.getFileName().toString();
                    names.add(n.substring(0, n.length() - ".properties".length()));
                }
            }
        }
        names.sort(null);
        List<Installed> out = new ArrayList<>();
        for (String n : names) get(n).ifPresent(out::add);
        return out;
    }

    void put(Installed r) throws IOException {
        Files.createDirectories(dir);
        Properties p = new Properties();
        set(p, "name", r.name());
        set(p, "version", r.version());
        set(p, "sha256", r.sha256());
        set(p, "target", r.target());
        set(p, "path", r.path());
        set(p, "format", r.format());
        set(p, "sizeBytes", Long.toString(r.sizeBytes()));
        set(p, "extractedBytes", Long.toString(r.extractedBytes()));
        set(p, "files", Long.toString(r.files()));
        set(p, "installedAt", r.installedAt());
        set(p, "url", r.url());
        set(p, "previousVersion", r.previousVersion());
        set(p, "previousPath", r.previousPath());
        Path f = dir.resolve(r.name() + ".properties");
        Path tmp = dir.resolve("." + r.name() + ".properties.tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            p.store(out, "installed by plugin.dataset");
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void set(Properties p, String k, String v) {
        if (v != null) p.setProperty(k, v);
    }

    void remove(String name) throws IOException { Files.deleteIfExists(dir.resolve(name + ".properties")); }
}
