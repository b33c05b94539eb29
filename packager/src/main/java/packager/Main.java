package packager;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code outpost-packager -c packager.json [--force] [-v]}: builds an agent distribution from one config file
 * (docs/packaging.md). Exit codes: 0 built; 1 a build step failed; 2 bad usage or config (the message names the key).
 */
@Command(name = "outpost-packager", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Builds an Outpost agent distribution (a .tar.gz for install.sh, a .deb for apt) from one config file:"
        + " the agent, the plugins chosen, a default config, optionally a private Java runtime. See docs/packaging.md.",
    exitCodeOnInvalidInput = 2, exitCodeOnExecutionException = 1)
public final class Main implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", defaultValue = "packager.json",
        description = "the packager config (default: ${DEFAULT-VALUE})")
    Path config;

    @Option(names = "--force", description = "replace archives the output folder already holds")
    boolean force;

    @Option(names = {"-v", "--verbose"}, description = "details: tools run, modules, every plugin's checksum")
    boolean verbose;

    /** The Outpost version of this build, from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() { return new String[] {"outpost-packager " + version()}; }
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : System.getProperty("outpost.version", "unknown");
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() {
        Progress progress = new Progress(System.err, verbose);
        try {
            PackagerConfig c = PackagerConfig.read(config);
            String home = System.getProperty("outpost.home");
            if (home == null) throw PackagerException.build("outpost.home is not set: run the packager through bin/outpost-packager");
            String epoch = System.getenv("SOURCE_DATE_EPOCH");
            long time = Packager.DEFAULT_EPOCH;
            if (epoch != null) {
                try {
                    time = Long.parseLong(epoch.trim());
                } catch (NumberFormatException e) {
                    throw PackagerException.config("environment variable SOURCE_DATE_EPOCH must be seconds since 1970, got '" + epoch + "'");
                }
            }
            progress.say("config " + c.file() + ": " + c.name() + " " + c.version() + ", runtime " + c.runtime().key + ", formats "
                + String.join(", ", c.formats().stream().map(f -> f.key).toList()) + ", into " + c.output());
            List<Path> written = new Packager(c, new OutpostHome(Path.of(home).toAbsolutePath().normalize(), version()), progress, time)
                .build(force);
            for (Path p : written) System.out.println(p);
            return 0;
        } catch (PackagerException e) {
            System.err.println("outpost-packager: " + e.getMessage());
            if (verbose && e.getCause() != null) e.getCause().printStackTrace();
            return e.exitCode();
        }
    }
}
