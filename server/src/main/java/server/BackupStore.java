package server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;
import java.util.regex.Pattern;

import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import server.http.ApiException;
import server.http.Json;

/**
 * Files that agents upload to keep off their host (plugin.backup's {@code destination: "server"}), received as
 * docs/protocol.md §7.1 says: resumable, checked against their sha256 when the last byte arrives, kept per agent.
 *
 * <p>Layout under {@code <data>/backups/<agentId>/}: {@code <name>} is a complete, checked file and
 * {@code .record-<name>.json} its record ({@code {name, size, sha256, receivedAt, meta}}); an upload under way is
 * {@code .partial-<name>} (the bytes that arrived, in order) with {@code .upload-<name>.json} (the length, sha256 and
 * meta it declared). Names never start with '.', so these can never be taken for one another. Bytes that arrived
 * are forced to disk when a request ends, dropped or not, so that a HEAD after a restart of the server still finds
 * them.
 */
public final class BackupStore {
    private static final Logger LOG = Logger.getLogger(BackupStore.class.getName());

    /**
     * @param maxUploadBytes the largest file one upload may declare ({@code --max-backup-bytes})
     * @param maxAgentBytes  what one agent may hold in all, complete and partial ({@code --max-backup-bytes-per-agent})
     */
    public record Limits(long maxUploadBytes, long maxAgentBytes) {
        public static final Limits DEFAULTS = new Limits(64L << 30, 256L << 30);

        public Limits {
            if (maxUploadBytes < 1) throw new IllegalArgumentException("--max-backup-bytes must be at least 1, got " + maxUploadBytes);
            if (maxAgentBytes < 1) {
                throw new IllegalArgumentException("--max-backup-bytes-per-agent must be at least 1, got " + maxAgentBytes);
            }
        }
    }

    /** The largest {@code Upload-Meta}, as decoded JSON text. */
    public static final int MAX_META_BYTES = 4096;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_+-][A-Za-z0-9._+-]{0,199}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    /** What the server's agent ids look like (machine ids and UUIDs): safe as a directory name. */
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    /**
     * How long a request waits for another one on the same upload (a PUT still receiving, a connection not yet seen
     * to be dead) before it is told to ask again.
     */
    static final long LOCK_WAIT_SECONDS = 30;

    private final Path dir;
    private final Limits limits;
    /** One lock per agent and name, held while a request reads or changes that upload; removed when unused. */
    private final Map<String, Held> locks = new HashMap<>();

    private static final class Held {
        final ReentrantLock lock = new ReentrantLock();
        int users;
    }

    public BackupStore(Path dir, Limits limits) throws IOException {
        this.dir = dir;
        this.limits = limits;
        Files.createDirectories(dir);
    }

    public Limits limits() {
        return limits;
    }

    /** @return the name, if it is one a backup may have; else 400 naming it */
    public static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.equals("..")) {
            throw ApiException.badRequest("a backup's name must be a file name of at most 200 letters, digits, '.', '_', '+' and '-',"
                + " not starting with '.'; got " + (name == null ? "none" : "'" + Json.abbreviate(new com.google.gson.JsonPrimitive(name)) + "'"));
        }
        return name;
    }

    /** @return the sha256 a header gave, lower-case hex; else 400 naming the header */
    public static String checkSha256(String value, String header) {
        if (value == null) throw ApiException.badRequest("the header " + header + " is missing: the sha256 of the whole file, 64 hex digits");
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        if (!SHA256.matcher(v).matches()) {
            throw ApiException.badRequest("the header " + header + " must be a sha256 (64 hex digits), got '" + abbreviate(value) + "'");
        }
        return v;
    }

    /** What an upload declares: its length and sha256. */
    public record Declared(long length, String sha256) {}

    /** How a PUT ended: the record of the complete file ({@code created}: 201, else it was there: 200), or the offset held. */
    public record PutOutcome(JsonObject record, boolean created, long offset) {}

    /** The bytes of this upload the server holds: what {@code HEAD} answers with {@code Upload-Offset}. */
    public long offset(String agentId, String name, Declared d) throws IOException, InterruptedException {
        checkLength(d.length());
        UploadFiles u = files(agentId, name);
        try (Locked l = lock(agentId, name, u)) {
            JsonObject stored = complete(u, d);
            if (stored != null) return d.length();
            long held = held(u, d);
            if (held == d.length()) {
                // all had arrived when a request or the server stopped before the check
                try {
                    finish(u, d, digestOf(u.partial, d.length()), null);
                } catch (ApiException e) {
                    if (e.status() != 422) throw e;
                    LOG.info("agent " + agentId + ": backup '" + name + "': " + e.getMessage());
                    return 0;
                }
            }
            return held;
        }
    }

    /**
     * {@code PUT}: appends the body at {@code offset} and, once the last byte is there, checks the sha256 and stores
     * the file.
     *
     * @param meta the decoded {@code Upload-Meta}, or null
     * @param body the request body: the bytes from {@code offset}
     * @param bodyLength its declared length ({@code Content-Length}), or -1 when it is not known
     * @throws ConflictingOffset when the offset is not what the server holds (409), or the body ended early (400)
     * @throws ApiException 409 (another file under the name), 413, 422, or 400
     */
    public PutOutcome put(String agentId, String name, long offset, Declared d, JsonObject meta, InputStream body, long bodyLength)
        throws IOException, InterruptedException {
        checkLength(d.length());
        if (offset < 0 || offset > d.length()) {
            throw ApiException.badRequest("the header Upload-Offset must be 0.." + d.length() + " (Upload-Length), got " + offset);
        }
        if (bodyLength >= 0 && offset + bodyLength > d.length()) {
            throw ApiException.badRequest("the body (Content-Length " + bodyLength + ") from Upload-Offset " + offset
                + " would go past Upload-Length " + d.length());
        }
        UploadFiles u = files(agentId, name);
        try (Locked l = lock(agentId, name, u)) {
            JsonObject stored = complete(u, d);
            if (stored != null) return new PutOutcome(stored, false, d.length());
            long held = held(u, d);
            if (held != offset) throw new ConflictingOffset(held, "the server holds " + held + " bytes of this upload, not " + offset
                + ": send from Upload-Offset " + held);
            long others = bytesHeld(agentId, name);
            if (others + d.length() > limits.maxAgentBytes()) {
                throw ApiException.tooLarge("agent '" + agentId + "' holds " + others + " bytes of backups on this server; " + d.length()
                    + " more would pass its total of " + limits.maxAgentBytes() + " bytes (--max-backup-bytes-per-agent)");
            }
            Files.createDirectories(u.agentDir);
            if (!Files.exists(u.sidecar) || meta != null) writeSidecar(u, d, meta);
            MessageDigest sha = digestOf(u.partial, offset);
            long pos = offset;
            IOException dropped = null;
            try (FileChannel ch = FileChannel.open(u.partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ch.position(offset);
                byte[] buf = new byte[256 * 1024];
                try {
                    for (int n; (n = body.read(buf)) >= 0; ) {
                        if (pos + n > d.length()) {
                            ch.truncate(offset);
                            ch.force(false);
                            throw ApiException.badRequest("the body is longer than Upload-Length " + d.length() + " minus Upload-Offset "
                                + offset + ": what it brought was dropped");
                        }
                        ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                        while (b.hasRemaining()) ch.write(b);
                        sha.update(buf, 0, n);
                        pos += n;
                    }
                } catch (IOException e) {
                    dropped = e; // what arrived is kept for the next HEAD
                }
                ch.force(false);
            }
            if (pos == d.length()) {
                JsonObject rec = finish(u, d, sha, meta);
                if (dropped != null) LOG.info("agent " + agentId + ": backup '" + name + "' complete, though its request ended with " + dropped);
                return new PutOutcome(rec, true, d.length());
            }
            if (dropped != null) {
                LOG.info("agent " + agentId + ": upload of backup '" + name + "' stopped at " + pos + " of " + d.length() + " bytes ("
                    + dropped + "); they are kept for a resume");
                throw new ConflictingOffset(400, pos, "the body ended after " + (pos - offset) + " bytes (" + dropped.getMessage()
                    + "): the server holds " + pos + " of " + d.length() + " bytes; send the rest from Upload-Offset " + pos);
            }
            return new PutOutcome(null, false, pos);
        }
    }

    /** A refusal that tells the client the offset to send from ({@code Upload-Offset}). */
    public static final class ConflictingOffset extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final long offset;

        ConflictingOffset(long offset, String message) {
            this(409, offset, message);
        }

        ConflictingOffset(int status, long offset, String message) {
            super(message);
            this.status = status;
            this.offset = offset;
        }

        public int status() {
            return status;
        }

        public long offset() {
            return offset;
        }
    }

    /** @return the record of a complete backup of the agent, or null */
    public JsonObject record(String agentId, String name) throws IOException {
        UploadFiles u = files(agentId, name);
        if (!Files.exists(u.complete)) return null;
        try {
            return Json.parseObject(Files.readString(u.record, StandardCharsets.UTF_8), "the record of backup " + name);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** @return the complete backup's file (see {@link #record}) */
    public Path file(String agentId, String name) {
        return files(agentId, name).complete;
    }

    /** @return the agent's backups' records, newest first */
    public List<JsonObject> list(String agentId) throws IOException {
        Path agentDir = agentDir(agentId);
        List<JsonObject> out = new ArrayList<>();
        if (!Files.isDirectory(agentDir)) return out;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(agentDir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") || !NAME.matcher(n).matches()) continue;
                JsonObject r = record(agentId, n);
                if (r != null) out.add(r);
            }
        }
        out.sort(Comparator.comparing((JsonObject r) -> Instant.parse(r.get("receivedAt").getAsString())).reversed()
            .thenComparing(r -> r.get("name").getAsString()));
        return out;
    }

    /** @return every agent's backups' records, each with its {@code agentId}, newest first */
    public List<JsonObject> listAll() throws IOException {
        List<JsonObject> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String agentId = p.getFileName().toString();
                if (!AGENT_ID.matcher(agentId).matches() || !Files.isDirectory(p)) continue;
                out.addAll(withAgent(agentId, list(agentId)));
            }
        }
        out.sort(Comparator.comparing((JsonObject r) -> Instant.parse(r.get("receivedAt").getAsString())).reversed()
            .thenComparing(r -> r.get("agentId").getAsString()).thenComparing(r -> r.get("name").getAsString()));
        return out;
    }

    /** @return the records, each with {@code agentId} first */
    public static List<JsonObject> withAgent(String agentId, List<JsonObject> records) {
        List<JsonObject> out = new ArrayList<>();
        for (JsonObject r : records) {
            JsonObject o = new JsonObject();
            o.addProperty("agentId", agentId);
            for (Map.Entry<String, JsonElement> e : r.entrySet()) o.add(e.getKey(), e.getValue());
            out.add(o);
        }
        return out;
    }

    private void checkLength(long length) {
        if (length < 0) throw ApiException.badRequest("the header Upload-Length must be at least 0, got " + length);
        if (length > limits.maxUploadBytes()) {
            throw ApiException.tooLarge("Upload-Length " + length + " is over this server's limit of " + limits.maxUploadBytes()
                + " bytes for one backup (--max-backup-bytes)");
        }
    }

    /** The files of one upload. */
    private record UploadFiles(Path agentDir, Path complete, Path record, Path partial, Path sidecar) {}

    private UploadFiles files(String agentId, String name) {
        checkName(name);
        Path a = agentDir(agentId);
        return new UploadFiles(a, a.resolve(name), a.resolve(".record-" + name + ".json"), a.resolve(".partial-" + name),
            a.resolve(".upload-" + name + ".json"));
    }

    private Path agentDir(String agentId) {
        if (!AGENT_ID.matcher(agentId).matches()) throw new IllegalStateException("agent id '" + agentId + "' is not a safe directory name");
        return dir.resolve(agentId);
    }

    /** @return the record of the complete file under the name if it is this content; null if there is none; 409 if another */
    private static JsonObject complete(UploadFiles u, Declared d) throws IOException {
        if (!Files.exists(u.complete) || !Files.exists(u.record)) return null;
        JsonObject rec = Json.parseObject(Files.readString(u.record, StandardCharsets.UTF_8), "a backup's record");
        String sha = rec.get("sha256").getAsString();
        if (!sha.equals(d.sha256()) || rec.get("size").getAsLong() != d.length()) {
            throw ApiException.conflict("a backup named '" + rec.get("name").getAsString() + "' is stored already with sha256 " + sha
                + " (" + rec.get("size").getAsLong() + " bytes), not " + d.sha256() + ": a stored backup is never replaced; use another name");
        }
        return rec;
    }

    /**
     * @return the bytes held of this upload; a partial upload of other content (or one longer than declared) is
     *         discarded first
     */
    private static long held(UploadFiles u, Declared d) throws IOException {
        if (!Files.exists(u.partial)) {
            Files.deleteIfExists(u.sidecar);
            return 0;
        }
        Declared was = null;
        try {
            JsonObject s = Json.parseObject(Files.readString(u.sidecar, StandardCharsets.UTF_8), "an upload's sidecar");
            was = new Declared(s.get("length").getAsLong(), s.get("sha256").getAsString());
        } catch (NoSuchFileException | RuntimeException e) {
            // no declaration beside the bytes: they cannot be trusted to be this upload's
        }
        long size = Files.size(u.partial);
        if (!d.equals(was) || size > d.length()) {
            Files.deleteIfExists(u.partial);
            Files.deleteIfExists(u.sidecar);
            return 0;
        }
        return size;
    }

    /** @return what the agent holds besides the upload under {@code name}: complete files and the lengths partial ones declared */
    private long bytesHeld(String agentId, String name) throws IOException {
        Path agentDir = agentDir(agentId);
        if (!Files.isDirectory(agentDir)) return 0;
        long total = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(agentDir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.equals(name) || n.equals(".upload-" + name + ".json")) continue;
                if (!n.startsWith(".")) {
                    total += Files.size(p);
                } else if (n.startsWith(".upload-") && n.endsWith(".json")) {
                    try {
                        total += Json.parseObject(Files.readString(p, StandardCharsets.UTF_8), "a sidecar").get("length").getAsLong();
                    } catch (RuntimeException | NoSuchFileException e) {
                        // a sidecar being replaced: counted again at the next upload
                    }
                }
            }
        }
        return total;
    }

    private void writeSidecar(UploadFiles u, Declared d, JsonObject meta) throws IOException {
        JsonObject s = new JsonObject();
        s.addProperty("length", d.length());
        s.addProperty("sha256", d.sha256());
        if (meta != null) s.add("meta", meta);
        writeDurably(u.sidecar, Json.GSON.toJson(s));
    }

    /** Checks the sha256 of a complete partial file and makes it the stored backup, or deletes it (422). */
    private static JsonObject finish(UploadFiles u, Declared d, MessageDigest sha, JsonObject meta) throws IOException {
        String got = HexFormat.of().formatHex(sha.digest());
        if (!got.equals(d.sha256())) {
            Files.deleteIfExists(u.partial);
            Files.deleteIfExists(u.sidecar);
            throw new ApiException(422, "the " + d.length() + " bytes that arrived have sha256 " + got + ", not " + d.sha256()
                + " (Upload-Sha256): they were deleted; send the file again");
        }
        if (meta == null) {
            try {
                JsonObject s = Json.parseObject(Files.readString(u.sidecar, StandardCharsets.UTF_8), "an upload's sidecar");
                if (s.get("meta") != null && s.get("meta").isJsonObject()) meta = s.getAsJsonObject("meta");
            } catch (NoSuchFileException e) {
                // no meta was given
            }
        }
        JsonObject rec = new JsonObject();
        rec.addProperty("name", u.complete.getFileName().toString());
        rec.addProperty("size", d.length());
        rec.addProperty("sha256", got);
        rec.addProperty("receivedAt", Times.now());
        rec.add("meta", meta == null ? JsonNull.INSTANCE : meta);
        // the record first: a complete file always has one, and a crash before the rename leaves a partial upload
        // that the next HEAD finishes again
        writeDurably(u.record, Json.GSON.toJson(rec));
        Files.move(u.partial, u.complete, StandardCopyOption.ATOMIC_MOVE);
        Files.deleteIfExists(u.sidecar);
        forceDirectory(u.agentDir);
        return rec;
    }

    private static void writeDurably(Path target, String text) throws IOException {
        Path tmp = target.resolveSibling(".tmp-" + target.getFileName());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(target.getParent());
    }

    private static void forceDirectory(Path d) throws IOException {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** @return a SHA-256 fed with the first {@code length} bytes of the file (none if it does not exist) */
    private static MessageDigest digestOf(Path file, long length) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
        if (length == 0) return sha;
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[256 * 1024];
            long left = length;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) throw new IOException(file + " is shorter than the " + length + " bytes it held");
                sha.update(buf, 0, n);
                left -= n;
            }
        }
        return sha;
    }

    /** Holds an upload's lock; closing releases it. */
    private final class Locked implements AutoCloseable {
        private final String key;
        private final Held held;

        Locked(String key, Held held) {
            this.key = key;
            this.held = held;
        }

        @Override
        public void close() {
            held.lock.unlock();
            release(key, held);
        }
    }

    /** Waits for the upload's lock (a PUT of it may still be receiving); 409 with the offset held after {@link #LOCK_WAIT_SECONDS}. */
    private Locked lock(String agentId, String name, UploadFiles u) throws InterruptedException, IOException {
        String key = agentId + "/" + name;
        Held h;
        synchronized (locks) {
            h = locks.computeIfAbsent(key, k -> new Held());
            h.users++;
        }
        if (!h.lock.tryLock(LOCK_WAIT_SECONDS, TimeUnit.SECONDS)) {
            release(key, h);
            long size = Files.exists(u.partial) ? Files.size(u.partial) : 0;
            throw new ConflictingOffset(size, "another request is sending this upload now (" + size + " bytes held so far); ask again later");
        }
        return new Locked(key, h);
    }

    /** @return how many requests hold or wait for the upload's lock (for tests) */
    int users(String agentId, String name) {
        synchronized (locks) {
            Held h = locks.get(agentId + "/" + name);
            return h == null ? 0 : h.users;
        }
    }

    private void release(String key, Held h) {
        synchronized (locks) {
            if (--h.users == 0) locks.remove(key);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }
}
