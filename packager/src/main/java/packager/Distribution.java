package packager;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/**
 * The distribution as a folder, the way dist/install.sh installs from one: install.sh, uninstall.sh, outpost.service,
 * bin/outpost, lib/outpost.jar, lib/outpost.classlist, optionally jre/, README.md; and what the packager adds: config.json (the default
 * config, which install.sh completes with the enrolment token), server-ca.pem, and distribution.json (what went in).
 */
final class Distribution {
    /** 2-space indentation, one top-level key per line: install.sh and the postinst rely on that shape. */
    static final Gson JSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /**
     * What the distribution holds, for distribution.json and the README.
     *
     * @param config   the packager config
     * @param outpost  the Outpost version the runtime was built with
     * @param java     "system (Java 17 or later)" or the private runtime's version
     * @param modules  the private runtime's modules, or null
     * @param bundles  the runtime's bundles, in launch order
     */
    record Contents(PackagerConfig config, String outpost, String java, List<String> modules, List<BundleJar> bundles) {}

    private Distribution() {}

    /**
     * @param dir      the folder to fill (empty)
     * @param home     the checkout (launcher, dist/ files)
     * @param runtime  the new runtime jar
     * @param jre      the private runtime, or null
     * @param contents what went in
     * @throws IOException when a file cannot be written
     * @throws PackagerException when a file of the checkout is missing
     */
    static void stage(Path dir, OutpostHome home, Path runtime, Path jre, Contents contents) throws IOException, PackagerException {
        PackagerConfig c = contents.config();
        copy(home.dist("install.sh"), dir.resolve("install.sh"), "rwxr-xr-x");
        copy(home.dist("uninstall.sh"), dir.resolve("uninstall.sh"), "rwxr-xr-x");
        copy(home.dist("outpost.service"), dir.resolve("outpost.service"), "rw-r--r--");
        copy(home.launcher(), dir.resolve("bin/outpost"), "rwxr-xr-x");
        copy(runtime, dir.resolve("lib/outpost.jar"), "rw-r--r--");
        // what `outpost cds` builds the static class-data archive from at install time (the JDK classes a connected
        // agent loads): beside the jar, where the launcher looks for it
        copy(home.dist("outpost.classlist"), dir.resolve("lib/outpost.classlist"), "rw-r--r--");
        write(dir.resolve("config.json"), JSON.toJson(c.agent().defaultConfig()) + "\n");
        if (c.agent().serverCa() != null) copy(c.agent().serverCa(), dir.resolve("server-ca.pem"), "rw-r--r--");
        write(dir.resolve("distribution.json"), JSON.toJson(describe(contents)) + "\n");
        write(dir.resolve("README.md"), readme(contents));
        if (jre != null) copyTree(jre, dir.resolve("jre"));
        for (Path d : List.of(dir, dir.resolve("bin"), dir.resolve("lib"))) Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static void copy(Path from, Path to, String mode) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString(mode));
    }

    static void write(Path to, String text) throws IOException {
        Files.createDirectories(to.getParent());
        Files.writeString(to, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
    }

    /**
     * Copies a tree with links kept as links and modes reduced to 0755 (folders, executables) and 0644 (other files):
     * jlink writes its files read-only, and a runtime nobody can write is one an upgrade cannot replace.
     */
    static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                Path t = to.resolve(from.relativize(d).toString());
                Files.createDirectories(t);
                Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Path t = to.resolve(from.relativize(f).toString());
                if (a.isSymbolicLink()) {
                    Files.createSymbolicLink(t, Files.readSymbolicLink(f));
                } else {
                    Files.copy(f, t, LinkOption.NOFOLLOW_LINKS);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString(TarGz.executable(f) ? "rwxr-xr-x" : "rw-r--r--"));
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** @param dir a folder @return the bytes of its regular files, for the size shown */
    static long size(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            long n = 0;
            for (Path p : (Iterable<Path>) s::iterator) if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) n += Files.size(p);
            return n;
        }
    }

    private static JsonObject describe(Contents c) {
        JsonObject o = new JsonObject();
        o.addProperty("name", c.config().name());
        o.addProperty("version", c.config().version());
        o.addProperty("outpost", c.outpost());
        JsonObject rt = new JsonObject();
        rt.addProperty("kind", c.config().runtime().key);
        rt.addProperty("java", c.java());
        if (c.modules() != null) {
            JsonArray m = new JsonArray();
            c.modules().forEach(m::add);
            rt.add("modules", m);
        }
        o.add("runtime", rt);
        JsonArray bundles = new JsonArray();
        for (BundleJar b : c.bundles()) {
            JsonObject j = new JsonObject();
            j.addProperty("bsn", b.bsn());
            j.addProperty("version", b.version());
            j.addProperty("kind", b.plugin() ? "plugin" : "core");
            j.addProperty("sha256", b.sha256());
            j.addProperty("from", b.origin());
            bundles.add(j);
        }
        o.add("bundles", bundles);
        return o;
    }

    private static String readme(Contents c) {
        PackagerConfig cfg = c.config();
        String dir = cfg.name() + "-" + cfg.version();
        List<String> plugins = new ArrayList<>();
        for (BundleJar b : c.bundles()) if (b.plugin()) plugins.add("- `" + b.bsn() + "` " + b.version());
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(cfg.name()).append(' ').append(cfg.version()).append("\n\n");
        sb.append("An Outpost agent distribution (Outpost ").append(c.outpost()).append("), made by `outpost-packager`.\n\n");
        sb.append("Runtime: ").append(c.java()).append(c.modules() == null ? "" : ", modules " + String.join(", ", c.modules())).append(".\n\n");
        sb.append("Plugins:\n\n").append(plugins.isEmpty() ? "- none\n" : String.join("\n", plugins) + "\n").append('\n');
        sb.append("Joins ").append(cfg.agent().serverUrl()).append(" (`config.json` is the default config; the install adds the enrolment token).\n\n");
        sb.append("Install, as root (Debian/Ubuntu, RHEL/Fedora, SUSE; `--help` for the options):\n\n");
        sb.append("```\n");
        sb.append("tar xzf ").append(dir).append(".tar.gz\n");
        sb.append(dir).append("/install.sh --token-file /root/enrollment.token -y\n");
        sb.append("```\n\n");
        sb.append("It installs into /opt/outpost, writes /etc/outpost/config.json (0600) and enables outpost.service.\n");
        sb.append("`/opt/outpost/uninstall.sh` removes it. `distribution.json` lists every bundle with its sha256 and where it came from.\n");
        return sb.toString();
    }
}
