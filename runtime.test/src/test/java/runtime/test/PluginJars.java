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
        Path src = Path.of(System.getProperty("plugin.echo.jar"));
        Path out = dir.resolve("plugin.echo-" + version + ".jar");
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
