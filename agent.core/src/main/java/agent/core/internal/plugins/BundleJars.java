package agent.core.internal.plugins;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.osgi.framework.Bundle;

/** Writes an installed bundle's content back into a jar: what a rollback reinstalls for a plugin that came with the agent. */
final class BundleJars {
    private BundleJars() {}

    static void write(Bundle b, Path target) throws IOException {
        URL mf = b.getEntry("META-INF/MANIFEST.MF");
        if (mf == null) throw new IOException("bundle " + b.getSymbolicName() + " has no manifest entry");
        Path tmp = Files.createTempFile(target.getParent(), ".export-", ".jar");
        try {
            try (InputStream min = mf.openStream(); OutputStream os = Files.newOutputStream(tmp);
                 JarOutputStream out = new JarOutputStream(os, new Manifest(min))) {
                Deque<String> dirs = new ArrayDeque<>();
                dirs.add("/");
                while (!dirs.isEmpty()) {
                    Enumeration<String> paths = b.getEntryPaths(dirs.poll());
                    if (paths == null) continue;
                    while (paths.hasMoreElements()) {
                        String p = paths.nextElement();
                        if (p.endsWith("/")) {
                            dirs.add(p);
                            continue;
                        }
                        if (p.equals("META-INF/MANIFEST.MF")) continue;
                        out.putNextEntry(new JarEntry(p));
                        try (InputStream in = b.getEntry(p).openStream()) {
                            in.transferTo(out);
                        }
                        out.closeEntry();
                    }
                }
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
