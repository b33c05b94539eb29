package packager;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The private Java runtime: only the modules the agent's bundles use, found by jdeps, and the few that jdeps cannot
 * see because they are reached by name at run time; made with jlink.
 */
final class JavaRuntime {
    /**
     * Modules reached by name, with why. Checked by starting the agent on the private runtime at package time and,
     * end to end, by a packaged agent joining the server over TLS (runtime.test PackagerIT).
     */
    static final Map<String, String> BY_NAME = Map.of(
        "jdk.crypto.ec", "TLS to the server: ECDHE key exchange and EC certificates come from the SunEC provider, loaded by name from java.security",
        "jdk.unsupported", "sun.misc.Unsafe, looked up reflectively by Felix and Gson");

    private JavaRuntime() {}

    /**
     * @param jdk  the JDK whose jdeps reads the jars
     * @param jars every jar the runtime loads: the launcher, the framework, every bundle
     * @return the modules to link: what jdeps finds, and {@link #BY_NAME}
     * @throws PackagerException when jdeps fails
     */
    static List<String> modules(Jdk jdk, List<Path> jars, Progress progress) throws PackagerException {
        List<String> cmd = new ArrayList<>(List.of(jdk.tool("jdeps").toString(), "--print-module-deps", "--ignore-missing-deps",
            "--multi-release", "" + jdk.feature()));
        jars.forEach(j -> cmd.add(j.toString()));
        progress.detail("run " + String.join(" ", cmd));
        Tool.Result r = Tool.of(cmd).runOk(Duration.ofMinutes(10), "jdeps (the modules the agent's bundles use)");
        TreeSet<String> mods = new TreeSet<>();
        for (String m : r.stdout().trim().split(",")) if (!m.isBlank()) mods.add(m.trim());
        progress.detail("jdeps: " + String.join(",", mods));
        mods.addAll(BY_NAME.keySet());
        BY_NAME.forEach((m, why) -> progress.detail("and " + m + ": " + why));
        return List.copyOf(mods);
    }

    /**
     * Links the runtime. No class-data archive here: JDK 17 does not write one reproducibly (JDK-8253495), so the
     * install writes it (install.sh, the .deb's postinst), as it writes the agent's.
     *
     * @param jdk     the JDK to link from
     * @param modules what to link
     * @param out     the runtime's folder (must not exist)
     * @throws PackagerException when jlink fails
     */
    static void link(Jdk jdk, List<String> modules, Path out, Progress progress) throws PackagerException {
        // no --compress: jlink's zip level makes the modules file 17 MB smaller on disk but the archives bigger
        // (measured: a 19.2 MB .tar.gz of the runtime uncompressed, 23.3 MB compressed), and every class load slower
        List<String> cmd = List.of(jdk.tool("jlink").toString(), "--add-modules", String.join(",", modules), "--strip-debug",
            "--no-man-pages", "--no-header-files", "--output", out.toString());
        progress.detail("run " + String.join(" ", cmd));
        Tool.of(cmd).runOk(Duration.ofMinutes(20), "jlink");
    }
}
