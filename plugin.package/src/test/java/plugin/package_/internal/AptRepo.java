package plugin.package_.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A private apt world for tests: tiny .deb packages built with dpkg-deb, served from a {@code file:} repository indexed
 * with dpkg-scanpackages (one suite per directory, each with a Release file that names its suite and label), and an
 * apt configuration ({@code APT_CONFIG}) with its own sources list, lists and cache, so the host's apt configuration
 * and lists are never used nor changed. Packages are installed into the host's dpkg database for real: the test
 * purges them afterwards.
 */
final class AptRepo {
    final Path root;
    final Path repo;
    final Path aptConf;
    final String arch;

    AptRepo(Path root) throws Exception {
        for (String tool : List.of("dpkg-deb", "dpkg-scanpackages", "apt-get", "apt-cache", "apt-config", "dpkg-query")) {
            if (new Runner(null).find(tool).isEmpty()) {
                throw new AssertionError(tool + " is not installed: these tests need dpkg-dev and apt (apt-get install dpkg-dev apt)");
            }
        }
        if (!"root".equals(System.getProperty("user.name"))) throw new AssertionError("these tests install packages: they run as root");
        this.root = root;
        this.repo = Files.createDirectories(root.resolve("repo"));
        this.arch = run(root, "dpkg", "--print-architecture").strip();
        Path lists = Files.createDirectories(root.resolve("lists/partial"));
        Files.createDirectories(root.resolve("cache/archives/partial"));
        Files.createDirectories(root.resolve("sources.list.d"));
        Files.createDirectories(root.resolve("preferences.d"));
        aptConf = root.resolve("apt.conf");
        Files.writeString(aptConf, "Dir::Etc::SourceList \"" + root.resolve("sources.list") + "\";\n"
            + "Dir::Etc::SourceParts \"" + root.resolve("sources.list.d") + "\";\n"
            + "Dir::Etc::Preferences \"" + root.resolve("preferences") + "\";\n"
            + "Dir::Etc::PreferencesParts \"" + root.resolve("preferences.d") + "\";\n"
            + "Dir::State::Lists \"" + lists.getParent() + "\";\n"
            + "Dir::Cache \"" + root.resolve("cache") + "\";\n"
            + "Acquire::Languages \"none\";\n");
    }

    /** A package to build: name, version, and what it depends on (or null). */
    record Deb(String name, String version, String depends) {}

    /**
     * Builds the packages and publishes them as one suite.
     *
     * @param suite the suite (and codename); a name ending in {@code -security} makes a security suite, as Debian's
     * @param label the Release file's label
     */
    void suite(String suite, String label, Deb... debs) throws Exception {
        Path pool = Files.createDirectories(repo.resolve("pool").resolve(suite));
        for (Deb d : debs) {
            Path src = Files.createDirectories(root.resolve("build").resolve(d.name + "_" + d.version));
            Files.createDirectories(src.resolve("DEBIAN"));
            Files.writeString(src.resolve("DEBIAN/control"), "Package: " + d.name + "\nVersion: " + d.version + "\nArchitecture: all\n"
                + "Maintainer: Outpost tests <tests@outpost.invalid>\n" + (d.depends == null ? "" : "Depends: " + d.depends + "\n")
                + "Description: Outpost test package\n A package that only exists for plugin.package's tests.\n");
            Path doc = Files.createDirectories(src.resolve("usr/share/doc").resolve(d.name));
            Files.writeString(doc.resolve("VERSION"), d.version + "\n");
            run(root, "dpkg-deb", "--root-owner-group", "-Zgzip", "--build", src.toString(),
                pool.resolve(d.name + "_" + d.version + "_all.deb").toString());
        }
        Path binary = Files.createDirectories(repo.resolve("dists").resolve(suite).resolve("main/binary-" + arch));
        String packages = run(repo, "dpkg-scanpackages", "--multiversion", repo.relativize(pool).toString(), "/dev/null");
        Files.writeString(binary.resolve("Packages"), packages);
        byte[] bytes = packages.getBytes(StandardCharsets.UTF_8);
        String date = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'UTC'", Locale.ROOT).format(ZonedDateTime.now(ZoneOffset.UTC));
        Files.writeString(repo.resolve("dists").resolve(suite).resolve("Release"), "Origin: Outpost\nLabel: " + label + "\nSuite: " + suite
            + "\nCodename: " + suite + "\nDate: " + date + "\nArchitectures: " + arch + "\nComponents: main\nSHA256:\n "
            + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)) + " " + bytes.length + " main/binary-" + arch
            + "/Packages\n");
        Files.writeString(root.resolve("sources.list"), "deb [trusted=yes] file:" + repo + " " + suite + " main\n",
            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    /** @return the version dpkg has installed, or null */
    static String installedVersion(String name) throws Exception {
        Process p = new ProcessBuilder("dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Version}", name).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return p.exitValue() == 0 && out.startsWith("ii ") ? out.substring(4).strip() : null;
    }

    /** @return the host's installed set, as dpkg-query prints it */
    static String hostPackages() throws Exception { return run(Path.of("/"), "dpkg-query", "-W"); }

    /** Purges the packages from the host's dpkg database if they are there (test clean-up, outside the plugin). */
    static void purge(String... names) throws Exception {
        List<String> argv = new ArrayList<>(List.of("dpkg", "--purge"));
        argv.addAll(List.of(names));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor(120, TimeUnit.SECONDS);
    }

    static String run(Path dir, String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(String.join(" ", argv) + " failed: " + out);
        return out;
    }
}
