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
