package packager;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import packager.PackagerConfig.Builtin;
import packager.PackagerConfig.Format;
import packager.PackagerConfig.LeftOut;
import packager.PackagerConfig.PluginChoice;
import packager.PackagerConfig.RuntimeKind;

/**
 * One build: the config checked, the plugins fetched and checked, the new runtime resolved, the private runtime
 * linked, the agent started for real, the archives written. Everything happens in a scratch folder; the archives are
 * moved into the output folder only when all of it succeeded, so a failed build leaves nothing behind.
 */
final class Packager {
    /** The time every archive entry carries unless SOURCE_DATE_EPOCH says otherwise: 2026-01-01T00:00:00Z. */
    static final long DEFAULT_EPOCH = 1767225600L;

    private final PackagerConfig config;
    private final OutpostHome home;
    private final Progress progress;
    private final long epoch;

    Packager(PackagerConfig config, OutpostHome home, Progress progress, long epoch) {
        this.config = config;
        this.home = home;
        this.progress = progress;
        this.epoch = epoch;
    }

    /** @return the archive file names this config gives, by format */
    Map<Format, String> outputs() throws PackagerException {
        Map<Format, String> out = new LinkedHashMap<>();
        for (Format f : config.formats()) {
            out.put(f, f == Format.TAR_GZ ? config.name() + "-" + config.version() + ".tar.gz"
                : config.name() + "_" + config.version() + "_" + (config.runtime() == RuntimeKind.JLINK ? DebPackage.architecture() : "all") + ".deb");
        }
        return out;
    }

    /**
     * @param force replace archives that exist
     * @return the archives written
     * @throws PackagerException why not
     */
    List<Path> build(boolean force) throws PackagerException {
        Map<Format, String> names = outputs();
        for (String n : names.values()) {
            Path p = config.output().resolve(n);
            if (Files.exists(p) && !force) throw PackagerException.config(p + " exists: --force replaces it");
        }
        Jdk jdk = Jdk.at(config.jdk());
        if (config.runtime() == RuntimeKind.JLINK) {
            jdk.tool("jlink");
            jdk.tool("jdeps");
        }
        Path work;
        try {
            work = Files.createTempDirectory("outpost-packager-");
        } catch (IOException e) {
            throw PackagerException.build("cannot make a scratch folder: " + e.getMessage(), e);
        }
        try {
            return build(work, jdk, names);
        } catch (IOException e) {
            throw PackagerException.build("build failed: " + e, e);
        } finally {
            delete(work);
        }
    }

    private List<Path> build(Path work, Jdk jdk, Map<Format, String> names) throws PackagerException, IOException {
        RuntimeJar runtime;
        Path exported = home.exportedJar();
        try {
            runtime = RuntimeJar.read(exported);
        } catch (IOException e) {
            throw PackagerException.build("cannot read the agent's runtime " + exported + ": " + e.getMessage(), e);
        }
        Map<String, BundleJar> run = assemble(runtime);

        // every jar the runtime loads, on disk: for jdeps and the resolve check
        Path jars = Files.createDirectories(work.resolve("jars"));
        Map<Path, BundleJar> bundleFiles = new LinkedHashMap<>();
        for (Map.Entry<String, BundleJar> e : run.entrySet()) {
            Path f = jars.resolve(Path.of(e.getKey()).getFileName().toString());
            Files.write(f, e.getValue().bytes());
            bundleFiles.put(f, e.getValue());
        }
        List<Path> all = new ArrayList<>(bundleFiles.keySet());
        for (String rp : runtime.runpath()) {
            Path f = jars.resolve(Path.of(rp).getFileName().toString());
            Files.write(f, runtime.entry(rp));
            all.add(f);
        }

        List<String> modules = null;
        if (config.runtime() == RuntimeKind.JLINK) {
            Progress.Step s = progress.start("modules", "jdeps over " + all.size() + " jars (JDK " + jdk.version() + ")");
            modules = JavaRuntime.modules(jdk, all, progress);
            s.done(String.join(",", modules));
        }

        Progress.Step s = progress.start("resolve", run.size() + " bundles against the agent's framework"
            + (modules == null ? "" : " and the private runtime's modules"));
        Resolution.check(jdk, modules, runtime, bundleFiles, work.resolve("resolve"), progress);
        s.done("every bundle resolves");

        Path jre = null;
        if (modules != null) {
            jre = work.resolve("jre");
            s = progress.start("jlink", "a private Java " + jdk.version() + " runtime of " + modules.size() + " modules");
            JavaRuntime.link(jdk, modules, jre, progress);
            s.done(mib(Distribution.size(jre)));
        }

        Path runtimeJar = work.resolve("outpost.jar");
        runtime.write(runtimeJar, run);
        Distribution.Contents contents = new Distribution.Contents(config, home.version(),
            jre == null ? "the host's Java 17 or later" : "a private Java " + jdk.version() + " runtime", modules, List.copyOf(run.values()));
        String top = config.name() + "-" + config.version();
        Path staged = work.resolve("stage").resolve(top);
        Distribution.stage(staged, home, runtimeJar, jre, contents);

        s = progress.start("trial", "starting the packaged agent on " + (jre == null ? "Java " + jdk.version() : "its private runtime"));
        TrialRun.run(staged, jdk, jre != null, contents.bundles(), work.resolve("trial"), progress);
        s.done("every bundle active, every plugin serving");

        Path built = Files.createDirectories(work.resolve("out"));
        for (Map.Entry<Format, String> f : names.entrySet()) {
            Path out = built.resolve(f.getValue());
            s = progress.start("archive", f.getValue());
            if (f.getKey() == Format.TAR_GZ) {
                TarGz.write(staged, top, out, epoch);
            } else {
                DebPackage.build(staged, contents, jre == null ? "all" : DebPackage.architecture(), work.resolve("debian"), out, epoch, progress);
            }
            s.done(mib(Files.size(out)));
        }
        // only now, all of it built: into the output folder
        Files.createDirectories(config.output());
        List<Path> written = new ArrayList<>();
        for (String n : names.values()) {
            Path to = config.output().resolve(n);
            Files.move(built.resolve(n), to, StandardCopyOption.REPLACE_EXISTING);
            written.add(to);
        }
        return written;
    }

    /**
     * The new runtime's bundles: the exported runtime's, without the plugins left out, with the ones replaced and the
     * ones added, each fetched and checked.
     */
    Map<String, BundleJar> assemble(RuntimeJar runtime) throws PackagerException {
        Map<String, BundleJar> run = new LinkedHashMap<>(runtime.bundles());
        Map<String, String> embedded = new LinkedHashMap<>(); // bsn -> entry
        Set<String> core = new TreeSet<>();
        Set<String> plugins = new TreeSet<>();
        run.forEach((entry, b) -> {
            embedded.put(b.bsn(), entry);
            (b.plugin() ? plugins : core).add(b.bsn());
        });
        Set<String> builtins = home.builtinPlugins().keySet();
        PluginSources sources = new PluginSources(home, config.file(), progress);
        List<String> summary = new ArrayList<>();
        for (Map.Entry<String, PluginChoice> e : config.plugins().entrySet()) {
            String bsn = e.getKey();
            PluginChoice choice = e.getValue();
            String key = "config key 'plugins." + bsn + "' in " + config.file();
            if (core.contains(bsn)) {
                throw PackagerException.config(key + " names a bundle of the agent's core, not a plugin (core: " + String.join(", ", core) + ")");
            }
            if (choice instanceof LeftOut) {
                if (plugins.contains(bsn)) {
                    run.remove(embedded.get(bsn));
                    summary.add(bsn + " left out");
                } else if (!builtins.contains(bsn)) {
                    throw PackagerException.config(key + " is \"none\", but there is no plugin of that name to leave out (in the runtime: "
                        + String.join(", ", plugins) + "; built-in: " + String.join(", ", builtins) + ")");
                }
                continue;
            }
            if (choice instanceof Builtin && plugins.contains(bsn)) {
                summary.add(bsn + " (built-in, in the runtime)");
                continue;
            }
            BundleJar b = sources.fetch(bsn, choice);
            if (embedded.containsKey(bsn)) run.remove(embedded.get(bsn));
            if (run.containsKey(b.entryName())) throw PackagerException.config(key + ": another bundle is stored as " + b.entryName());
            run.put(b.entryName(), b);
            summary.add(bsn + " " + b.version() + (b.plugin() ? "" : " (a library: it serves no actions)"));
        }
        for (String bsn : plugins) {
            if (!config.plugins().containsKey(bsn)) summary.add(bsn + " (built-in, in the runtime)");
        }
        progress.say("plugins: " + (summary.isEmpty() ? "as the default runtime" : String.join(", ", summary)));
        return run;
    }

    static String mib(long bytes) { return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0); }

    private static void delete(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                    Files.delete(f);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("outpost-packager: warning: cannot remove the scratch folder " + dir + ": " + e.getMessage());
        }
    }
}
