package plugin.dataset.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.ErrorCode;
import agent.api.InvalidParamException;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;
import agent.api.ServerFiles;
import agent.api.SettingsType;

/**
 * {@code dataset.install} {name, version, url, sha256, target, format, keepPrevious}: downloads the data set over
 * HTTPS (resuming a partial download), checks its sha256, extracts it into a staging directory beside the target and
 * switches the target to it with one rename; the previous version is removed after the switch (or kept, with
 * {@code keepPrevious}). Installing the version that is installed already changes nothing and downloads nothing.
 */
@Component
@Actions("dataset.install")
@ConcurrencyKey("dataset")
@DryRun
@SettingsType(DatasetSettings.class)
public final class DatasetInstaller implements CommandHandler {
    static final List<String> FORMATS = List.of("auto", "tar", "tar.gz", "tar.zst", "zip", "file");
    /** zstd killed by SIGXFSZ: its output passed the file size limit set with prlimit */
    private static final int EXIT_FILE_TOO_LARGE = 128 + 25;

    @Reference
    AgentPaths paths;

    /** The agent's server, for relative URLs; none in offline mode. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServerFiles server;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        String name = ctx.params().string("name");
        if (!Layout.NAME.matcher(name).matches()) {
            throw new InvalidParamException("name", Text.quote(name) + " is not a data set name: 1-128 letters, digits, '.', '_' or '-',"
                + " starting with a letter or digit");
        }
        String version = ctx.params().string("version");
        if (!Layout.VERSION.matcher(version).matches()) {
            throw new InvalidParamException("version", Text.quote(version) + " is not a version: 1-64 letters, digits, '.', '_', '+' or '-',"
                + " starting with a letter or digit");
        }
        String sha256 = ctx.params().string("sha256");
        if (!Layout.SHA256.matcher(sha256).matches()) {
            throw new InvalidParamException("sha256", Text.quote(sha256) + " is not a sha256: 64 hexadecimal digits");
        }
        sha256 = sha256.toLowerCase(Locale.ROOT);
        Path targetPath = Layout.target("target", ctx.params().string("target"));
        String format = ctx.params().oneOf("format", new java.util.LinkedHashSet<>(FORMATS), "auto");
        boolean keepPrevious = ctx.params().bool("keepPrevious", false);
        DatasetSettings settings = ctx.settings(DatasetSettings.class);
        URI uri = uri(ctx.params().string("url"), settings);
        String fileName = fileName(uri, name);

        Layout layout = new Layout(targetPath);
        Records records = new Records(paths.pluginDir("dataset").resolve("installed"));
        Optional<Records.Installed> installed = records.get(name);
        for (Records.Installed other : records.all()) {
            if (!other.name().equals(name) && other.target().equals(targetPath.toString())) {
                throw new CommandRefusedException("target " + targetPath + " holds data set " + Text.quote(other.name()) + "; remove it first"
                    + " or choose another target. Nothing was changed.");
            }
        }
        if (installed.isPresent()) {
            Records.Installed r = installed.get();
            if (!r.target().equals(targetPath.toString())) {
                throw new CommandRefusedException("data set " + Text.quote(name) + " is installed at " + r.target() + "; remove it first to"
                    + " install it at " + targetPath + ". Nothing was changed.");
            }
            if (r.version().equals(version)) {
                if (!r.sha256().equals(sha256)) {
                    throw new CommandRefusedException("data set " + Text.quote(name) + " version " + Text.quote(version) + " is installed with sha256 "
                        + r.sha256() + "; the same version with another sha256 (" + sha256 + ") is refused: give the new content a new version."
                        + " Nothing was changed.");
                }
                if (intact(layout, r)) {
                    ctx.output().println("data set " + name + " " + version + " is installed at " + r.target() + " -> " + r.path() + "; nothing to do");
                    Map<String, Object> data = r.toData();
                    data.put("changed", false);
                    return data;
                }
                ctx.output().println("data set " + name + " " + version + " is recorded but " + r.target() + " does not point at " + r.path()
                    + " any more: installing it again");
            }
        }
        if (Files.exists(targetPath, LinkOption.NOFOLLOW_LINKS) && !layout.managed()) {
            throw new CommandRefusedException("target " + targetPath + " exists and is not a data set installed by this agent (it is "
                + (Files.isSymbolicLink(targetPath) ? "a link to " + Files.readSymbolicLink(targetPath) : Files.isDirectory(targetPath) ? "a directory"
                : "a file") + "); move it away or choose another target. Nothing was changed.");
        }
        String expected = format.equals("auto") ? formatFromName(uri.getPath()) : format;
        if ("tar.zst".equals(expected)) zstdTools();

        Path versionDir = layout.version(version);
        Records.Installed previous = installed.orElse(null);
        if (ctx.dryRun()) {
            ctx.output().println("would download " + Downloader.display(uri) + " (sha256 " + sha256 + ")");
            ctx.output().println("would extract it (" + (expected == null ? "format from its content" : expected) + ") into " + versionDir);
            ctx.output().println("would switch " + targetPath + " -> " + layout.linkTo(versionDir));
            if (previous != null) ctx.output().println((keepPrevious ? "would keep " : "would then remove ") + "version " + previous.version() + " (" + previous.path() + ")");
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("name", name);
            data.put("version", version);
            data.put("target", targetPath.toString());
            data.put("path", versionDir.toString());
            data.put("sha256", sha256);
            data.put("url", Downloader.display(uri));
            data.put("format", expected == null ? "auto" : expected);
            data.put("previousVersion", previous == null ? null : previous.version());
            data.put("changed", true);
            return data;
        }

        createStore(layout, ctx);
        Path part = layout.part(sha256);
        Downloader.Result got;
        if (uri.isAbsolute()) {
            got = new Downloader(settings, ctx).download(uri, part, layout.partMeta(sha256));
        } else {
            ServerFiles files = server;
            if (files == null) {
                throw new CommandRefusedException("param 'url': " + Text.quote(uri.toString()) + " is a path on the agent's server, and"
                    + " this agent runs without one (offline mode); give an https URL. Nothing was changed.", ErrorCode.REFUSED);
            }
            got = new ServerDownload(settings, ctx, files).download(uri, part, layout.partMeta(sha256));
        }
        if (!got.sha256().equals(sha256)) {
            Files.deleteIfExists(part);
            Files.deleteIfExists(layout.partMeta(sha256));
            throw new CommandException("sha256 mismatch: expected " + sha256 + ", the " + got.size() + " bytes downloaded from "
                + Downloader.display(uri) + " have sha256 " + got.sha256() + ". The download was deleted; nothing was changed"
                + (previous == null ? "." : " (" + targetPath + " still points at version " + previous.version() + ")."));
        }
        ctx.output().println("downloaded " + Text.bytes(got.size()) + " in " + got.requests() + " request(s)"
            + (got.resumedFrom() > 0 ? ", resumed at byte " + got.resumedFrom() : "") + "; sha256 " + got.sha256() + " as expected");

        String actual = format.equals("auto") ? (expected != null ? expected : formatFromContent(part)) : format;
        if (actual.equals("tar.zst")) zstdTools();
        Path staging = layout.newStaging();
        Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Extractor.Stats stats;
        long[] lastProgress = {0};
        try {
            Extractor x = new Extractor(staging, new Extractor.Limits(settings.maxExtractedBytes(), settings.maxEntries()), () -> {
                if (ctx.isCancelled()) throw new java.io.InterruptedIOException("cancelled");
                long now = System.nanoTime();
                if (now - lastProgress[0] > 1_000_000_000L) {
                    lastProgress[0] = now;
                    ctx.progress(null, "extracting " + name + " " + version);
                }
            });
            stats = extract(ctx, x, actual, part, staging, layout, fileName, settings);
        } catch (Extractor.RefusedException e) {
            Layout.deleteTree(staging);
            Files.deleteIfExists(part);
            Files.deleteIfExists(layout.partMeta(sha256));
            throw new CommandRefusedException("the archive is refused: " + e.getMessage() + ". Nothing was installed"
                + (previous == null ? "" : "; " + targetPath + " still points at version " + previous.version()) + ".", ErrorCode.REFUSED);
        } catch (Exception e) {
            Layout.deleteTree(staging);
            ctx.checkCancelled();
            throw e instanceof CommandException ? e : new CommandException("extracting " + name + " " + version + " failed: " + e
                + ". Nothing was installed" + (previous == null ? "" : "; " + targetPath + " still points at version " + previous.version()) + ".", e);
        }
        ctx.output().println("extracted " + stats.files() + " file(s), " + stats.directories() + " directorie(s), " + stats.links() + " link(s), "
            + Text.bytes(stats.bytes()) + " (" + actual + ")");

        ctx.checkCancelled();
        boolean sameVersionAgain = previous != null && Path.of(previous.path()).startsWith(versionDir);
        if (sameVersionAgain) {
            // the same version installed again because its copy was damaged: the target leaves it first
            Files.deleteIfExists(targetPath);
        }
        Layout.deleteTree(versionDir); // a leftover of an install that stopped between these steps
        Files.move(staging, versionDir, StandardCopyOption.ATOMIC_MOVE);
        Path linked = actual.equals("file") ? versionDir.resolve(fileName) : versionDir;
        layout.switchTo(linked);
        ctx.output().println(targetPath + " -> " + layout.linkTo(linked));
        Files.deleteIfExists(part);
        Files.deleteIfExists(layout.partMeta(sha256));

        String kept = null;
        if (previous != null && !sameVersionAgain) {
            Path prevDir = layout.version(previous.version());
            if (keepPrevious) {
                kept = prevDir.toString();
                ctx.output().println("kept version " + previous.version() + " at " + prevDir);
            } else {
                Layout.deleteTree(prevDir);
                ctx.output().println("removed version " + previous.version() + " (" + prevDir + ")");
            }
        }
        removeOtherVersions(layout, versionDir, kept);
        Records.Installed r = new Records.Installed(name, version, sha256, targetPath.toString(), linked.toString(), actual, got.size(),
            stats.bytes(), stats.files(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), Downloader.display(uri),
            previous == null ? null : previous.version(), kept);
        records.put(r);
        Map<String, Object> data = r.toData();
        data.put("changed", true);
        data.put("resumedFrom", got.resumedFrom());
        data.put("requests", got.requests());
        data.put("previousKept", kept != null);
        return data;
    }

    private static boolean intact(Layout layout, Records.Installed r) {
        Path linked = layout.linked();
        return linked != null && linked.toString().equals(r.path()) && Files.exists(linked, LinkOption.NOFOLLOW_LINKS);
    }

    private static void createStore(Layout layout, CommandContext ctx) throws IOException {
        Path parent = layout.target.getParent();
        if (!Files.isDirectory(parent)) {
            Files.createDirectories(parent);
            ctx.output().println("created " + parent);
        }
        Files.createDirectories(layout.store);
        // extractions a stopped agent left behind; downloads stay, to be resumed
        try (DirectoryStream<Path> s = Files.newDirectoryStream(layout.store, ".staging-*")) {
            for (Path p : s) Layout.deleteTree(p);
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(layout.store, ".archive-*")) {
            for (Path p : s) Files.deleteIfExists(p);
        }
    }

    /** Removes versions that are neither the current one nor the one kept: what earlier keepPrevious installs left. */
    private static void removeOtherVersions(Layout layout, Path current, String kept) throws IOException {
        List<Path> old = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(layout.store)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") || p.equals(current) || p.toString().equals(kept)) continue;
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) old.add(p);
            }
        }
        for (Path p : old) Layout.deleteTree(p);
    }

    private Extractor.Stats extract(CommandContext ctx, Extractor x, String format, Path part, Path staging, Layout layout, String fileName,
                                    DatasetSettings settings) throws Exception {
        switch (format) {
            case "file": {
                Path dest = x.resolve(fileName);
                if (Files.size(part) > settings.maxExtractedBytes()) {
                    throw new Extractor.RefusedException("the file is larger than max_extracted_bytes (" + settings.maxExtractedBytes() + " bytes)");
                }
                Files.move(part, dest, StandardCopyOption.ATOMIC_MOVE); // same filesystem: no copy
                Files.setPosixFilePermissions(dest, PosixFilePermissions.fromString("rw-r--r--"));
                return new Extractor.Stats(1, 0, 0, Files.size(dest));
            }
            case "zip":
                return x.zip(part);
            case "tar":
                try (InputStream in = limited(Files.newInputStream(part), settings)) {
                    return x.tar(in);
                }
            case "tar.gz":
                try (InputStream in = limited(new GZIPInputStream(Files.newInputStream(part), 64 * 1024), settings)) {
                    return x.tar(in);
                } catch (java.util.zip.ZipException e) {
                    throw new IOException("not a gzip stream: " + e.getMessage(), e);
                }
            case "tar.zst": {
                Path tar = layout.store.resolve(".archive-" + java.util.UUID.randomUUID() + ".tar");
                try {
                    unzstd(ctx, part, tar, settings);
                    try (InputStream in = Files.newInputStream(tar)) {
                        return x.tar(in);
                    }
                } finally {
                    Files.deleteIfExists(tar);
                }
            }
            default:
                throw new IllegalStateException(format);
        }
    }

    /**
     * The decompressed stream, cut off where no archive within the limits could reach (the data, a header per entry,
     * padding): a stream of zeros that decompresses forever stops here instead of running for hours.
     */
    private static InputStream limited(InputStream in, DatasetSettings s) {
        long cap = s.maxExtractedBytes() + Math.min(s.maxEntries(), Long.MAX_VALUE / 2048) * 2048 + (16L << 20);
        return new BufferedInputStream(new InputStream() {
            private long read;

            @Override
            public int read() throws IOException {
                byte[] b = new byte[1];
                return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = in.read(b, off, len);
                if (n > 0 && (read += n) > cap) {
                    throw new Extractor.RefusedException("the archive decompresses to more than " + cap + " bytes, beyond what"
                        + " max_extracted_bytes and max_entries allow");
                }
                return n;
            }

            @Override
            public void close() throws IOException { in.close(); }
        }, 64 * 1024);
    }

    /** zstd -d into a file, its size capped by the kernel (prlimit's RLIMIT_FSIZE): a bomb is killed, not written out. */
    private static void unzstd(CommandContext ctx, Path zst, Path tar, DatasetSettings s) throws Exception {
        Path[] tools = zstdTools();
        long cap = s.maxExtractedBytes() + Math.min(s.maxEntries(), Long.MAX_VALUE / 2048) * 2048 + (16L << 20);
        List<String> argv = List.of(tools[1].toString(), "--fsize=" + cap, "--", tools[0].toString(), "-d", "-q", "-f", "--no-progress",
            "-o", tar.toString(), zst.toString());
        ctx.output().println("$ " + String.join(" ", argv));
        ProcessResult r = ctx.exec(ProcessSpec.of(argv).capture());
        if (r.exitCode() == EXIT_FILE_TOO_LARGE || (Files.exists(tar) && Files.size(tar) >= cap)) {
            throw new Extractor.RefusedException("the archive decompresses to more than " + cap + " bytes, beyond what max_extracted_bytes"
                + " and max_entries allow");
        }
        if (r.exitCode() != 0) {
            String said = r.output().strip().lines().reduce((a, b) -> b).orElse("(no output)");
            throw new CommandException("zstd -d failed (exit code " + r.exitCode() + "): " + Text.quote(said) + ". Nothing was installed.");
        }
    }

    /** @return zstd and prlimit @throws CommandRefusedException naming the packages if either is missing */
    static Path[] zstdTools() throws CommandRefusedException {
        Path zstd = Layout.program("zstd");
        Path prlimit = Layout.program("prlimit");
        if (zstd == null || prlimit == null) {
            throw new CommandRefusedException("format tar.zst needs the programs zstd (package zstd) and prlimit (package util-linux), and "
                + (zstd == null ? "zstd" : "prlimit") + " is not installed (looked in /usr/bin, /bin, /usr/sbin, /sbin, /usr/local/bin)."
                + " Nothing was changed.", ErrorCode.REFUSED);
        }
        return new Path[] {zstd, prlimit};
    }

    static URI uri(String url, DatasetSettings settings) throws InvalidParamException {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new InvalidParamException("url", Text.quote(url) + " is not a URL: " + e.getReason());
        }
        if (u.getScheme() == null) {
            // docs/protocol.md §7.1: a relative url names a file on the agent's server, fetched through the agent with its
            // own TLS settings and credentials
            if (u.getRawPath() == null || !u.getRawPath().startsWith("/") || u.getRawAuthority() != null) {
                throw new InvalidParamException("url", Text.quote(url) + " is neither an https URL nor a path on the agent's server"
                    + " (starting with '/')");
            }
            return u;
        }
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("http") && !settings.insecureHttp()) {
            throw new InvalidParamException("url", Text.quote(url) + " is plain http; data sets are downloaded over https (set"
                + " plugins.settings.dataset.insecure_http for development only)");
        }
        if (!scheme.equals("https") && !scheme.equals("http")) {
            throw new InvalidParamException("url", Text.quote(url) + " is not an https URL");
        }
        if (u.getHost() == null) throw new InvalidParamException("url", Text.quote(url) + " names no host");
        if (u.getRawUserInfo() != null) {
            throw new InvalidParamException("url", "the url holds credentials (user:password@); they are not sent, and do not belong in a command");
        }
        return u;
    }

    /** @return the URL's last path segment if it is a plain file name, else the data set's name */
    static String fileName(URI uri, String name) {
        String path = uri.getRawPath();
        if (path != null && !path.isEmpty() && !path.endsWith("/")) {
            String last = URLDecoder.decode(path.substring(path.lastIndexOf('/') + 1), StandardCharsets.UTF_8);
            if (last.matches("[A-Za-z0-9][A-Za-z0-9._+-]{0,200}")) return last;
        }
        return name;
    }

    /** @return the format a file name says, or null */
    static String formatFromName(String path) {
        String p = path == null ? "" : path.toLowerCase(Locale.ROOT);
        if (p.endsWith(".tar.gz") || p.endsWith(".tgz")) return "tar.gz";
        if (p.endsWith(".tar.zst") || p.endsWith(".tzst")) return "tar.zst";
        if (p.endsWith(".tar")) return "tar";
        if (p.endsWith(".zip")) return "zip";
        return null;
    }

    /** @return the format the file's first bytes say: gzip, zstd, zip or tar magic; anything else is a plain file */
    static String formatFromContent(Path file) throws IOException {
        byte[] head = new byte[512];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) return "tar.gz";
        if (n >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f && (head[3] & 0xff) == 0xfd) return "tar.zst";
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return "zip";
        if (n >= 262 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a' && head[261] == 'r') return "tar";
        return "file";
    }
}
