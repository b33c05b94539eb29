package agent.core.internal.plugins;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;

import org.osgi.framework.Version;

import agent.api.CommandRefusedException;

/** What the agent reads of a plugin jar before installing it: name, version and the packages it exports. */
final class PluginJar {
    final String bsn;
    final Version version;
    final List<String> exports;

    private PluginJar(String bsn, Version version, List<String> exports) {
        this.bsn = bsn;
        this.version = version;
        this.exports = exports;
    }

    /**
     * @param jar         the downloaded jar
     * @param url         where it came from, for messages
     * @param maxManifest the largest manifest read
     * @return what it declares
     * @throws CommandRefusedException naming the problem: not a jar, a manifest too big, no bundle name, a bad version
     */
    static PluginJar read(Path jar, String url, long maxManifest) throws CommandRefusedException {
        Manifest mf;
        try (JarFile f = new JarFile(jar.toFile(), false)) {
            ZipEntry e = f.getEntry(JarFile.MANIFEST_NAME);
            if (e == null) throw new CommandRefusedException(url + " is not an OSGi bundle: it has no META-INF/MANIFEST.MF");
            // the size a zip entry claims can lie: read at most the limit, whatever it says
            try (InputStream in = f.getInputStream(e)) {
                byte[] head = in.readNBytes((int) maxManifest + 1);
                if (head.length > maxManifest) {
                    throw new CommandRefusedException(url + ": its manifest is larger than " + maxManifest / 1024
                        + " KiB; a plugin's manifest is a few KiB");
                }
                mf = new Manifest(new java.io.ByteArrayInputStream(head));
            }
        } catch (IOException e) {
            throw new CommandRefusedException(url + " is not a jar: " + e.getMessage());
        }
        Attributes a = mf.getMainAttributes();
        String bsnHeader = a.getValue("Bundle-SymbolicName");
        if (bsnHeader == null) {
            throw new CommandRefusedException(url + " is not an OSGi bundle: no Bundle-SymbolicName in META-INF/MANIFEST.MF");
        }
        String bsn = bsnHeader.split(";")[0].trim();
        Version version;
        try {
            version = Version.parseVersion(a.getValue("Bundle-Version"));
        } catch (IllegalArgumentException e) {
            throw new CommandRefusedException(url + ": Bundle-Version '" + a.getValue("Bundle-Version") + "' is not a version");
        }
        return new PluginJar(bsn, version, packageNames(a.getValue("Export-Package")));
    }

    /**
     * The package names of an OSGi header ({@code a.b;version="1.0";uses:="x,y",c.d}): clauses are separated by
     * commas outside quotes, and a clause starts with one or more names separated by semicolons before its
     * parameters (those contain '=').
     */
    static List<String> packageNames(String header) {
        List<String> out = new ArrayList<>();
        if (header == null || header.isBlank()) return out;
        List<String> clauses = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (char ch : header.toCharArray()) {
            if (ch == '"') quoted = !quoted;
            if (ch == ',' && !quoted) {
                clauses.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        clauses.add(cur.toString());
        for (String clause : clauses) {
            for (String part : clause.split(";")) {
                String p = part.trim();
                if (p.isEmpty() || p.contains("=") || p.contains("\"")) break;
                out.add(p);
            }
        }
        return out;
    }
}
