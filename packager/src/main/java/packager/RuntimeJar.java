package packager;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The agent's executable jar as bnd's export makes it ({@code bndrun/target/outpost.jar}), and a new one with another
 * set of bundles. The jar holds its bundles as {@code jar/*.jar} entries; {@code launcher.properties} lists the ones
 * the launcher installs ({@code launch.bundles}) and the manifest gives each entry's SHA-256 digest, by which the
 * launcher updates a bundle in the framework storage only when the distribution brings a different jar. A new runtime
 * is that same jar with the list, the entries and their digests changed: exactly what bnd's export writes for another
 * {@code -runbundles}, at no start-up cost, and with no code in the agent.
 */
final class RuntimeJar {
    static final String LAUNCHER_PROPERTIES = "launcher.properties";
    private static final String RUN_BUNDLES = "launch.bundles";
    private static final String DIGEST = "SHA-256-Digest";

    /** @param name the entry @param time its DOS time, as stored @param bytes its content */
    private record Entry(String name, LocalDateTime time, byte[] bytes) {}

    private final Map<String, Entry> entries; // by name, sorted
    private final Manifest manifest;
    private final List<String> runBundles;
    private final Map<String, BundleJar> bundles = new LinkedHashMap<>(); // by entry name, in launch order

    private RuntimeJar(Map<String, Entry> entries, Manifest manifest, List<String> runBundles) throws IOException {
        this.entries = entries;
        this.manifest = manifest;
        this.runBundles = runBundles;
        for (String path : runBundles) {
            Entry e = entries.get(path);
            if (e == null) throw new IOException(LAUNCHER_PROPERTIES + " lists " + path + ", which the jar does not hold");
            bundles.put(path, BundleJar.of(e.bytes, "the agent's runtime (" + path + ")"));
        }
    }

    /**
     * @param jar an exported runtime
     * @return it, read
     * @throws IOException when it is not one
     */
    static RuntimeJar read(Path jar) throws IOException {
        Map<String, Entry> entries = new TreeMap<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(jar))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null;) {
                entries.put(e.getName(), new Entry(e.getName(), e.getTimeLocal(), in.readAllBytes()));
            }
        }
        Entry mf = entries.get(JarFile.MANIFEST_NAME);
        Entry lp = entries.get(LAUNCHER_PROPERTIES);
        if (mf == null || lp == null) throw new IOException(jar + " is not an exported bnd runtime (no manifest or " + LAUNCHER_PROPERTIES + ")");
        Properties p = new Properties();
        p.load(new ByteArrayInputStream(lp.bytes));
        List<String> run = new ArrayList<>();
        for (String s : p.getProperty(RUN_BUNDLES, "").split(",")) if (!s.isBlank()) run.add(s.trim());
        return new RuntimeJar(entries, new Manifest(new ByteArrayInputStream(mf.bytes)), run);
    }

    /** @return the bundles the launcher installs, by entry name, in launch order */
    Map<String, BundleJar> bundles() { return bundles; }

    /** @return the launcher's properties (framework properties among them) */
    Properties launcherProperties() throws IOException {
        Properties p = new Properties();
        p.load(new ByteArrayInputStream(entries.get(LAUNCHER_PROPERTIES).bytes));
        return p;
    }

    /** @return the entries put on the launcher's class path (the framework and the launcher), from Embedded-Runpath */
    List<String> runpath() {
        List<String> out = new ArrayList<>();
        String rp = manifest.getMainAttributes().getValue("Embedded-Runpath");
        if (rp != null) for (String s : rp.split(",")) if (!s.isBlank()) out.add(s.trim());
        return out;
    }

    /** @param name an entry @return its bytes, or null */
    byte[] entry(String name) {
        Entry e = entries.get(name);
        return e == null ? null : e.bytes;
    }

    /**
     * Writes a runtime with these bundles in this launch order: the entries of the bundles no longer run are left
     * out, new ones added, {@code launch.bundles} and the digests rewritten; everything else is as it was. Entries
     * are sorted and carry the exported jar's own fixed time, so equal inputs give equal bytes.
     *
     * @param out     the jar to write
     * @param runList the bundles, by entry name, in launch order
     * @throws IOException when it cannot be written
     */
    void write(Path out, Map<String, BundleJar> runList) throws IOException {
        LocalDateTime time = entries.get(LAUNCHER_PROPERTIES).time;
        Map<String, Entry> outEntries = new TreeMap<>(entries);
        for (String old : runBundles) if (!runList.containsKey(old)) outEntries.remove(old);
        runList.forEach((name, b) -> outEntries.put(name, new Entry(name, time, b.bytes())));
        byte[] props = launcherProperties(entries.get(LAUNCHER_PROPERTIES).bytes, String.join(",", runList.keySet()));
        outEntries.put(LAUNCHER_PROPERTIES, new Entry(LAUNCHER_PROPERTIES, time, props));

        Map<String, String> digests = new TreeMap<>();
        for (Entry e : outEntries.values()) {
            if (!e.name.endsWith("/") && !e.name.equals(JarFile.MANIFEST_NAME)) digests.put(e.name, digest(e.bytes));
        }
        byte[] mf = manifest(manifest.getMainAttributes(), digests);
        outEntries.put(JarFile.MANIFEST_NAME, new Entry(JarFile.MANIFEST_NAME, entries.get(JarFile.MANIFEST_NAME).time, mf));

        try (OutputStream os = Files.newOutputStream(out); ZipOutputStream zip = new ZipOutputStream(os)) {
            // the manifest first, as JarInputStream expects; then every entry by name
            List<Entry> order = new ArrayList<>();
            if (outEntries.containsKey("META-INF/")) order.add(outEntries.get("META-INF/"));
            order.add(outEntries.get(JarFile.MANIFEST_NAME));
            for (Entry e : outEntries.values()) if (!order.contains(e)) order.add(e);
            for (Entry e : order) {
                ZipEntry z = new ZipEntry(e.name);
                // DOS time as stored, not through the local time zone: the same bytes wherever the packager runs
                z.setTimeLocal(e.time);
                zip.putNextEntry(z);
                zip.write(e.bytes);
                zip.closeEntry();
            }
        }
    }

    /** The launcher properties with only the {@code launch.bundles} line replaced (continuation lines included). */
    static byte[] launcherProperties(byte[] original, String runBundles) throws IOException {
        String text = new String(original, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\n", -1);
        StringBuilder sb = new StringBuilder();
        boolean replaced = false;
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i];
            if (!replaced && l.startsWith(RUN_BUNDLES + "=")) {
                while (l.endsWith("\\") && i + 1 < lines.length) l = lines[++i];
                sb.append(RUN_BUNDLES).append('=').append(escape(runBundles));
                replaced = true;
            } else {
                sb.append(l);
            }
            if (i < lines.length - 1) sb.append('\n');
        }
        if (!replaced) throw new IOException(LAUNCHER_PROPERTIES + " has no " + RUN_BUNDLES + " line");
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Entry names are plain paths; escape what a properties value could misread. */
    private static String escape(String v) { return v.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\="); }

    private static String digest(byte[] bytes) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /**
     * The manifest as bnd writes it: the main attributes in their order, then one section per entry with its digest,
     * sorted by name (java.util.jar.Manifest would write the sections in hash order).
     */
    private static byte[] manifest(Attributes main, Map<String, String> digests) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String version = main.getValue(Attributes.Name.MANIFEST_VERSION);
        header(out, Attributes.Name.MANIFEST_VERSION.toString(), version == null ? "1.0" : version);
        for (Map.Entry<Object, Object> a : main.entrySet()) {
            if (!a.getKey().equals(Attributes.Name.MANIFEST_VERSION)) header(out, a.getKey().toString(), a.getValue().toString());
        }
        out.write("\r\n".getBytes(StandardCharsets.UTF_8));
        for (Map.Entry<String, String> d : digests.entrySet()) {
            header(out, "Name", d.getKey());
            header(out, DIGEST, d.getValue());
            out.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /** One header, wrapped at 72 bytes with continuation lines that start with a space (the JAR specification). */
    private static void header(ByteArrayOutputStream out, String name, String value) {
        byte[] line = (name + ": " + value).getBytes(StandardCharsets.UTF_8);
        int pos = 0;
        int width = 72;
        while (line.length - pos > width) {
            int end = pos + width;
            // never split a UTF-8 sequence: back up to the start of a character
            while ((line[end] & 0xC0) == 0x80) end--;
            out.write(line, pos, end - pos);
            out.write('\r');
            out.write('\n');
            out.write(' ');
            pos = end;
            width = 71;
        }
        out.write(line, pos, line.length - pos);
        out.write('\r');
        out.write('\n');
    }
}
