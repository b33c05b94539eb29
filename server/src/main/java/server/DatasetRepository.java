package server;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.google.gson.JsonObject;

import server.http.ApiException;
import server.http.Exchange;
import server.http.Json;
import server.http.RangedFile;

/**
 * Data sets uploaded by the operator, kept as {@code <data>/datasets/<sha256>.data} with a small JSON record beside,
 * and served to agents with Range support so that plugin.dataset can resume.
 *
 * <p>An enrolled agent fetches {@code /agent/v1/datasets/SHA256/NAME} with its own token (docs/protocol.md §7.1: a
 * relative {@code url}, which the agent's plugins fetch through the agent). For fetchers without a token, a capability
 * URL: {@code /agent/v1/datasets/SHA256/NAME?expires=EPOCH&sig=HMAC}, signed with a key of this server
 * ({@code dataset-url.key}, 0600) and valid until it expires. Whoever holds it can fetch that one file until then, and
 * nothing else.
 */
public final class DatasetRepository {
    public static final long MAX_DATASET_BYTES = 64L << 30;
    /** How long a pushed URL stays valid: long enough for a fleet to fetch a big file through resumes. */
    public static final long URL_VALIDITY_SECONDS = 7 * 24 * 3600;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,200}");

    private final Path dir;
    private final byte[] key;

    public DatasetRepository(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        Path keyFile = dir.getParent().resolve("dataset-url.key");
        if (!Files.exists(keyFile)) {
            byte[] k = new byte[32];
            new SecureRandom().nextBytes(k);
            Path tmp = keyFile.resolveSibling(".dataset-url.key.tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, HexFormat.of().formatHex(k).getBytes(StandardCharsets.US_ASCII), StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(tmp, keyFile, StandardCopyOption.ATOMIC_MOVE);
        }
        this.key = HexFormat.of().parseHex(Files.readString(keyFile, StandardCharsets.US_ASCII).strip());
    }

    public static boolean isSha256(String s) { return s != null && SHA256.matcher(s).matches(); }

    /**
     * Stores an upload under its sha256.
     *
     * @param ex   the request; its body is the file
     * @param name the file's name (it becomes the last segment of the URL agents fetch, which tells them the format)
     * @return the record: {@code {sha256, name, size, uploadedAt}}
     */
    public JsonObject upload(Exchange ex, String name) throws IOException {
        if (name == null || !NAME.matcher(name).matches()) {
            throw ApiException.badRequest("query parameter 'name' must be a file name (letters, digits, '.', '_', '+', '-'), got "
                + (name == null ? "none" : "'" + name + "'"));
        }
        Path tmp = Files.createTempFile(dir, ".upload-", ".tmp");
        try {
            MessageDigest sha = sha256();
            long size;
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), sha)) {
                size = ex.bodyTo(out, MAX_DATASET_BYTES);
            }
            if (size == 0) throw ApiException.badRequest("the request body is empty: send the data set's bytes");
            String hex = HexFormat.of().formatHex(sha.digest());
            if (!Files.exists(data(hex))) Files.move(tmp, data(hex), StandardCopyOption.ATOMIC_MOVE);
            JsonObject rec = new JsonObject();
            rec.addProperty("sha256", hex);
            rec.addProperty("name", name);
            rec.addProperty("size", size);
            rec.addProperty("uploadedAt", Times.now());
            Path recFile = dir.resolve(hex + ".json");
            Path recTmp = dir.resolve("." + hex + ".json.tmp");
            Files.writeString(recTmp, Json.GSON.toJson(rec));
            Files.move(recTmp, recFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return rec;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** @return the record of a stored data set, or null */
    public JsonObject record(String sha256) throws IOException {
        if (!isSha256(sha256) || !Files.exists(data(sha256))) return null;
        return Json.parseObject(Files.readString(dir.resolve(sha256 + ".json")), "the record of data set " + sha256);
    }

    /** @return every stored data set's record, by sha256 */
    public List<JsonObject> list() throws IOException {
        List<String> shas = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.data")) {
            for (Path p : s) shas.add(p.getFileName().toString().replace(".data", ""));
        }
        shas.sort(null);
        List<JsonObject> out = new ArrayList<>();
        for (String sha : shas) {
            JsonObject r = record(sha);
            if (r != null) out.add(r);
        }
        return out;
    }

    /**
     * @param sha256 a stored data set
     * @param now    the time to count the validity from
     * @return its capability URL's path and query, to be resolved against the server's URL
     */
    public String signedPath(String sha256, Instant now) throws IOException {
        JsonObject r = record(sha256);
        if (r == null) throw ApiException.notFound("no data set with sha256 '" + sha256 + "' (upload it first)");
        long expires = now.getEpochSecond() + URL_VALIDITY_SECONDS;
        return "/agent/v1/datasets/" + sha256 + "/" + r.get("name").getAsString() + "?expires=" + expires + "&sig=" + sign(sha256, expires);
    }

    private String sign(String sha256, long expires) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal((sha256 + "\n" + expires).getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java has HmacSHA256", e);
        }
    }

    /**
     * @return the path an enrolled agent fetches a stored data set from with its own token (docs/protocol.md §7.1),
     *         to send as a relative {@code url}
     */
    public String agentPath(String sha256) throws IOException {
        JsonObject r = record(sha256);
        if (r == null) throw ApiException.notFound("no data set with sha256 '" + sha256 + "' (upload it first)");
        return "/agent/v1/datasets/" + sha256 + "/" + r.get("name").getAsString();
    }

    /**
     * {@code GET /agent/v1/datasets/SHA256/NAME}: the file, or the range asked for; with {@code ?expires=&sig=} when no
     * agent token came.
     *
     * @param byAgent whether an enrolled agent's token authenticated the request (the caller checked it)
     */
    public void serve(Exchange ex, boolean byAgent) throws IOException {
        ex.requireMethod("GET", "HEAD");
        String[] seg = ex.path().substring("/agent/v1/datasets/".length()).split("/", -1);
        String sha = seg[0];
        if (!byAgent) {
            String expires = ex.query("expires");
            String sig = ex.query("sig");
            if (!isSha256(sha) || expires == null || sig == null || !expires.matches("[0-9]{1,12}")) {
                throw ApiException.unauthorized("a data set is fetched with an agent token (Authorization: Bearer <agentToken>)"
                    + " or with a signed URL (expires and sig)");
            }
            if (!MessageDigest.isEqual(sign(sha, Long.parseLong(expires)).getBytes(StandardCharsets.US_ASCII), sig.getBytes(StandardCharsets.US_ASCII))) {
                throw ApiException.unauthorized("the data set URL's signature is not valid");
            }
            if (Instant.now().getEpochSecond() > Long.parseLong(expires)) {
                throw new ApiException(403, "the data set URL expired at " + Instant.ofEpochSecond(Long.parseLong(expires)) + "; push it again");
            }
        }
        Path file = isSha256(sha) ? data(sha) : null;
        if (file == null || !Files.exists(file)) throw ApiException.notFound("no data set with sha256 '" + sha + "'");
        RangedFile.serve(ex, file, Files.size(file), sha, "application/octet-stream", "this data set");
    }

    private Path data(String sha256) { return dir.resolve(sha256 + ".data"); }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
