package plugin.backup.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
import agent.api.InvalidParamException;
import agent.api.ProcessResult;
import agent.api.ServerFiles;
import agent.api.SettingsType;

/**
 * {@code backup.restore}: {@code archive} (a file name of the destination, an absolute path, or a sha256),
 * {@code target} (absolute; created if missing), {@code overwrite} (default false), {@code devices} (default false).
 * The archive is checked against its manifest's sha256, then listed by tar and checked entry by entry
 * ({@link RestorePlan}); only an archive that cannot write outside the target is extracted, by tar, with owners,
 * modes, mtimes, xattrs and ACLs. A dry run lists what would be written.
 */
@Component
@Actions("backup.restore")
@ConcurrencyKey("backup")
@DryRun
@SettingsType(BackupSettings.class)
public final class BackupRestorer implements CommandHandler {
    @Reference
    AgentPaths paths;

    /** The agent's server, when it has one (not in offline mode). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServerFiles server;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        boolean fromServer = Requests.toServer(ctx);
        Destination.Stored s;
        if (fromServer) {
            String ref = Requests.archiveRef(ctx);
            if (ref.startsWith("/")) {
                throw new agent.api.InvalidParamException("archive", "names a backup of the server by its file name or sha256, got "
                    + Text.quote(ref));
            }
            s = ServerBackups.fetch(ctx, ServerBackups.require(server), paths, ref);
        } else {
            Destination local = Requests.destination(ctx, paths, ctx.settings(BackupSettings.class));
            String ref = Requests.archiveRef(ctx);
            java.util.Optional<Destination.Stored> found = local.find(ref);
            ServerFiles files = server;
            if (found.isEmpty() && files != null && Destination.SHA256.matcher(ref).matches()) {
                // a sha256 names a backup wherever it is kept: the server's copy when the host has none
                ctx.output().println("no archive with sha256 " + ref + " in " + local.dir() + ": asking the server");
                s = ServerBackups.fetch(ctx, files, paths, ref);
                fromServer = true;
            } else {
                s = found.orElseThrow(() -> new CommandRefusedException("there is no archive " + Text.quote(ref)
                    + (ref.startsWith("/") ? "" : " in " + local.dir()), agent.api.ErrorCode.NOT_FOUND));
            }
        }
        Path target = Requests.absolute("target", ctx.params().string("target"));
        boolean overwrite = ctx.params().bool("overwrite", false);
        boolean devices = ctx.params().bool("devices", false);
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw new InvalidParamException("target", "must be a directory, but " + target + " is not one");
        }
        GnuTar tar = GnuTar.find(ctx);
        List<String> warnings = new ArrayList<>();
        // the sha256 is read beside tar's listing: both read the whole archive, on two cores
        java.util.concurrent.CompletableFuture<String> sha = s.manifest() == null ? null
            : FollowingDigest.beside("outpost-backup-sha256", () -> Destination.sha256(s.archive(), false, ctx::isCancelled));
        if (s.manifest() == null) warnings.add(s.archive() + " has no manifest: its sha256 was not checked");
        Path work = paths.pluginDir("backup");
        Path listing = work.resolve("restore-list-" + ctx.command().id() + ".index");
        Path index = work.resolve("restore-" + ctx.command().id() + ".index");
        try {
            // names as stored (--absolute-names), so that the check sees what tar would otherwise rewrite
            ProcessResult l = run(ctx, tar, List.of("--list", "--verbose", "--absolute-names", "--numeric-owner",
                "--quoting-style=c", "--file=" + s.archive(), "--index-file=" + listing));
            if (sha != null) {
                String got;
                try {
                    got = sha.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new CommandException("cannot read " + s.archive() + ": " + e.getCause().getMessage()
                        + ". Nothing was written.");
                }
                if (!got.equals(s.manifest().sha256())) {
                    throw new CommandException(s.archive() + " is corrupt: its sha256 is " + got + ", its manifest says "
                        + s.manifest().sha256() + ". Nothing was written.");
                }
            }
            if (l.exitCode() != 0) {
                throw new CommandException("tar cannot read " + s.archive() + " (exit code " + l.exitCode() + "): "
                    + Text.some(BackupCreator.messages(l.output()), 5) + ". Nothing was written.");
            }
            RestorePlan plan = RestorePlan.check(listing, target, devices);
            if (plan.refused()) {
                throw new CommandRefusedException("the archive " + s.archive() + " is refused, nothing was written: "
                    + plan.problemCount + " entr" + (plan.problemCount == 1 ? "y" : "ies") + " could write outside "
                    + target + " or cannot be restored safely: " + Text.some(plan.problems, 10)
                    + (plan.problemCount > plan.problems.size() ? " (" + plan.problemCount + " in all)" : ""));
            }
            if (!overwrite && plan.conflictCount > 0) {
                throw new CommandRefusedException(plan.conflictCount + " of the archive's entries already exist in " + target
                    + " and overwrite is false: " + Text.some(plan.conflicts, 10) + ". Nothing was written.");
            }
            if (ctx.dryRun()) return dryRun(s, target, plan, overwrite);

            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(target.getParent());
                Files.createDirectory(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            List<String> extract = new ArrayList<>(List.of("--extract", "--file=" + s.archive(), "--directory=" + target,
                "--same-owner", "--same-permissions"));
            extract.addAll(GnuTar.metadataOptions());
            if (!overwrite) extract.add("--keep-old-files"); // a file that appeared since the check is not replaced
            extract.addAll(List.of("--verbose", "--verbose", "--index-file=" + index, "--quoting-style=c"));
            ctx.output().println("$ " + String.join(" ", tar.argv(extract)));
            ProcessResult r;
            try (TarProgress p = new TarProgress(ctx, index, java.util.concurrent.CompletableFuture.completedFuture(plan.totals), "restored").start()) {
                r = run(ctx, tar, extract);
            }
            List<String> said = BackupCreator.messages(r.output());
            said.forEach(ctx.output()::println);
            if (r.exitCode() != 0) {
                throw new CommandException("tar failed to restore " + s.archive() + " into " + target + " (exit code "
                    + r.exitCode() + "): " + Text.some(said, 5) + ". The target may be partly restored.");
            }
            warnings.addAll(said);
            if (fromServer) ServerBackups.forget(s); // the server keeps it
            ctx.progress(100, String.format(java.util.Locale.ROOT, "%,d entries restored", plan.totals.entries));
            ctx.output().println(String.format(java.util.Locale.ROOT, "restored %,d entries (%s of files) into %s",
                plan.totals.entries, Text.bytes(plan.totals.fileBytes), target));
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("archive", fromServer ? s.fileName() : s.archive().toString());
            if (fromServer) d.put("source", Requests.SERVER);
            d.put("target", target.toString());
            d.put("files", plan.totals.entries);
            d.put("bytes", plan.totals.fileBytes);
            d.put("overwritten", plan.conflictCount);
            d.put("warnings", warnings);
            d.put("changed", true);
            return d;
        } finally {
            Files.deleteIfExists(listing);
            Files.deleteIfExists(index);
        }
    }

    private static Map<String, Object> dryRun(Destination.Stored s, Path target, RestorePlan plan, boolean overwrite) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("changed", plan.totals.entries > 0);
        d.put("archive", s.archive().toString());
        d.put("target", target.toString());
        d.put("files", plan.totals.entries);
        d.put("bytes", plan.totals.fileBytes);
        d.put("entries", plan.listed);
        d.put("entriesTruncated", plan.totals.entries > plan.listed.size());
        d.put("wouldOverwrite", overwrite ? plan.conflicts : List.of());
        return d;
    }

    private static ProcessResult run(CommandContext ctx, GnuTar tar, List<String> args)
            throws CommandException, CommandCancelledException {
        try {
            return ctx.exec(GnuTar.spec(tar.argv(args)).capture());
        } catch (IOException e) {
            throw new CommandException("cannot run tar: " + e.getMessage() + ". Nothing was written.");
        }
    }
}
