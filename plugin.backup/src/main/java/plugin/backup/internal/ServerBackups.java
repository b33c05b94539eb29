package plugin.backup.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import agent.api.AgentPaths;
import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;
import agent.api.ServerFiles;

/**
 * Backups kept by the agent's server (docs/protocol.md §7.1), what makes a backup survive the loss of the host. An
 * archive for the server is written into a spool directory like any other, then sent with the agent's own
 * credentials, resumably, and deleted from the spool once the server has checked its sha256; one whose sending
 * failed stays and is sent first by the next backup for the server. A restore fetches the archive (resuming a
 * dropped download) into a directory of its own, checks it against the server's record, and restores it as a local
 * one.
 */
final class ServerBackups {
    static final String PATH = "/agent/v1/backups";
    /** How many requests one archive's sending or fetching may cost through dropped connections. */
    static final int ATTEMPTS = 6;
    /** The protocol's bound of {@code Upload-Meta}. */
    static final int MAX_META_BYTES = 4096;
    private static final long MAX_LIST_BYTES = 16L << 20;

    private ServerBackups() {}

    /** @return the service, or a refusal saying why there is none */
    static ServerFiles require(ServerFiles files) throws CommandRefusedException {
        if (files == null) {
            throw new CommandRefusedException("param 'destination': \"server\" needs the agent's server, and this agent runs"
                + " without one (offline mode); back up to a local directory instead. Nothing was changed.", ErrorCode.REFUSED);
        }
        return files;
    }

    /** @return the spool of archives on their way to the server */
    static Destination spool(AgentPaths paths) { return new Destination(paths.pluginDir("backup").resolve("to-server")); }

    /**
     * Sends every complete archive of the spool to the server, oldest first, and deletes each one the server holds.
     *
     * @return per archive sent: its name, size, sha256, where the upload resumed and the server's record
     * @throws CommandException if one cannot be sent; it and those after it stay in the spool
     */
    static List<Map<String, Object>> send(CommandContext ctx, ServerFiles files, Destination spool)
            throws CommandException, CommandCancelledException, IOException {
        List<Destination.Stored> waiting = new ArrayList<>(spool.list());
        java.util.Collections.reverse(waiting); // oldest first
        List<Map<String, Object>> sent = new ArrayList<>();
        for (Destination.Stored s : waiting) {
            if (s.manifest() == null) continue; // a backup that did not finish: never sent
            ctx.checkCancelled();
            String path = PATH + "/" + s.fileName();
            long size = Files.size(s.archive());
            ctx.output().println("sending " + s.fileName() + " (" + Text.bytes(size) + ") to the server");
            ServerFiles.Upload u;
            try {
                u = files.upload(path, s.archive(), s.manifest().sha256(), meta(s.manifest()), ATTEMPTS,
                    at -> ctx.progress(size == 0 ? 100 : (int) Math.min(99, at * 100 / size), "sent " + Text.bytes(at) + " of "
                        + Text.bytes(size) + " to the server"));
            } catch (ServerFiles.ServerFileException e) {
                throw new CommandException("the server refused " + s.fileName() + ": " + e.getMessage() + ". It stays in "
                    + spool.dir() + " and is sent again by the next backup for the server.");
            } catch (IOException e) {
                throw new CommandException("cannot send " + s.fileName() + " to the server: " + e.getMessage() + ". It stays in "
                    + spool.dir() + " and the next backup for the server sends it first, from where it stopped.");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandCancelledException("cancelled while sending " + s.fileName() + "; the server keeps what arrived");
            }
            Object record;
            try {
                record = Json.parse(u.record());
            } catch (IllegalArgumentException e) {
                record = u.record();
            }
            ctx.output().println("the server holds " + s.fileName() + (u.resumedFrom() > 0 ? " (resumed at byte " + u.resumedFrom() + ")" : "")
                + " after " + u.requests() + " request(s); deleted from the spool");
            spool.delete(s);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("archive", s.fileName());
            m.put("sizeBytes", size);
            m.put("sha256", s.manifest().sha256());
            m.put("resumedFrom", u.resumedFrom());
            m.put("requests", u.requests());
            m.put("record", record);
            sent.add(m);
        }
        return sent;
    }

    /**
     * @return the manifest as the upload's {@code Upload-Meta}: whole when it fits the protocol's 4 KiB, else without
     *         tar's warnings, then with only as many paths as fit ({@code pathsOmitted} says how many are left out)
     */
    static String meta(Manifest m) {
        Map<String, Object> d = m.toData();
        String json = Json.write(d);
        if (json.getBytes(StandardCharsets.UTF_8).length <= MAX_META_BYTES) return json;
        d.put("warnings", List.of());
        d.put("exclude", List.of());
        List<?> paths = (List<?>) d.get("paths");
        for (int keep = paths.size(); keep >= 0; keep--) {
            d.put("paths", paths.subList(0, keep));
            d.put("pathsOmitted", paths.size() - keep);
            json = Json.write(d);
            if (json.getBytes(StandardCharsets.UTF_8).length <= MAX_META_BYTES) return json;
        }
        return null; // a manifest of long names alone: the archive goes without it, the server's record has the rest
    }

    /** @return this agent's backups as the server lists them, newest first */
    static List<Map<String, Object>> list(ServerFiles files) throws CommandException, IOException {
        byte[] body;
        try (ServerFiles.Download d = files.open(PATH, 0, null); InputStream in = d.body()) {
            body = in.readNBytes((int) MAX_LIST_BYTES + 1);
        } catch (ServerFiles.ServerFileException e) {
            throw new CommandException("the server did not list this agent's backups: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while listing the server's backups");
        }
        if (body.length > MAX_LIST_BYTES) throw new CommandException("the server's list of backups is larger than 16 MiB");
        Object doc;
        try {
            doc = Json.parse(new String(body, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new CommandException("the server's list of backups is not JSON: " + e.getMessage());
        }
        if (!(doc instanceof Map<?, ?> m) || !(m.get("backups") instanceof List<?> l)) {
            throw new CommandException("the server's list of backups has no 'backups' list");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof Map<?, ?> r) || !(r.get("name") instanceof String) || !(r.get("sha256") instanceof String)) {
                throw new CommandException("the server's list of backups holds an entry without name and sha256: " + o);
            }
            Map<String, Object> rec = new LinkedHashMap<>();
            r.forEach((k, v) -> rec.put(String.valueOf(k), v));
            out.add(rec);
        }
        return out;
    }

    /**
     * Fetches one of this agent's backups from the server into {@code <plugin dir>/from-server}, resuming a download
     * that a dropped connection or a stopped agent left, and checks it against the server's record.
     *
     * @param ref the archive's file name or its sha256
     * @return the local copy, with the manifest the server kept (written beside it)
     */
    static Destination.Stored fetch(CommandContext ctx, ServerFiles files, AgentPaths paths, String ref)
            throws CommandException, CommandCancelledException, IOException {
        Map<String, Object> rec = null;
        for (Map<String, Object> r : list(files)) {
            if (ref.equals(r.get("name")) || ref.equals(r.get("sha256"))) {
                rec = r;
                break;
            }
        }
        if (rec == null) {
            throw new CommandRefusedException("the server holds no backup " + Text.quote(ref) + " of this agent (backup.list"
                + " with destination \"server\" lists those it holds)", ErrorCode.NOT_FOUND);
        }
        String name = (String) rec.get("name");
        String sha256 = (String) rec.get("sha256");
        if (!Destination.isArchiveName(name) || !Destination.SHA256.matcher(sha256).matches()) {
            throw new CommandException("the server's record of " + Text.quote(name) + " is not one of this plugin's archives");
        }
        Destination dir = new Destination(paths.pluginDir("backup").resolve("from-server"));
        dir.create();
        Path archive = dir.dir().resolve(name);
        Path part = dir.dir().resolve(".download-" + name);
        if (!(Files.isRegularFile(archive, LinkOption.NOFOLLOW_LINKS) && Destination.sha256(archive, false).equals(sha256))) {
            download(ctx, files, PATH + "/" + name, part, sha256);
            Files.move(part, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Destination.syncDirectory(dir.dir());
        }
        Object meta = rec.get("meta");
        if (meta instanceof Map<?, ?>) {
            Destination.writeAtomically(Destination.manifestOf(archive), Json.write(meta).getBytes(StandardCharsets.UTF_8));
        }
        Destination.Stored s = dir.find(name).orElseThrow(() -> new IOException(archive + " vanished"));
        if (s.manifest() == null || !s.manifest().sha256().equals(sha256)) {
            // the record's sha256 was checked on arrival at the server and again here: the manifest is the server's
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("format", Manifest.FORMAT);
            m.put("name", name.replaceFirst("-\\d{8}T.*$", ""));
            m.put("archive", name);
            m.put("createdAt", String.valueOf(rec.getOrDefault("receivedAt", "")));
            m.put("compression", name.endsWith(".gz") ? "gzip" : name.endsWith(".zst") ? "zstd" : "none");
            m.put("files", 0L);
            m.put("bytes", 0L);
            m.put("sizeBytes", Files.size(archive));
            m.put("sha256", sha256);
            Destination.writeAtomically(Destination.manifestOf(archive), Json.write(m).getBytes(StandardCharsets.UTF_8));
            s = dir.find(name).orElseThrow(() -> new IOException(archive + " vanished"));
        }
        return s;
    }

    /** Deletes a fetched copy once it is restored (the server keeps the archive). */
    static void forget(Destination.Stored s) throws IOException {
        new Destination(s.archive().getParent()).delete(s);
    }

    private static void download(CommandContext ctx, ServerFiles files, String path, Path part, String sha256)
            throws CommandException, CommandCancelledException, IOException {
        IOException last = null;
        String etag = "\"" + sha256 + "\"";
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            ctx.checkCancelled();
            long have = Files.isRegularFile(part, LinkOption.NOFOLLOW_LINKS) ? Files.size(part) : 0;
            try (ServerFiles.Download d = files.open(path, have, etag)) {
                long from = d.offset();
                ctx.output().println("$ GET " + path + (from > 0 ? " from byte " + from : ""));
                // the sha256 is taken as the bytes arrive (and of what an earlier attempt left, once): no second read
                MessageDigest md = digestOfFirst(part, from);
                try (FileChannel ch = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("rw-------"));
                    ch.truncate(from);
                    ch.position(from);
                    copy(ctx, d, new DigestOutputStream(Channels.newOutputStream(ch), md), from);
                    ch.force(true);
                }
                String got = HexFormat.of().formatHex(md.digest());
                if (!got.equals(sha256)) {
                    Files.deleteIfExists(part);
                    throw new CommandException("the archive fetched from " + path + " has sha256 " + got + ", the server's record says "
                        + sha256 + "; the download was deleted and nothing was restored");
                }
                return;
            } catch (ServerFiles.ServerFileException e) {
                if (e.status() == 416) {
                    Files.deleteIfExists(part); // more than the file holds: start again
                    last = e;
                    continue;
                }
                throw new CommandException("cannot fetch " + path + ": " + e.getMessage(),
                    e.status() == 404 ? ErrorCode.NOT_FOUND : null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandCancelledException("cancelled while fetching " + path + "; what arrived is kept for the next restore");
            } catch (IOException e) {
                if (ctx.isCancelled()) throw new CommandCancelledException("cancelled while fetching " + path);
                last = e;
                ctx.output().println("the download of " + path + " dropped (" + e.getMessage() + "); resuming");
            }
        }
        throw new CommandException("fetching " + path + " failed " + ATTEMPTS + " times (last: " + (last == null ? "?" : last.getMessage())
            + "); what arrived is kept and the next restore resumes it. Nothing was restored.");
    }

    /** @return a SHA-256 digest that has read the first {@code n} bytes of the file */
    private static MessageDigest digestOfFirst(Path file, long n) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
        if (n == 0) return md;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            long left = n;
            for (int r; left > 0 && (r = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0;) {
                md.update(buf, 0, r);
                left -= r;
            }
            if (left > 0) throw new IOException(file + " is shorter than the " + n + " bytes the server resumed from");
        }
        return md;
    }

    private static void copy(CommandContext ctx, ServerFiles.Download d, OutputStream out, long from)
            throws IOException, CommandCancelledException {
        byte[] buf = new byte[1 << 16];
        long at = from;
        long size = d.size();
        long told = 0;
        try (InputStream in = d.body()) {
            for (int n; (n = in.read(buf)) > 0;) {
                out.write(buf, 0, n);
                at += n;
                if (at - told >= (4 << 20)) {
                    told = at;
                    ctx.checkCancelled();
                    ctx.progress(size > 0 ? (int) Math.min(99, at * 100 / size) : null, "fetched " + Text.bytes(at)
                        + (size > 0 ? " of " + Text.bytes(size) : "") + " from the server");
                }
            }
        }
        if (size >= 0 && at != size) throw new IOException("the connection ended at byte " + at + " of " + size);
    }
}
