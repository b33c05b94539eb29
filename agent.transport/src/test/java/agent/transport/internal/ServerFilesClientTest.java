package agent.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import agent.api.ServerFiles;
import agent.api.ServerFiles.Download;
import agent.api.ServerFiles.ServerFileException;
import agent.api.ServerFiles.Upload;
import agent.transport.TransportSettings;

/**
 * {@link ServerFilesClient} (docs/protocol.md §7.1) against an HTTPS server on loopback that keeps uploads in memory
 * the way the protocol says and can be told to misbehave: cut a {@code PUT} off after some bytes, answer a stale
 * {@code HEAD}, ignore or misplace ranges, refuse. What is asserted is what a plugin using {@link ServerFiles} sees,
 * and what reached the server.
 */
@Timeout(20)
class ServerFilesClientTest {
    private static final String TOKEN = "agent-token-5f1d0c9e-do-not-leak";
    private static final String BACKUP = "/agent/v1/backups/web.tar.gz";

    @TempDir
    static Path certs;
    private static Path ca;

    @TempDir
    Path dir;
    private FilesServer files;
    private LoopbackHttpsServer server;
    private ServerFiles client;

    @BeforeAll
    static void certificates() throws Exception { ca = LoopbackHttpsServer.certificates(certs); }

    @BeforeEach
    void start() throws Exception {
        files = new FilesServer();
        server = LoopbackHttpsServer.start(certs, files);
        client = new ServerFilesClient(settings(server.port()));
    }

    @AfterEach
    void stop() throws Exception { server.close(); }

    /** Enrolled already: the credentials file as {@link Credentials} keeps it. */
    private TransportSettings settings(int port) throws IOException {
        TransportSettings s = new TransportSettings();
        s.serverUrl = java.net.URI.create("https://127.0.0.1:" + port);
        s.serverCa = ca;
        s.dataDir = dir.resolve("data");
        s.machineId = "m-1";
        s.hostname = "h";
        Files.createDirectories(s.dataDir);
        Files.writeString(s.dataDir.resolve(Credentials.FILE), "{\"agentId\": \"a-1\", \"agentToken\": \"" + TOKEN + "\"}");
        return s;
    }

    // ---- uploads

    @Test
    void aPutCutOffMidwayIsResumedFromTheBytesTheServerKept() throws Exception {
        byte[] content = random(3 << 20, 1);
        Path file = write("web.tar.gz", content);
        long cut = (1 << 20) + 123;
        files.cutNextPutAfter = cut;
        List<Long> progress = new CopyOnWriteArrayList<>();

        Upload u = client.upload(BACKUP, file, sha256(content), "{\"paths\": [\"/srv/www\"]}", 3, progress::add);

        assertThat(u.size()).isEqualTo(content.length);
        assertThat(u.resumedFrom()).as("the server held nothing when the upload started").isZero();
        assertThat(u.requests()).isEqualTo(2);
        assertThat(files.methods()).containsExactly("HEAD", "PUT", "HEAD", "PUT");
        List<Seen> puts = files.seen("PUT");
        assertThat(puts.get(0).bodyBytes).isEqualTo(cut);
        assertThat(puts.get(1).header("Upload-Offset")).isEqualTo(Long.toString(cut));
        assertThat(puts.get(1).bodyBytes).as("only the rest is sent again").isEqualTo(content.length - cut);
        assertThat(files.stored(BACKUP)).isEqualTo(content);
        JsonObject record = JsonParser.parseString(u.record()).getAsJsonObject();
        assertThat(record.get("sha256").getAsString()).isEqualTo(sha256(content));
        assertThat(record.get("size").getAsLong()).isEqualTo(content.length);
        assertThat(record.getAsJsonObject("meta").get("paths").getAsJsonArray().get(0).getAsString()).isEqualTo("/srv/www");
        assertThat(progress).isNotEmpty().isSorted();
        assertThat(progress.get(progress.size() - 1)).isEqualTo(content.length);
    }

    @Test
    void anUploadThatGaveUpIsResumedByTheNextUploadOfTheSameFile() throws Exception {
        byte[] content = random(2 << 20, 2);
        Path file = write("web.tar.gz", content);
        long cut = 700_001;
        files.cutNextPutAfter = cut;

        IOException gaveUp = thrown(IOException.class, () -> client.upload(BACKUP, file, sha256(content), null, 1, null));
        assertThat(gaveUp).isNotInstanceOf(ServerFileException.class).hasMessageContaining("1 attempt(s)");
        assertThat(files.held(BACKUP)).isEqualTo(cut);
        files.seen.clear();

        Upload u = client.upload(BACKUP, file, sha256(content), null, 1, null);

        assertThat(u.resumedFrom()).isEqualTo(cut);
        assertThat(u.requests()).isEqualTo(1);
        assertThat(files.seen("PUT")).singleElement().satisfies(put -> assertThat(put.bodyBytes).isEqualTo(content.length - cut));
        assertThat(files.stored(BACKUP)).isEqualTo(content);
    }

    @Test
    void aFileTheServerHoldsWhollyCostsOneEmptyPutAnsweredWithItsRecord() throws Exception {
        byte[] content = random(100_000, 3);
        Path file = write("web.tar.gz", content);
        Upload first = client.upload(BACKUP, file, sha256(content), null, 1, null);
        files.seen.clear();
        List<Long> progress = new ArrayList<>();

        Upload again = client.upload(BACKUP, file, sha256(content), null, 1, progress::add);

        assertThat(again.resumedFrom()).isEqualTo(content.length);
        assertThat(again.requests()).isEqualTo(1);
        assertThat(files.seen("PUT")).singleElement().satisfies(put -> {
            assertThat(put.header("Upload-Offset")).isEqualTo(Long.toString(content.length));
            assertThat(put.bodyBytes).isZero();
            assertThat(put.status).isEqualTo(200);
        });
        assertThat(again.record()).isEqualTo(first.record());
        assertThat(progress).containsOnly((long) content.length);
    }

    @Test
    void anEmptyFileIsUploaded() throws Exception {
        Path file = write("empty", new byte[0]);

        Upload u = client.upload("/agent/v1/backups/empty", file, sha256(new byte[0]), null, 1, null);

        assertThat(u.size()).isZero();
        assertThat(u.requests()).isEqualTo(1);
        assertThat(files.stored("/agent/v1/backups/empty")).isEmpty();
        assertThat(files.seen("PUT")).singleElement().satisfies(put -> assertThat(put.status).isEqualTo(201));
    }

    @Test
    void aConflictingOffsetIsAskedAgainAndTheUploadCompletes() throws Exception {
        byte[] content = random(1 << 20, 4);
        Path file = write("web.tar.gz", content);
        long cut = 300_000;
        files.cutNextPutAfter = cut;
        thrown(IOException.class, () -> client.upload(BACKUP, file, sha256(content), null, 1, null));
        files.seen.clear();
        files.nextHeadSays = 0L; // stale: the server holds `cut` bytes and says so in its 409

        Upload u = client.upload(BACKUP, file, sha256(content), null, 3, null);

        assertThat(u.requests()).isEqualTo(2);
        assertThat(files.methods()).containsExactly("HEAD", "PUT", "HEAD", "PUT");
        List<Seen> puts = files.seen("PUT");
        assertThat(puts.get(0).status).isEqualTo(409);
        assertThat(puts.get(1).header("Upload-Offset")).isEqualTo(Long.toString(cut));
        assertThat(puts.get(1).bodyBytes).isEqualTo(content.length - cut);
        assertThat(files.stored(BACKUP)).isEqualTo(content);
    }

    @Test
    void aSha256MismatchIsA422WithTheServersWordsAndIsNotRetried() throws Exception {
        byte[] content = random(50_000, 5);
        Path file = write("web.tar.gz", content);
        String claimed = sha256("something else".getBytes(StandardCharsets.UTF_8));

        ServerFileException e = thrown(ServerFileException.class, () -> client.upload(BACKUP, file, claimed, null, 5, null));

        assertThat(e.status()).isEqualTo(422);
        assertThat(e).hasMessageContaining("the sha256 of what arrived is " + sha256(content) + ", not " + claimed);
        assertThat(files.methods()).containsExactly("HEAD", "PUT");
        assertThat(files.held(BACKUP)).as("the partial upload is deleted").isZero();
    }

    @Test
    void tooLargeIsA413NotRetriedWhetherTheHeadOrThePutIsRefused() throws Exception {
        byte[] content = random(20_000, 6);
        Path file = write("web.tar.gz", content);

        files.quotaLeft = 10_000; // checked by PUT, which can say why
        ServerFileException atPut = thrown(ServerFileException.class, () -> client.upload(BACKUP, file, sha256(content), null, 5, null));
        assertThat(atPut.status()).isEqualTo(413);
        assertThat(atPut).hasMessageContaining("20000 more bytes would pass this agent's total of 10000");
        assertThat(files.methods()).containsExactly("HEAD", "PUT");
        assertThat(files.seen("PUT").get(0).bodyBytes).as("refused before any byte").isZero();

        files.seen.clear();
        files.maxLength = 10_000; // checked by HEAD already, which has no body to say why
        ServerFileException atHead = thrown(ServerFileException.class, () -> client.upload(BACKUP, file, sha256(content), null, 5, null));
        assertThat(atHead.status()).isEqualTo(413);
        assertThat(atHead).hasMessageContaining("the server takes no file of 20000 bytes");
        assertThat(files.methods()).containsExactly("HEAD");
    }

    @Test
    void anotherFileStoredUnderTheNameIsA409NotRetried() throws Exception {
        byte[] first = random(5000, 12);
        client.upload(BACKUP, write("first", first), sha256(first), null, 1, null);
        files.seen.clear();
        byte[] second = random(5000, 13);

        ServerFileException e = thrown(ServerFileException.class,
            () -> client.upload(BACKUP, write("second", second), sha256(second), null, 5, null));

        assertThat(e.status()).isEqualTo(409);
        assertThat(e).hasMessageContaining("another file is stored under this name");
        assertThat(files.methods()).containsExactly("HEAD");
        assertThat(files.stored(BACKUP)).isEqualTo(first);
    }

    // ---- downloads

    @Test
    void aResumedDownloadAsksForTheRestOfTheSameVersion() throws Exception {
        byte[] content = random(10_000, 7);
        String path = "/agent/v1/datasets/" + sha256(content) + "/geo.db";
        files.downloads.put(path, content);
        String etag = "\"" + sha256(content) + "\"";

        try (Download d = client.open(path, 4000, etag)) {
            assertThat(d.offset()).isEqualTo(4000);
            assertThat(d.size()).isEqualTo(10_000);
            assertThat(d.etag()).isEqualTo(etag);
            assertThat(d.body().readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(content, 4000, content.length));
        }
        Seen get = files.seen("GET").get(0);
        assertThat(get.header("Range")).isEqualTo("bytes=4000-");
        assertThat(get.header("If-Range")).isEqualTo(etag);
        assertThat(get.status).isEqualTo(206);

        files.seen.clear();
        try (Download d = client.open(path, 0, etag)) {
            assertThat(d.offset()).isZero();
            assertThat(d.size()).isEqualTo(10_000);
            assertThat(d.body().readAllBytes()).isEqualTo(content);
        }
        assertThat(files.seen("GET").get(0).headers).doesNotContainKeys("range", "if-range");
    }

    @Test
    void aServerAnsweringTheWholeFileToARangeGivesOffsetZero() throws Exception {
        byte[] content = random(10_000, 8);
        String path = "/agent/v1/backups/db.tar";
        files.downloads.put(path, content);

        // the file changed since the part held: If-Range does not match, the whole file comes
        try (Download d = client.open(path, 4000, "\"an-older-version\"")) {
            assertThat(d.offset()).isZero();
            assertThat(d.size()).isEqualTo(10_000);
            assertThat(d.body().readAllBytes()).isEqualTo(content);
        }
        // a server that does not do ranges at all
        files.ignoreRanges = true;
        try (Download d = client.open(path, 4000, null)) {
            assertThat(d.offset()).isZero();
            assertThat(d.body().readAllBytes()).isEqualTo(content);
        }
        assertThat(files.seen("GET")).extracting(s -> s.status).containsExactly(200, 200);
        assertThat(files.seen("GET").get(1).headers).containsEntry("range", "bytes=4000-").doesNotContainKey("if-range");
    }

    @Test
    void aMissingFileIsA404WithTheServersWords() throws Exception {
        ServerFileException e = thrown(ServerFileException.class, () -> client.open("/agent/v1/backups/gone.tar", 0, null));

        assertThat(e.status()).isEqualTo(404);
        assertThat(e).hasMessageContaining("no file '/agent/v1/backups/gone.tar' here");
    }

    @Test
    void aRangeThatStartsElsewhereIsAnErrorNamingIt() throws Exception {
        byte[] content = random(10_000, 9);
        String path = "/agent/v1/backups/db.tar";
        files.downloads.put(path, content);
        files.rangeStartsAt = 0L;

        IOException e = thrown(IOException.class, () -> client.open(path, 4000, null));

        assertThat(e).isNotInstanceOf(ServerFileException.class).hasMessageContaining("bytes 0-9999/10000");
    }

    // ---- credentials and what is refused before asking

    @Test
    void everyRequestCarriesTheAgentsTokenAndARefusedTokenIsNotQuoted() throws Exception {
        byte[] content = random(10_000, 10);
        files.downloads.put("/agent/v1/backups/a", content);
        client.open("/agent/v1/backups/a", 0, null).close();
        client.upload("/agent/v1/backups/b", write("b", content), sha256(content), null, 1, null);
        assertThat(files.seen).hasSize(3).allSatisfy(s -> assertThat(s.header("Authorization")).isEqualTo("Bearer " + TOKEN));

        files.acceptedToken = "another";
        ServerFileException get = thrown(ServerFileException.class, () -> client.open("/agent/v1/backups/a", 0, null));
        assertThat(get.status()).isEqualTo(401);
        assertThat(get).hasMessageContaining("refused the agent's credentials");
        ServerFileException put = thrown(ServerFileException.class,
            () -> client.upload("/agent/v1/backups/c", write("c", content), sha256(content), null, 3, null));
        assertThat(put.status()).isEqualTo(401);
    }

    @Test
    void pathsThatAreNotTheServersAreRefusedBeforeAnyRequest() throws Exception {
        Path file = write("f", new byte[] {1});
        String sha = sha256(new byte[] {1});
        for (String path : new String[] {"https://elsewhere.example/x", "//elsewhere.example/x", "agent/v1/backups/x",
            "/agent/v1/backups/x\r\nX-Injected: 1", "/agent/v1/backups/x\u0000", "/agent/v1/backups/\u007f", ""}) {
            assertThatThrownBy(() -> client.open(path, 0, null)).as(path).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("starts with a single '/'");
            assertThatThrownBy(() -> client.upload(path, file, sha, null, 1, null)).as(path).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("starts with a single '/'");
        }
        assertThat(files.seen).isEmpty();
    }

    // ---- a server that cannot be reached

    @Test
    void aServerDownForEveryAttemptEndsSayingHowManyWereMade() throws Exception {
        int port = server.port();
        server.close();
        ServerFiles down = new ServerFilesClient(settings(port));
        Path file = write("web.tar.gz", random(1000, 11));

        IOException e = thrown(IOException.class, () -> down.upload(BACKUP, file, sha256(Files.readAllBytes(file)), null, 2, null));

        assertThat(e).isNotInstanceOf(ServerFileException.class)
            .hasMessageContaining("failed in 2 attempt(s)")
            .hasMessageContaining("https://127.0.0.1:" + port + BACKUP)
            
            .hasMessageNotContaining("last: null")
            .hasMessageContaining("Connect");
        IOException get = thrown(IOException.class, () -> down.open(BACKUP, 0, null));
        assertThat(get).isNotInstanceOf(ServerFileException.class)
            .hasMessageContaining("https://127.0.0.1:" + port + BACKUP)
            .hasMessageContaining("Connect");
    }

    // ---- helpers

    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    /** @return what the call threw, which must be of the type and must not quote the agent's token anywhere */
    private static <T extends Throwable> T thrown(Class<T> type, Call call) {
        T e = catchThrowableOfType(() -> call.run(), type);
        assertThat(e).as("a %s", type.getSimpleName()).isNotNull();
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).as("the message of %s", t).doesNotContain(TOKEN);
        }
        return e;
    }

    private Path write(String name, byte[] content) throws IOException { return Files.write(dir.resolve(name), content); }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    /** A request as the server saw it: its headers, the body bytes it read, its answer (0: cut off). */
    record Seen(String method, String target, Map<String, String> headers, long bodyBytes, int status) {
        String header(String name) { return headers.get(name.toLowerCase(java.util.Locale.ROOT)); }
    }

    /** docs/protocol.md §7.1 over memory, with switches to misbehave. */
    static final class FilesServer implements LoopbackHttpsServer.Handler {
        private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

        final List<Seen> seen = new CopyOnWriteArrayList<>();
        final Map<String, byte[]> downloads = new HashMap<>();
        private final Map<String, Partial> partials = new HashMap<>();
        private final Map<String, Stored> complete = new HashMap<>();
        volatile String acceptedToken = TOKEN;
        /** The largest Upload-Length, refused at HEAD and PUT. */
        volatile long maxLength = Long.MAX_VALUE;
        /** What the agent may still store, refused at PUT. */
        volatile long quotaLeft = Long.MAX_VALUE;
        /** The next PUT's connection is dropped after this many body bytes (kept), when 0 or more. */
        volatile long cutNextPutAfter = -1;
        /** The next HEAD answers this instead of what is held, when set. */
        volatile Long nextHeadSays;
        /** GETs answer the whole file to a Range. */
        volatile boolean ignoreRanges;
        /** A 206's Content-Range starts here instead of where asked, when set. */
        volatile Long rangeStartsAt;

        private record Partial(long length, String sha256, ByteArrayOutputStream bytes) {}

        private record Stored(byte[] bytes, JsonObject record) {}

        List<String> methods() { return seen.stream().map(Seen::method).toList(); }

        List<Seen> seen(String method) { return seen.stream().filter(s -> s.method.equals(method)).toList(); }

        synchronized byte[] stored(String path) {
            Stored s = complete.get(path);
            assertThat(s).as("a complete upload at %s", path).isNotNull();
            return s.bytes;
        }

        synchronized long held(String path) {
            Partial p = partials.get(path);
            return p == null ? 0 : p.bytes.size();
        }

        @Override
        public synchronized void handle(LoopbackHttpsServer.Exchange x) throws IOException {
            long[] read = {0};
            int status = 0;
            try {
                status = answer(x, read);
            } finally {
                seen.add(new Seen(x.method, x.target, Map.copyOf(x.headers()), read[0], status));
            }
        }

        /** @return the status answered, 0 when the connection is cut */
        private int answer(LoopbackHttpsServer.Exchange x, long[] read) throws IOException {
            if (!("Bearer " + acceptedToken).equals(x.header("Authorization"))) return error(x, 401, "unknown agent token", Map.of());
            String path = x.target;
            switch (x.method) {
                case "GET":
                    return get(x, path);
                case "HEAD": {
                    long length = Long.parseLong(x.header("Upload-Length"));
                    String sha = x.header("Upload-Sha256");
                    if (length > maxLength) return error(x, 413, "Upload-Length " + length + " is over the limit", Map.of());
                    Stored s = complete.get(path);
                    if (s != null && !s.record.get("sha256").getAsString().equals(sha)) return error(x, 409, "another file", Map.of());
                    long held = s != null ? length : held(path, length, sha);
                    if (nextHeadSays != null) {
                        held = nextHeadSays;
                        nextHeadSays = null;
                    }
                    x.respond(200, Map.of("Upload-Offset", Long.toString(held)), new byte[0]);
                    return 200;
                }
                case "PUT":
                    return put(x, path, read);
                default:
                    return error(x, 405, "no " + x.method, Map.of());
            }
        }

        private int get(LoopbackHttpsServer.Exchange x, String path) throws IOException {
            byte[] content = downloads.get(path);
            if (content == null) return error(x, 404, "no file '" + path + "' here", Map.of());
            String etag = "\"" + sha256Unchecked(content) + "\"";
            Map<String, String> h = new LinkedHashMap<>(Map.of("ETag", etag, "Accept-Ranges", "bytes"));
            Matcher range = RANGE.matcher(String.valueOf(x.header("Range")));
            String ifRange = x.header("If-Range");
            if (!range.matches() || ignoreRanges || (ifRange != null && !ifRange.equals(etag))) {
                x.respond(200, h, content);
                return 200;
            }
            int from = rangeStartsAt != null ? rangeStartsAt.intValue() : Integer.parseInt(range.group(1));
            h.put("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
            x.respond(206, h, java.util.Arrays.copyOfRange(content, from, content.length));
            return 206;
        }

        private int put(LoopbackHttpsServer.Exchange x, String path, long[] read) throws IOException {
            long length = Long.parseLong(x.header("Upload-Length"));
            long offset = Long.parseLong(x.header("Upload-Offset"));
            String sha = x.header("Upload-Sha256");
            if (length > maxLength) return error(x, 413, "Upload-Length " + length + " is over the limit", Map.of());
            Stored s = complete.get(path);
            if (s != null) {
                if (!s.record.get("sha256").getAsString().equals(sha)) return error(x, 409, "another file", Map.of());
                read[0] = x.body().transferTo(OutputStream.nullOutputStream());
                x.respond(200, Map.of("Content-Type", "application/json"), s.record.toString().getBytes(StandardCharsets.UTF_8));
                return 200;
            }
            if (length > quotaLeft) {
                return error(x, 413, length + " more bytes would pass this agent's total of " + quotaLeft, Map.of());
            }
            long held = held(path, length, sha);
            if (held != offset) {
                return error(x, 409, "the server holds " + held + " bytes, not " + offset, Map.of("Upload-Offset", Long.toString(held)));
            }
            Partial p = partials.computeIfAbsent(path, k -> new Partial(length, sha, new ByteArrayOutputStream()));
            long cut = cutNextPutAfter;
            cutNextPutAfter = -1;
            InputStream body = x.body();
            byte[] buf = new byte[64 * 1024];
            for (int n; (cut < 0 || read[0] < cut) && (n = body.read(buf, 0, (int) Math.min(buf.length, cut < 0 ? buf.length : cut - read[0]))) >= 0; ) {
                p.bytes.write(buf, 0, n);
                read[0] += n;
            }
            if (cut >= 0) return 0; // dropped: what arrived is kept
            if (p.bytes.size() < length) {
                x.respond(204, Map.of("Upload-Offset", Integer.toString(p.bytes.size())), new byte[0]);
                return 204;
            }
            byte[] bytes = p.bytes.toByteArray();
            partials.remove(path);
            String arrived = sha256Unchecked(bytes);
            if (!arrived.equals(sha)) {
                return error(x, 422, "the sha256 of what arrived is " + arrived + ", not " + sha + " (Upload-Sha256)", Map.of());
            }
            JsonObject record = new JsonObject();
            record.addProperty("name", path.substring(path.lastIndexOf('/') + 1));
            record.addProperty("size", bytes.length);
            record.addProperty("sha256", arrived);
            record.addProperty("receivedAt", Instant.now().toString());
            String meta = x.header("Upload-Meta");
            if (meta != null) record.add("meta", JsonParser.parseString(new String(Base64.getDecoder().decode(meta), StandardCharsets.UTF_8)));
            complete.put(path, new Stored(bytes, record));
            x.respond(201, Map.of("Content-Type", "application/json"), record.toString().getBytes(StandardCharsets.UTF_8));
            return 201;
        }

        /** @return the bytes held of this upload; a partial upload of another declared file is discarded */
        private long held(String path, long length, String sha) {
            Partial p = partials.get(path);
            if (p == null) return 0;
            if (p.length != length || !p.sha256.equals(sha)) {
                partials.remove(path);
                return 0;
            }
            return p.bytes.size();
        }

        private static int error(LoopbackHttpsServer.Exchange x, int status, String message, Map<String, String> headers) throws IOException {
            JsonObject o = new JsonObject();
            o.addProperty("error", message);
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put("Content-Type", "application/json");
            x.respond(status, h, o.toString().getBytes(StandardCharsets.UTF_8));
            return status;
        }

        private static String sha256Unchecked(byte[] b) {
            try {
                return sha256(b);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
