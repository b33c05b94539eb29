package server.console;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import server.http.Tokens;

/**
 * The console's static files (its style sheet, script and icon), read from the server's jar once at start, with their
 * gzipped forms and a content hash. Pages link them as {@code /console/static/NAME?v=HASH}: a browser keeps them for a
 * year and asks again only when a new server ships new ones. Nothing is fetched from anywhere else.
 */
final class Assets {
    /** One file, ready to send. */
    record Asset(String name, String contentType, byte[] bytes, byte[] gzipped, String hash) {}

    private static final String DIR = "/server/console/static/";
    private static final Map<String, String> TYPES = Map.of(
        "console.css", "text/css; charset=utf-8",
        "console.js", "text/javascript; charset=utf-8",
        "icon.svg", "image/svg+xml");

    private final Map<String, Asset> byName;

    Assets() {
        java.util.HashMap<String, Asset> m = new java.util.HashMap<>();
        for (Map.Entry<String, String> e : TYPES.entrySet()) {
            byte[] b = read(DIR + e.getKey());
            m.put(e.getKey(), new Asset(e.getKey(), e.getValue(), b, gzip(b), HexFormat.of().formatHex(Tokens.sha256(b)).substring(0, 12)));
        }
        byName = Map.copyOf(m);
    }

    Asset get(String name) {
        return byName.get(name);
    }

    /** The URL a page links a file by: it changes when the file does. */
    String url(String name) {
        return "/console/static/" + name + "?v=" + byName.get(name).hash();
    }

    private static byte[] read(String resource) {
        try (InputStream in = Assets.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("the console's " + resource + " is missing from the server's jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource + " from the server's jar", e);
        }
    }

    static byte[] gzip(byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length / 3 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: does not happen
        }
        return out.toByteArray();
    }
}
