package packager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The .deb, built by dpkg-deb (Debian's own dpkg) from a staged tree: the reference implementation of the format, on
 * every Debian and Ubuntu, reproducible with SOURCE_DATE_EPOCH (the ar members' time, the tar entries' times clamped)
 * and {@code --root-owner-group}; it sorts the entries itself. The maintainer
 * scripts (resources packager/deb/) make the directories and the config, write the class-data archives, enable the
 * unit, keep config and data on remove and upgrade, and remove them on purge.
 *
 * <p>Layout: /opt/outpost (bin/outpost, lib/outpost.jar, lib/outpost.classlist, jre/, README.md, distribution.json, config.default.json),
 * /lib/systemd/system/outpost.service, /etc/outpost (0700) with server-ca.pem (a conffile) when the config names a
 * CA; the postinst makes /etc/outpost/config.json (0600), /etc/outpost/scripts.d, /var/lib/outpost, /var/log/outpost.
 */
final class DebPackage {
    private static final List<String> SCRIPTS = List.of("postinst", "prerm", "postrm");
    /** What the install.sh path installs too: the disk plugin's tools. Recommended, so a host can do without. */
    private static final String RECOMMENDS = "systemd, parted, gdisk, cloud-guest-utils, e2fsprogs, xfsprogs";
    /** Every flavour of packaged Outpost installs /opt/outpost: one at a time, replacing the other. */
    private static final String VIRTUAL = "outpost-agent";

    private DebPackage() {}

    /** @return the Debian architecture of this machine's Java, for a package that carries a private runtime */
    static String architecture() throws PackagerException {
        String a = System.getProperty("os.arch");
        switch (a) {
            case "amd64":
            case "x86_64": return "amd64";
            case "aarch64": return "arm64";
            default: throw PackagerException.build("no Debian architecture known for os.arch '" + a + "'");
        }
    }

    /**
     * @param staged   the distribution folder
     * @param contents what went in
     * @param arch     "all" without a private runtime, else the machine's
     * @param work     a scratch folder
     * @param out      the .deb to write
     * @param epoch    SOURCE_DATE_EPOCH
     * @throws PackagerException when dpkg-deb is missing or fails
     */
    static void build(Path staged, Distribution.Contents contents, String arch, Path work, Path out, long epoch, Progress progress)
            throws PackagerException, IOException {
        PackagerConfig c = contents.config();
        Path tree = work.resolve("deb");
        Path opt = tree.resolve("opt/outpost");
        Distribution.copy(staged.resolve("bin/outpost"), opt.resolve("bin/outpost"), "rwxr-xr-x");
        Distribution.copy(staged.resolve("lib/outpost.jar"), opt.resolve("lib/outpost.jar"), "rw-r--r--");
        Distribution.copy(staged.resolve("lib/outpost.classlist"), opt.resolve("lib/outpost.classlist"), "rw-r--r--");
        Distribution.copy(staged.resolve("README.md"), opt.resolve("README.md"), "rw-r--r--");
        Distribution.copy(staged.resolve("distribution.json"), opt.resolve("distribution.json"), "rw-r--r--");
        Distribution.copy(staged.resolve("config.json"), opt.resolve("config.default.json"), "rw-r--r--");
        if (Files.isDirectory(staged.resolve("jre"))) Distribution.copyTree(staged.resolve("jre"), opt.resolve("jre"));
        Distribution.copy(staged.resolve("outpost.service"), tree.resolve("lib/systemd/system/outpost.service"), "rw-r--r--");
        Path etc = Files.createDirectories(tree.resolve("etc/outpost"));
        List<String> conffiles = new ArrayList<>();
        if (Files.exists(staged.resolve("server-ca.pem"))) {
            Distribution.copy(staged.resolve("server-ca.pem"), etc.resolve("server-ca.pem"), "rw-r--r--");
            conffiles.add("/etc/outpost/server-ca.pem");
        }
        try (Stream<Path> s = Files.walk(tree)) {
            for (Path d : (Iterable<Path>) s::iterator) {
                if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        // the agent's config and credentials live here: root only, as install.sh makes it
        Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("rwx------"));

        Path debian = Files.createDirectories(tree.resolve("DEBIAN"));
        Files.setPosixFilePermissions(debian, PosixFilePermissions.fromString("rwxr-xr-x"));
        Distribution.write(debian.resolve("control"), control(contents, arch, installedSize(tree)));
        if (!conffiles.isEmpty()) Distribution.write(debian.resolve("conffiles"), String.join("\n", conffiles) + "\n");
        for (String script : SCRIPTS) {
            try (InputStream in = DebPackage.class.getResourceAsStream("deb/" + script)) {
                if (in == null) throw new IllegalStateException("the packager jar lacks its deb/" + script);
                Path p = debian.resolve(script);
                Files.write(p, in.readAllBytes());
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }

        // gzip, not dpkg-deb's default xz: the jars inside are compressed already, and xz took 42 s for 1% less here
        // (and splits its work by thread count, which would make the bytes depend on the machine)
        List<String> cmd = List.of(dpkgDeb(), "--root-owner-group", "-Zgzip", "-z9", "--build", tree.toString(), out.toString());
        progress.detail("run SOURCE_DATE_EPOCH=" + epoch + " " + String.join(" ", cmd));
        Tool.of(cmd).env("SOURCE_DATE_EPOCH", "" + epoch).unset("DPKG_DEB_THREADS_MAX").unset("DPKG_DEB_COMPRESSOR_TYPE")
            .unset("DPKG_DEB_COMPRESSOR_LEVEL").runOk(Duration.ofMinutes(20), "dpkg-deb --build");
    }

    private static String dpkgDeb() throws PackagerException {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "dpkg-deb");
            if (Files.isExecutable(p)) return p.toString();
        }
        throw PackagerException.build("the \"deb\" format needs dpkg-deb (Debian/Ubuntu: package dpkg; Fedora: dpkg), not found on PATH");
    }

    /** Installed-Size in KiB, as dpkg-gencontrol counts it: each file rounded up, each folder and link one. */
    private static long installedSize(Path tree) throws IOException {
        long kib = 0;
        try (Stream<Path> s = Files.walk(tree)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(tree) || p.startsWith(tree.resolve("DEBIAN"))) continue;
                kib += Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? (Files.size(p) + 1023) / 1024 : 1;
            }
        }
        return kib;
    }

    private static String control(Distribution.Contents contents, String arch, long installedSize) {
        PackagerConfig c = contents.config();
        List<String> plugins = new ArrayList<>();
        for (BundleJar b : contents.bundles()) if (b.plugin()) plugins.add(b.bsn() + " " + b.version());
        String depends = "bash, coreutils, findutils, util-linux";
        if (c.runtime() == PackagerConfig.RuntimeKind.SYSTEM) depends += ", default-jre-headless (>= 2:1.17) | java17-runtime-headless";
        StringBuilder sb = new StringBuilder();
        sb.append("Package: ").append(c.name()).append('\n');
        sb.append("Version: ").append(c.version()).append('\n');
        sb.append("Architecture: ").append(arch).append('\n');
        sb.append("Maintainer: ").append(c.maintainer()).append('\n');
        sb.append("Installed-Size: ").append(installedSize).append('\n');
        sb.append("Depends: ").append(depends).append('\n');
        sb.append("Recommends: ").append(RECOMMENDS).append('\n');
        sb.append("Provides: ").append(VIRTUAL).append('\n');
        sb.append("Conflicts: ").append(VIRTUAL).append('\n');
        sb.append("Replaces: ").append(VIRTUAL).append('\n');
        sb.append("Section: admin\n");
        sb.append("Priority: optional\n");
        sb.append("Description: Outpost management agent (").append(c.name()).append(")\n");
        sb.append(" An Outpost agent distribution made by outpost-packager from Outpost ").append(contents.outpost()).append(",\n");
        sb.append(" on ").append(contents.java()).append(", joining ").append(c.agent().serverUrl()).append(".\n");
        sb.append(" Plugins: ").append(plugins.isEmpty() ? "none" : String.join(", ", plugins)).append(".\n");
        return sb.toString();
    }

    /** @param name a script @return its text, for tests and shellcheck */
    static String script(String name) throws IOException {
        try (InputStream in = DebPackage.class.getResourceAsStream("deb/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
