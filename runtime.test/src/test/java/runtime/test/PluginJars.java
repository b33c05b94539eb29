package runtime.test;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Plugin jars made at test time from the built plugin.echo. */
final class PluginJars {
    private PluginJars() {}

    /** The echo plugin with its manifest changed: a new version, optionally an import nothing exports. */
    static Path variant(Path dir, String version, String extraImport) throws Exception {
        return variant(Path.of(System.getProperty("plugin.echo.jar")), dir, version, extraImport);
    }

    /** The Bundle-Version of a built jar: the reactor's version (2.0.0-SNAPSHOT is built as 2.0.0.SNAPSHOT). */
    static String bundleVersion(Path jar) throws Exception {
        try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
            return j.getManifest().getMainAttributes().getValue("Bundle-Version");
        }
    }

    /** A release version above the built jar's, whatever the reactor's version: its major + 1, with this minor. */
    static String above(Path jar, int minor) throws Exception {
        return (Integer.parseInt(bundleVersion(jar).split("\\.")[0]) + 1) + "." + minor + ".0";
    }

    /** Any built plugin jar with its manifest changed the same way. */
    static Path variant(Path src, Path dir, String version, String extraImport) throws Exception {
        String name = src.getFileName().toString();
        Path out = dir.resolve(name.substring(0, name.indexOf('-')) + "-" + version + ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(src))) {
            Manifest mf = new Manifest(in.getManifest());
            mf.getMainAttributes().putValue("Bundle-Version", version);
            if (extraImport != null) {
                mf.getMainAttributes().putValue("Import-Package",
                    mf.getMainAttributes().getValue("Import-Package") + "," + extraImport);
            }
            try (OutputStream os = Files.newOutputStream(out); JarOutputStream jos = new JarOutputStream(os, mf)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    jos.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(jos);
                    jos.closeEntry();
                }
            }
        }
        return out;
    }

}
