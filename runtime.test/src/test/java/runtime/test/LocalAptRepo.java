package runtime.test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An apt repository made at test time, with no network: tiny .deb packages built with dpkg-deb, indexed with
 * dpkg-scanpackages as one {@code file:} suite, and an apt configuration (given to the agent as
 * {@code plugins.settings.package.apt_config}) with its own sources list, lists and cache, so the host's apt
 * configuration and lists stay as they are. What gets installed goes into the host's dpkg database for real: the
 * test purges it.
 */
final class LocalAptRepo {
    static final String SUITE = "outpost-e2e";

    final Path aptConf;

    /** Builds the repository under {@code root} with one package of each given name at the given version. */
    LocalAptRepo(Path root, String version, String... names) throws Exception {
        for (String tool : List.of("dpkg-deb", "dpkg-scanpackages", "apt-get", "dpkg-query")) {
            if (!onPath(tool)) {
                throw new AssertionError(tool + " is not installed: this test needs dpkg-dev and apt (apt-get install dpkg-dev apt)");
            }
        }
        if (!"root".equals(System.getProperty("user.name"))) throw new AssertionError("this test installs packages: it runs as root");
        String arch = run(root, "dpkg", "--print-architecture").strip();
        Path repo = Files.createDirectories(root.resolve("repo"));
        Path pool = Files.createDirectories(repo.resolve("pool"));
        for (String name : names) {
            Path src = Files.createDirectories(root.resolve("build").resolve(name).resolve("DEBIAN"));
            Files.writeString(src.resolve("control"), "Package: " + name + "\nVersion: " + version + "\nArchitecture: all\n"
                + "Maintainer: Outpost tests <tests@outpost.invalid>\nDescription: Outpost end-to-end test package\n"
                + " A package that only exists for PackagesAndFilesIT.\n");
            Path doc = Files.createDirectories(src.getParent().resolve("usr/share/doc").resolve(name));
            Files.writeString(doc.resolve("VERSION"), version + "\n");
            run(root, "dpkg-deb", "--root-owner-group", "-Zgzip", "--build", src.getParent().toString(),
                pool.resolve(name + "_" + version + "_all.deb").toString());
        }
        String packages = run(repo, "dpkg-scanpackages", "pool", "/dev/null");
        Path binary = Files.createDirectories(repo.resolve("dists").resolve(SUITE).resolve("main/binary-" + arch));
        Files.writeString(binary.resolve("Packages"), packages);
        byte[] bytes = packages.getBytes(StandardCharsets.UTF_8);
        Files.writeString(repo.resolve("dists").resolve(SUITE).resolve("Release"), "Origin: Outpost\nLabel: Outpost-E2E\nSuite: " + SUITE
            + "\nCodename: " + SUITE + "\nArchitectures: " + arch + "\nComponents: main\nSHA256:\n "
            + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)) + " " + bytes.length + " main/binary-" + arch
            + "/Packages\n");
        Files.writeString(root.resolve("sources.list"), "deb [trusted=yes] file:" + repo + " " + SUITE + " main\n");
        Files.createDirectories(root.resolve("sources.list.d"));
        Files.createDirectories(root.resolve("preferences.d"));
        Files.createDirectories(root.resolve("lists/partial"));
        Files.createDirectories(root.resolve("cache/archives/partial"));
        aptConf = root.resolve("apt.conf");
        Files.writeString(aptConf, "Dir::Etc::SourceList \"" + root.resolve("sources.list") + "\";\n"
            + "Dir::Etc::SourceParts \"" + root.resolve("sources.list.d") + "\";\n"
            + "Dir::Etc::Preferences \"" + root.resolve("preferences") + "\";\n"
            + "Dir::Etc::PreferencesParts \"" + root.resolve("preferences.d") + "\";\n"
            + "Dir::State::Lists \"" + root.resolve("lists") + "\";\n"
            + "Dir::Cache \"" + root.resolve("cache") + "\";\n"
            + "Acquire::Languages \"none\";\n");
    }

    /** @return the version dpkg has installed, or null */
    static String installedVersion(String name) throws Exception {
        Process p = new ProcessBuilder("dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Version}", name).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("dpkg-query did not finish in 60 s");
        return p.exitValue() == 0 && out.startsWith("ii ") ? out.substring(4).strip() : null;
    }

    /** Purges the packages from the host's dpkg database if they are there (clean-up outside the agent). */
    static void purge(String... names) throws Exception {
        List<String> argv = new ArrayList<>(List.of("dpkg", "--purge"));
        argv.addAll(List.of(names));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) throw new AssertionError("dpkg --purge did not finish in 120 s");
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) return true;
        }
        return false;
    }

    private static String run(Path dir, String... argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(String.join(" ", argv) + " failed: " + out);
        return out;
    }
}
