package plugin.backup.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.CommandRefusedException;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.ErrorCode;
import agent.api.InvalidParamException;
import agent.api.ProcessResult;
import agent.api.ServerFiles;
import agent.api.SettingsType;

/**
 * {@code backup.create}: {@code paths} (absolute), {@code exclude} (glob patterns), {@code destination},
 * {@code name}, {@code compression} (gzip, zstd, none), {@code keep}. GNU tar writes a POSIX (pax) archive with
 * owners, modes, mtimes to the nanosecond, links, empty directories, sparse files, xattrs and ACLs, under a temporary
 * name; then its sha256 is taken, it is fsync'd and renamed, and its manifest is written beside it the same way.
 */
@Component
@Actions("backup.create")
@ConcurrencyKey("backup")
@DryRun
@SettingsType(BackupSettings.class)
public final class BackupCreator implements CommandHandler {
    @Reference
    AgentPaths paths;

    /** The agent's server, when it has one (not in offline mode). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServerFiles server;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        BackupSettings settings = ctx.settings(BackupSettings.class);
        boolean toServer = Requests.toServer(ctx);
        ServerFiles files = toServer ? ServerBackups.require(server) : null;
        // an archive for the server is written like a local one, into a spool, then sent
        Destination dest = toServer ? ServerBackups.spool(paths) : Requests.destination(ctx, paths, settings);
        String name = ctx.params().optionalString("name").orElse("backup");
        if (!Destination.NAME.matcher(name).matches()) {
            throw new InvalidParamException("name", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter"
                + " or digit, got " + Text.quote(name));
        }
        Compression compression = Compression.valueOf(ctx.params().oneOf("compression", Set.of("gzip", "zstd", "none"),
            "gzip").toUpperCase(java.util.Locale.ROOT));
        int keep = (int) ctx.params().integer("keep", 0, 10000, settings.keep());
        List<Path> sources = sources(ctx, dest);
        List<String> exclude = ctx.params().strings("exclude");
        for (String x : exclude) {
            if (x.isEmpty() || x.indexOf('\0') >= 0 || x.indexOf('\n') >= 0 || x.equals("/")) {
                throw new InvalidParamException("exclude", "patterns must be non-empty lines other than '/', got " + Text.quote(x));
            }
        }
        if (compression.program != null && GnuTar.program(compression.program).isEmpty()) {
            throw new CommandRefusedException("param 'compression': " + compression.wireName() + " needs the "
                + compression.program + " program, which is not installed (package " + compression.pkg + ")");
        }
        GnuTar tar = GnuTar.find(ctx);
        List<String> select = selection(dest, sources, exclude);

        Path work = paths.pluginDir("backup");
        Path scanIndex = work.resolve("scan-" + ctx.command().id() + ".index");
        Path index = work.resolve("create-" + ctx.command().id() + ".index");
        Path tmp = null;
        FollowingDigest digest = null;
        java.util.concurrent.CompletableFuture<Listing.Totals> totals = null;
        try {
            // a pass that reads no file content (tar skips it for /dev/null): what the archive will hold, for a dry run,
            // and the totals of the real run's progress, counted beside it
            List<String> scan = new ArrayList<>(List.of("--create", "--file=/dev/null", "--verbose", "--verbose",
                "--index-file=" + scanIndex, "--quoting-style=c"));
            scan.addAll(select);
            Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            String archiveName = Destination.archiveName(name, now, compression);
            if (ctx.dryRun()) {
                ProcessResult s = run(ctx, tar, scan);
                if (s.exitCode() > 1) {
                    throw new CommandException("tar could not read what to back up (exit code " + s.exitCode() + "): "
                        + Text.some(messages(s.output()), 5) + ". Nothing was written.");
                }
                Map<String, Object> plan = dryRun(dest, archiveName, sources, exclude, compression, Listing.totals(scanIndex),
                    toServer ? 0 : keep, name, scanIndex);
                if (toServer) {
                    plan.put("archive", archiveName);
                    plan.put("destination", Requests.SERVER);
                    plan.put("waiting", dest.list().stream().filter(w -> w.manifest() != null).map(Destination.Stored::fileName).toList());
                }
                return plan;
            }
            totals = FollowingDigest.beside("outpost-backup-scan", () -> {
                ProcessResult s = run(ctx, tar, scan);
                if (s.exitCode() > 1) throw new IOException("the counting pass failed: " + Text.some(messages(s.output()), 3));
                return Listing.totals(scanIndex);
            });

            dest.create();
            dest.removeTemporaries();
            tmp = dest.temporary(archiveName);
            List<String> create = new ArrayList<>(List.of("--create", "--file=" + tmp, "--format=posix", "--sparse"));
            create.addAll(GnuTar.metadataOptions());
            if (compression.tarOption != null) create.add(compression.tarOption);
            create.addAll(List.of("--verbose", "--verbose", "--index-file=" + index, "--quoting-style=c"));
            create.addAll(select);
            ctx.output().println("$ " + String.join(" ", tar.argv(create)));
            digest = FollowingDigest.follow(tmp);
            ProcessResult r;
            try (TarProgress p = new TarProgress(ctx, index, totals, "archived").start()) {
                r = run(ctx, tar, create);
            }
            List<String> said = messages(r.output());
            said.forEach(ctx.output()::println);
            if (r.exitCode() > 1) {
                throw new CommandException("tar failed (exit code " + r.exitCode() + "): " + Text.some(said, 5)
                    + ". No archive was kept.");
            }
            Listing.Totals written = Listing.totals(index);
            ctx.checkCancelled();
            String sha256 = digest.finish();
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Path archive = dest.dir().resolve(archiveName);
            Files.move(tmp, archive, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
            Destination.syncDirectory(dest.dir());
            Manifest m = new Manifest(name, archiveName, now.toString(), hostname(), sources.stream().map(Path::toString).toList(),
                exclude, compression.wireName(), written.entries, written.fileBytes, Files.size(archive), sha256, said,
                tar.version());
            Destination.writeAtomically(Destination.manifestOf(archive), m.toJson());
            ctx.output().println(archive + ": " + String.format(java.util.Locale.ROOT, "%,d", written.entries) + " entries, "
                + Text.bytes(written.fileBytes) + " of files, " + Text.bytes(m.sizeBytes()) + " archive, sha256 " + sha256);

            if (toServer) {
                List<Map<String, Object>> sent = ServerBackups.send(ctx, files, dest);
                ctx.progress(100, String.format(java.util.Locale.ROOT, "%,d entries archived and sent to the server", written.entries));
                Map<String, Object> data = new LinkedHashMap<>(m.toData());
                data.put("destination", Requests.SERVER);
                data.put("sent", sent); // this archive, and any an earlier backup for the server could not send
                data.put("changed", true);
                return data;
            }
            List<String> pruned = new ArrayList<>();
            if (keep > 0) {
                for (Destination.Stored old : dest.beyond(name, keep)) {
                    dest.delete(old);
                    pruned.add(old.fileName());
                    ctx.output().println("deleted " + old.archive() + " (keep " + keep + " of '" + name + "')");
                }
            }
            ctx.progress(100, String.format(java.util.Locale.ROOT, "%,d entries archived", written.entries));
            Map<String, Object> data = new LinkedHashMap<>(m.toData());
            data.put("archive", archive.toString());
            data.put("manifest", Destination.manifestOf(archive).toString());
            data.put("pruned", pruned);
            data.put("changed", true);
            return data;
        } finally {
            if (totals != null) {
                try {
                    totals.join(); // the counting tar ends before its index file is removed (on a stop, it is killed)
                } catch (RuntimeException e) {
                    // only progress needed it
                }
            }
            if (digest != null) digest.close();
            if (tmp != null) Files.deleteIfExists(tmp);
            Files.deleteIfExists(scanIndex);
            Files.deleteIfExists(index);
        }
    }

    private static ProcessResult run(CommandContext ctx, GnuTar tar, List<String> args)
            throws CommandException, CommandCancelledException {
        try {
            return ctx.exec(GnuTar.spec(tar.argv(args)).capture());
        } catch (IOException e) {
            throw new CommandException("cannot run tar: " + e.getMessage() + ". Nothing was written.");
        }
    }

    /** @return tar's messages, one per line, each starting "tar: " whatever path tar was run by */
    static List<String> messages(String output) {
        return output == null ? List.of() : output.lines().map(String::strip).filter(l -> !l.isEmpty())
            .map(l -> l.replaceFirst("^/\\S*/tar: ", "tar: ")).toList();
    }

    /** The paths to back up: absolute, existing, not inside another one, not the destination's own archives. */
    private static List<Path> sources(CommandContext ctx, Destination dest) throws CommandException {
        List<String> given = ctx.params().strings("paths");
        if (given.isEmpty()) throw new InvalidParamException("paths", "is required: the absolute paths to back up");
        Path destReal = Destination.realOrSelf(dest.dir());
        List<Path> out = new ArrayList<>();
        for (String g : given) {
            Path p = Requests.absolute("paths", g);
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new CommandRefusedException("param 'paths': " + Text.quote(g) + " does not exist", ErrorCode.NOT_FOUND);
            }
            if (Destination.realOrSelf(p).startsWith(destReal)) {
                throw new InvalidParamException("paths", Text.quote(g) + " is inside the destination " + dest.dir()
                    + ": a backup of the backups");
            }
            for (Path o : out) {
                if (p.startsWith(o) || o.startsWith(p)) {
                    throw new InvalidParamException("paths", Text.quote(g) + " overlaps " + Text.quote(o.toString())
                        + ": give each part once");
                }
            }
            out.add(p);
        }
        return out;
    }

    /**
     * What tar reads: the paths relative to {@code /} (the archive holds relative names, so a restore goes wherever
     * {@code target} says), minus the destination and what {@code exclude} names. A pattern that starts with '/' is
     * anchored at the root; any other matches at any depth; {@code *}, {@code ?} and {@code [...]} are wildcards and
     * {@code *} also matches '/'. An excluded directory is not entered.
     */
    static List<String> selection(Destination dest, List<Path> sources, List<String> exclude) {
        List<String> a = new ArrayList<>(List.of("--directory=/"));
        String destRel = relative(Destination.realOrSelf(dest.dir()));
        if (!destRel.equals(".")) a.addAll(List.of("--anchored", "--no-wildcards", "--exclude=" + destRel));
        for (String x : exclude) {
            if (x.startsWith("/")) a.addAll(List.of("--anchored", "--wildcards", "--exclude=" + x.replaceFirst("^/+", "")));
            else a.addAll(List.of("--no-anchored", "--wildcards", "--exclude=" + x));
        }
        a.add("--");
        for (Path p : sources) a.add(relative(p));
        return a;
    }

    private static String relative(Path absolute) {
        String s = absolute.toString().replaceFirst("^/+", "");
        return s.isEmpty() ? "." : s;
    }

    private Map<String, Object> dryRun(Destination dest, String archiveName, List<Path> sources, List<String> exclude,
            Compression compression, Listing.Totals total, int keep, String name, Path scanIndex) throws IOException {
        List<String> entries = new ArrayList<>();
        Listing.read(scanIndex, e -> {
            if (entries.size() < 1000) entries.add(e.name());
        });
        List<String> wouldPrune = new ArrayList<>();
        if (keep > 0) {
            // the new archive counts as one of the newest
            for (Destination.Stored old : dest.beyond(name, keep - 1)) wouldPrune.add(old.fileName());
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("changed", true);
        d.put("archive", dest.dir().resolve(archiveName).toString());
        d.put("paths", sources.stream().map(Path::toString).toList());
        d.put("exclude", exclude);
        d.put("compression", compression.wireName());
        d.put("files", total.entries);
        d.put("bytes", total.fileBytes);
        d.put("entries", entries);
        d.put("entriesTruncated", total.entries > entries.size());
        d.put("wouldPrune", wouldPrune);
        return d;
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return null;
        }
    }
}
