package plugin.backup.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.Actions;
import agent.api.AgentPaths;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.DryRun;
import agent.api.ErrorCode;
import agent.api.ProcessResult;
import agent.api.SettingsType;

/**
 * {@code backup.verify} ({@code archive}, {@code destination}): re-reads the archive and checks its sha256 against its
 * manifest, then has tar read it to the end (decompressing it: gzip and zstd check their own checksums) and checks
 * that it holds as many entries as the manifest says. A mismatch fails the command. Reads only.
 */
@Component
@Actions("backup.verify")
@DryRun
@SettingsType(BackupSettings.class)
public final class BackupVerifier implements CommandHandler {
    @Reference
    AgentPaths paths;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Destination dest = Requests.destination(ctx, paths, ctx.settings(BackupSettings.class));
        Destination.Stored s = Requests.archive(ctx, dest);
        if (s.manifest() == null) {
            throw new CommandException(s.archive() + " cannot be verified: " + s.problem() + ", so there is no sha256 to"
                + " check it against", ErrorCode.NOT_FOUND);
        }
        GnuTar tar = GnuTar.find(ctx);
        Map<String, Object> data = check(ctx, tar, s, paths.pluginDir("backup"));
        if (ctx.dryRun()) data.put("changed", false);
        return data;
    }

    /**
     * Checks an archive against its manifest.
     *
     * @return {@code {archive, sha256, files, sizeBytes, ok: true}}
     * @throws CommandException naming what does not match
     */
    static Map<String, Object> check(CommandContext ctx, GnuTar tar, Destination.Stored s, Path work)
            throws CommandException, agent.api.CommandCancelledException, IOException {
        Manifest m = s.manifest();
        long size = Files.size(s.archive());
        ctx.progress(null, "reading " + s.archive() + " (" + Text.bytes(size) + ")");
        // the sha256 is read beside tar's reading of the archive: two cores, one pass of the disk's time
        java.util.concurrent.CompletableFuture<String> hashing = FollowingDigest.beside("outpost-backup-sha256",
            () -> Destination.sha256(s.archive(), false, ctx::isCancelled));
        Path index = work.resolve("verify-" + ctx.command().id() + ".index");
        try {
            ProcessResult r;
            try {
                r = ctx.exec(GnuTar.spec(tar.argv(List.of("--list", "--verbose", "--file=" + s.archive(),
                    "--index-file=" + index, "--quoting-style=c"))).capture());
            } catch (IOException e) {
                throw new CommandException("cannot run tar: " + e.getMessage());
            }
            String sha;
            try {
                sha = hashing.get();
            } catch (InterruptedException e) {
                throw new agent.api.CommandCancelledException("stopped");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new CommandException("cannot read " + s.archive() + ": " + e.getCause().getMessage());
            }
            if (!sha.equals(m.sha256())) {
                throw new CommandException(s.archive() + " is corrupt: its sha256 is " + sha + ", its manifest says "
                    + m.sha256() + " (" + size + " bytes, the manifest says " + m.sizeBytes() + ")");
            }
            if (r.exitCode() != 0) {
                throw new CommandException(s.archive() + " has the sha256 of its manifest, but tar cannot read it (exit"
                    + " code " + r.exitCode() + "): " + Text.some(BackupCreator.messages(r.output()), 5));
            }
            Listing.Totals t = Listing.totals(index);
            if (t.entries != m.files()) {
                throw new CommandException(s.archive() + " holds " + t.entries + " entries, its manifest says " + m.files());
            }
            ctx.output().println(s.archive() + ": sha256 " + sha + " as in its manifest; " + t.entries + " entries read");
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("archive", s.archive().toString());
            d.put("sha256", sha);
            d.put("sizeBytes", size);
            d.put("files", t.entries);
            d.put("ok", true);
            return d;
        } finally {
            Files.deleteIfExists(index);
        }
    }
}
