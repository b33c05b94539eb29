package packager;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TimeZone;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimeJarTest {
    static final LocalDateTime BND_TIME = LocalDateTime.of(1980, 2, 1, 0, 0);
    static final String HANDLER = "osgi.service;objectClass:List<String>=\"agent.api.CommandHandler\"";

    @TempDir
    Path dir;

    static byte[] bundle(String bsn, String version, String caps) throws IOException {
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
        mf.getMainAttributes().putValue("Bundle-SymbolicName", bsn + ";singleton:=true");
        mf.getMainAttributes().putValue("Bundle-Version", version);
        if (caps != null) mf.getMainAttributes().putValue("Provide-Capability", caps);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (JarOutputStream j = new JarOutputStream(b, mf)) {
            j.putNextEntry(new ZipEntry(bsn.replace('.', '/') + "/Thing.class"));
            j.write(bsn.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    /** An exported runtime as bnd writes it: its manifest with digests, launcher.properties, the bundles. */
    private Path exported() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("jar/agent.core-2.0.0.jar", bundle("agent.core", "2.0.0", HANDLER + ",osgi.service;objectClass:List<String>=\"agent.api.Events\""));
        entries.put("jar/gson-2.13.2.jar", bundle("com.google.gson", "2.13.2", null));
        entries.put("jar/plugin.disk-2.0.0.jar", bundle("plugin.disk", "2.0.0", HANDLER));
        entries.put("jar/org.apache.felix.framework-7.0.5.jar", bundle("org.apache.felix.framework", "7.0.5", null));
        entries.put("launcher.properties", ("launch.keep=true\nlaunch.bundles=jar/gson-2.13.2.jar,jar/agent.core-2.0.0.jar,jar/plugin.disk-2.0.0.jar\n"
            + "launch.name=agent.bndrun\n").getBytes(StandardCharsets.ISO_8859_1));
        entries.put("start", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8));
        StringBuilder mf = new StringBuilder("Manifest-Version: 1.0\r\nEmbedded-Runpath: jar/org.apache.felix.framework-7.0.5.jar\r\n"
            + "Main-Class: aQute.launcher.pre.EmbeddedLauncher\r\n\r\n");
        for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(entries).entrySet()) {
            mf.append("Name: ").append(e.getKey()).append("\r\nSHA-256-Digest: ").append(digest(e.getValue())).append("\r\n\r\n");
        }
        Path jar = dir.resolve("outpost.jar");
        try (OutputStream os = Files.newOutputStream(jar); ZipOutputStream z = new ZipOutputStream(os)) {
            put(z, "META-INF/", new byte[0]);
            put(z, JarFile.MANIFEST_NAME, mf.toString().getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, byte[]> e : new java.util.TreeMap<>(entries).entrySet()) put(z, e.getKey(), e.getValue());
        }
        return jar;
    }

    private static void put(ZipOutputStream z, String name, byte[] bytes) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setTimeLocal(BND_TIME);
        z.putNextEntry(e);
        z.write(bytes);
        z.closeEntry();
    }

    static String digest(byte[] b) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theBundlesAreReadInLaunchOrderAndTheAgentItselfIsNoPlugin() throws Exception {
        RuntimeJar r = RuntimeJar.read(exported());

        assertThat(r.bundles().keySet()).containsExactly("jar/gson-2.13.2.jar", "jar/agent.core-2.0.0.jar", "jar/plugin.disk-2.0.0.jar");
        assertThat(r.bundles().values()).extracting(BundleJar::bsn, BundleJar::plugin).containsExactly(
            org.assertj.core.groups.Tuple.tuple("com.google.gson", false), org.assertj.core.groups.Tuple.tuple("agent.core", false),
            org.assertj.core.groups.Tuple.tuple("plugin.disk", true));
        assertThat(r.runpath()).containsExactly("jar/org.apache.felix.framework-7.0.5.jar");
    }

    @Test
    void aNewRuntimeRunsItsNewBundleListWithDigestsThatMatchAndNothingElseChanged() throws Exception {
        RuntimeJar r = RuntimeJar.read(exported());
        BundleJar echo = BundleJar.of(bundle("plugin.echo", "2.0.0", HANDLER), "test");
        Map<String, BundleJar> run = new LinkedHashMap<>(r.bundles());
        run.remove("jar/plugin.disk-2.0.0.jar");
        run.put(echo.entryName(), echo);
        Path out = dir.resolve("new.jar");

        r.write(out, run);

        Map<String, byte[]> entries = new LinkedHashMap<>();
        Manifest mf;
        try (JarInputStream in = new JarInputStream(Files.newInputStream(out))) {
            mf = in.getManifest();
            assertThat(mf).as("the manifest comes first").isNotNull();
            for (ZipEntry e; (e = in.getNextEntry()) != null;) {
                assertThat(e.getTimeLocal()).isEqualTo(BND_TIME);
                entries.put(e.getName(), in.readAllBytes());
            }
        }
        // (JarInputStream hands neither META-INF/ nor the manifest as entries)
        assertThat(entries.keySet()).containsExactly("jar/agent.core-2.0.0.jar", "jar/gson-2.13.2.jar",
            "jar/org.apache.felix.framework-7.0.5.jar", "jar/plugin.echo-2.0.0.jar", "launcher.properties", "start");
        assertThat(new String(entries.get("launcher.properties"), StandardCharsets.ISO_8859_1)).isEqualTo("launch.keep=true\n"
            + "launch.bundles=jar/gson-2.13.2.jar,jar/agent.core-2.0.0.jar,jar/plugin.echo-2.0.0.jar\nlaunch.name=agent.bndrun\n");
        assertThat(entries.get("jar/plugin.echo-2.0.0.jar")).isEqualTo(echo.bytes());
        assertThat(mf.getMainAttributes().getValue("Main-Class")).isEqualTo("aQute.launcher.pre.EmbeddedLauncher");
        assertThat(mf.getMainAttributes().getValue("Embedded-Runpath")).isEqualTo("jar/org.apache.felix.framework-7.0.5.jar");
        // every entry's digest is its content's: the launcher updates a bundle in the storage only when they differ
        List<String> sections = new ArrayList<>(mf.getEntries().keySet());
        assertThat(sections).containsExactlyInAnyOrderElementsOf(entries.keySet().stream().filter(n -> !n.endsWith("/")).toList());
        for (String name : sections) {
            assertThat(mf.getAttributes(name).getValue("SHA-256-Digest")).as(name).isEqualTo(digest(entries.get(name)));
        }
        // the sections in name order, as bnd writes them
        String text;
        try (JarFile j = new JarFile(out.toFile()); InputStream in = j.getInputStream(j.getEntry(JarFile.MANIFEST_NAME))) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<String> order = text.lines().filter(l -> l.startsWith("Name: ")).map(l -> l.substring(6)).toList();
        assertThat(order).isSorted();
        Properties p = new Properties();
        p.load(new java.io.ByteArrayInputStream(entries.get("launcher.properties")));
        assertThat(p.getProperty("launch.bundles").split(",")).hasSize(3);
    }

    @Test
    void theSameBundlesGiveTheSameBytesInAnyTimeZone() throws Exception {
        RuntimeJar r = RuntimeJar.read(exported());
        TimeZone zone = TimeZone.getDefault();
        try {
            TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
            r.write(dir.resolve("a.jar"), r.bundles());
            TimeZone.setDefault(TimeZone.getTimeZone("Asia/Tokyo"));
            r.write(dir.resolve("b.jar"), r.bundles());
        } finally {
            TimeZone.setDefault(zone);
        }
        assertThat(dir.resolve("a.jar")).hasSameBinaryContentAs(dir.resolve("b.jar"));
    }

    @Test
    void aLongManifestValueIsWrappedAtSeventyTwoBytes() throws Exception {
        RuntimeJar r = RuntimeJar.read(exported());
        BundleJar longName = BundleJar.of(bundle("com.example.a.plugin.with.a.very.long.symbolic.name.that.needs.wrapping", "1.0.0", HANDLER), "t");
        Map<String, BundleJar> run = new LinkedHashMap<>(r.bundles());
        run.put(longName.entryName(), longName);
        r.write(dir.resolve("c.jar"), run);
        try (JarFile j = new JarFile(dir.resolve("c.jar").toFile())) {
            assertThat(j.getManifest().getAttributes(longName.entryName()).getValue("SHA-256-Digest")).isEqualTo(digest(longName.bytes()));
            try (InputStream in = j.getInputStream(j.getEntry(JarFile.MANIFEST_NAME))) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r\n")) {
                    assertThat(line.getBytes(StandardCharsets.UTF_8).length).as(line).isLessThanOrEqualTo(72);
                }
            }
        }
    }
}
