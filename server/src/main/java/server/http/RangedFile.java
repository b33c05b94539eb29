package server.http;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;

/**
 * Serves a file named by its sha256 (a data set, a plugin jar, a backup) to {@code GET} and {@code HEAD} as
 * docs/protocol.md §7.1 says: {@code ETag: "<sha256>"}, {@code Accept-Ranges: bytes}, a single {@code Range} answered
 * with 206 and {@code Content-Range}, 416 for one beyond the end. Streamed from the file, never read into memory.
 */
public final class RangedFile {
    private RangedFile() {}

    /**
     * @param file        the file; its content is the one {@code sha256} names
     * @param size        its size
     * @param sha256      its sha256: the ETag
     * @param contentType what it is
     * @param what        what to call it in a 416's message, e.g. "this data set"
     */
    public static void serve(Exchange ex, Path file, long size, String sha256, String contentType, String what) {
        String etag = "\"" + sha256 + "\"";
        List<HttpField> headers = new ArrayList<>(List.of(new HttpField(HttpHeader.ETAG, etag), new HttpField(HttpHeader.ACCEPT_RANGES, "bytes")));
        boolean headOnly = ex.method().equals("HEAD");
        String range = ex.header(HttpHeader.RANGE);
        String ifRange = ex.header(HttpHeader.IF_RANGE);
        // the content of a sha256 never changes: a range is served unless If-Range names another file
        if (range != null && (ifRange == null || ifRange.equals(etag))) {
            long[] r = range(range, size);
            if (r == null) {
                ex.error(416, "the range '" + range + "' is not within the " + size + " bytes of " + what,
                    List.of(new HttpField(HttpHeader.CONTENT_RANGE, "bytes */" + size)));
                return;
            }
            headers.add(new HttpField(HttpHeader.CONTENT_RANGE, "bytes " + r[0] + "-" + r[1] + "/" + size));
            ex.file(206, contentType, file, r[0], r[1] - r[0] + 1, headers, headOnly);
            return;
        }
        ex.file(200, contentType, file, 0, size, headers, headOnly);
    }

    /** @return {first, last} of a single {@code bytes=N-[M]} or {@code bytes=-N} range within {@code size}, or null */
    static long[] range(String header, long size) {
        if (!header.startsWith("bytes=") || header.contains(",")) return null;
        String spec = header.substring(6).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) return null;
        try {
            String a = spec.substring(0, dash).trim();
            String b = spec.substring(dash + 1).trim();
            long first;
            long last;
            if (a.isEmpty()) {
                long n = Long.parseLong(b);
                if (n <= 0) return null;
                first = Math.max(0, size - n);
                last = size - 1;
            } else {
                first = Long.parseLong(a);
                last = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
            }
            return first < 0 || first >= size || last < first ? null : new long[] {first, last};
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
