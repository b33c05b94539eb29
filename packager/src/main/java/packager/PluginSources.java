package packager;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

import packager.PackagerConfig.Builtin;
import packager.PackagerConfig.FromFile;
import packager.PackagerConfig.FromMaven;
import packager.PackagerConfig.FromUrl;
import packager.PackagerConfig.PluginChoice;

/**
 * Gets the jar of each plugin the config adds: a built-in one from the checkout, a local file, a Maven artifact from
 * the local repository or Maven Central (checked against Central's .sha1), an https URL (checked against the sha256
 * the config gives). Nothing is written outside the build's own work folder: not even the local Maven repository.
 */
final class PluginSources {
    /** Maven Central; {@code -Doutpost.packager.maven.remote=URL} names another repository of the same layout. */
    static final String CENTRAL = "https://repo.maven.apache.org/maven2";
    /** A plugin jar bigger than this is refused while it downloads. */
    private static final long MAX_BYTES = 256L << 20;

    private final OutpostHome home;
    private final Path configFile;
    private final Progress progress;
    private final Path mavenLocal;
    private final String mavenRemote;
    private final HttpClient http;

    /** Local repository from -Dmaven.repo.local (else ~/.m2/repository), remote from -Doutpost.packager.maven.remote. */
    PluginSources(OutpostHome home, Path configFile, Progress progress) {
        this(home, configFile, progress, localRepository(), System.getProperty("outpost.packager.maven.remote", CENTRAL),
            // NORMAL never follows a redirect from https to http
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(30)).build());
    }

    PluginSources(OutpostHome home, Path configFile, Progress progress, Path mavenLocal, String mavenRemote, HttpClient http) {
        this.home = home;
        this.configFile = configFile;
        this.progress = progress;
        this.mavenLocal = mavenLocal;
        this.mavenRemote = mavenRemote.endsWith("/") ? mavenRemote.substring(0, mavenRemote.length() - 1) : mavenRemote;
        this.http = http;
    }

    private static Path localRepository() {
        String local = System.getProperty("maven.repo.local");
        return local != null ? Path.of(local) : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    private PackagerException bad(String key, String problem) {
        return PackagerException.config("config key '" + key + "' in " + configFile + " " + problem);
    }

    /**
     * @param bsn    the plugin's key: its bundle symbolic name
     * @param choice where its jar comes from
     * @return the jar, checked: a bundle, of that symbolic name, with the expected checksum
     * @throws PackagerException naming the key
     */
    BundleJar fetch(String bsn, PluginChoice choice) throws PackagerException {
        String key = "plugins." + bsn;
        byte[] bytes;
        String origin;
        String expected = null;
        if (choice instanceof Builtin) {
            Map<String, Path> builtins = home.builtinPlugins();
            Path jar = builtins.get(bsn);
            if (jar == null) {
                throw bad(key, "is \"builtin\" but this Outpost build has no built-in plugin of that name (built-in: "
                    + String.join(", ", builtins.keySet()) + ")");
            }
            if (!Files.isRegularFile(jar)) {
                throw PackagerException.build("built-in plugin " + bsn + " is not built: no " + jar
                    + " (mvn -B -DskipTests package -pl " + bsn + " in " + home.dir() + ")");
            }
            bytes = read(jar, key);
            origin = key + " (built-in, " + jar + ")";
        } else if (choice instanceof FromFile f) {
            bytes = read(f.jar(), key + ".file");
            origin = key + " (file " + f.jar() + ")";
            expected = f.sha256();
        } else if (choice instanceof FromMaven m) {
            bytes = maven(key, m);
            origin = key + " (maven " + m.groupId() + ":" + m.artifactId() + ":" + m.version() + ")";
            expected = m.sha256();
        } else if (choice instanceof FromUrl u) {
            Progress.Step s = progress.start("download", u.url().toString());
            bytes = download(key + ".url", u.url());
            s.done(bytes.length / 1024 + " KiB");
            origin = key + " (" + u.url() + ")";
            expected = u.sha256();
        } else {
            throw new IllegalArgumentException("not a jar source: " + choice);
        }
        if (expected != null) {
            String actual = BundleJar.sha256(bytes);
            if (!actual.equals(expected)) {
                throw bad(key + ".sha256", "does not match the jar: " + origin + " has sha256 " + actual + ", the config expects " + expected);
            }
        }
        BundleJar b;
        try {
            b = BundleJar.of(bytes, origin);
        } catch (IOException e) {
            throw bad(key, "does not name a plugin: " + e.getMessage());
        }
        if (!b.bsn().equals(bsn)) {
            throw bad(key, "names bundle '" + b.bsn() + "' (the Bundle-SymbolicName of " + origin
                + "): the key must be the bundle's symbolic name");
        }
        progress.detail(bsn + " " + b.version() + " sha256 " + b.sha256() + " from " + origin);
        return b;
    }

    private byte[] read(Path file, String key) throws PackagerException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw bad(key, "names a file that cannot be read: " + file + " (" + e.getMessage() + ")");
        }
    }

    private byte[] maven(String key, FromMaven m) throws PackagerException {
        String rel = m.groupId().replace('.', '/') + "/" + m.artifactId() + "/" + m.version() + "/" + m.artifactId() + "-" + m.version() + ".jar";
        Path local = mavenLocal.resolve(rel);
        if (Files.isRegularFile(local)) {
            progress.detail(key + ": from the local repository, " + local);
            return read(local, key + ".maven");
        }
        URI jar = URI.create(mavenRemote + "/" + rel);
        Progress.Step s = progress.start("download", jar.toString());
        String sha1 = new String(download(key + ".maven", URI.create(jar + ".sha1")), StandardCharsets.US_ASCII).trim().split("\\s+")[0];
        byte[] bytes = download(key + ".maven", jar);
        String actual;
        try {
            actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-1", e);
        }
        if (!actual.equalsIgnoreCase(sha1)) {
            throw bad(key + ".maven", "downloaded a jar whose sha1 " + actual + " is not the repository's " + sha1 + " (" + jar + ")");
        }
        s.done(bytes.length / 1024 + " KiB, sha1 as the repository says");
        return bytes;
    }

    private byte[] download(String key, URI url) throws PackagerException {
        HttpRequest req = HttpRequest.newBuilder(url).timeout(Duration.ofMinutes(5)).GET().build();
        HttpResponse<InputStream> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw PackagerException.build("cannot download " + url + " (" + key + "): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw PackagerException.build("interrupted while downloading " + url);
        }
        try (InputStream in = r.body()) {
            if (r.statusCode() == 404) throw bad(key, "names something " + url.getHost() + " does not have: " + url + " answered 404");
            if (r.statusCode() != 200) throw PackagerException.build("cannot download " + url + " (" + key + "): HTTP " + r.statusCode());
            byte[] bytes = in.readNBytes((int) MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) throw bad(key, "names a file larger than " + (MAX_BYTES >> 20) + " MiB: " + url);
            return bytes;
        } catch (IOException e) {
            throw PackagerException.build("cannot download " + url + " (" + key + "): " + e, e);
        }
    }
}
