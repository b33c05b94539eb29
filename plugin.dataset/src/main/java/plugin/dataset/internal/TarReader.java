package plugin.dataset.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a tar stream entry by entry: POSIX ustar and pax (POSIX.1-2001 extended headers: {@code path},
 * {@code linkpath}, {@code size}, {@code mtime}) and the GNU long name and long link extensions, which between them
 * cover what GNU tar, bsdtar, Python's tarfile and Commons Compress write. Sparse files (GNU or pax) are refused.
 *
 * <p>Written here rather than taken from Apache Commons Compress: its tar package pulls in its zip package,
 * commons-io and commons-lang3 (about 2 MB of classes for an agent whose whole runtime is a few MB), and the system's
 * tar extracts before anything can be checked. The format is small and fixed; every field read is bounds-checked, and
 * headers the reader cannot vouch for (a bad checksum, a number that is not a number) end the read with an error.
 */
final class TarReader {
    /** One entry: its header as read; its data is read through {@link TarReader#read}. */
    record Entry(String name, char type, long size, int mode, long mtime, String linkName) {
        boolean isFile() { return type == '0' || type == '\0' || type == '7'; }

        boolean isDirectory() { return type == '5'; }

        boolean isSymlink() { return type == '2'; }

        boolean isHardLink() { return type == '1'; }
    }

    /** Pax headers and GNU long names larger than this are refused: no archive needs them, a bomb would. */
    static final int MAX_META_BYTES = 1 << 20;

    private final InputStream in;
    private final byte[] block = new byte[512];
    private long remaining;     // data bytes of the current entry not yet read
    private long padding;       // bytes after them up to the next 512-byte boundary
    private Map<String, String> global = new HashMap<>();

    TarReader(InputStream in) { this.in = in; }

    /** @return the next entry, or null at the end of the archive @throws IOException if the archive is damaged */
    Entry next() throws IOException {
        skip(remaining + padding);
        remaining = 0;
        padding = 0;
        String longName = null;
        String longLink = null;
        Map<String, String> pax = new HashMap<>(global);
        while (true) {
            if (!readBlock()) return null; // end of stream without the two zero blocks: accepted, as tar does
            if (isZero(block)) return null;
            checkChecksum();
            char type = (char) (block[156] & 0xff);
            long size = number(124, 12, "size");
            if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
                byte[] meta = readMeta(size);
                if (type == 'L') longName = cString(meta, 0, meta.length);
                else if (type == 'K') longLink = cString(meta, 0, meta.length);
                else if (type == 'x') pax.putAll(paxRecords(meta));
                else global.putAll(paxRecords(meta));
                if (type == 'g') pax.putAll(global);
                continue;
            }
            if (type == 'S' || pax.keySet().stream().anyMatch(k -> k.startsWith("GNU.sparse"))) {
                throw new IOException("sparse files are not supported (entry " + quote(name(longName, pax)) + ")");
            }
            if (type == 'V') { // a GNU volume label: no data, not a file
                skip(size + pad(size));
                continue;
            }
            String name = name(longName, pax);
            String link = longLink != null ? longLink : pax.containsKey("linkpath") ? pax.get("linkpath") : cString(block, 157, 100);
            if (pax.containsKey("size")) size = paxNumber(pax.get("size"), "size");
            long mtime = pax.containsKey("mtime") ? (long) Double.parseDouble(pax.get("mtime")) : number(136, 12, "mtime");
            int mode = (int) number(100, 8, "mode");
            // links, directories and devices carry no data whatever their size field says
            boolean data = type == '0' || type == '\0' || type == '7';
            remaining = data ? size : 0;
            padding = data ? pad(size) : 0;
            return new Entry(name, type, data ? size : 0, mode, mtime, link);
        }
    }

    private String name(String longName, Map<String, String> pax) {
        if (longName != null) return longName;
        if (pax.containsKey("path")) return pax.get("path");
        String name = cString(block, 0, 100);
        // the POSIX ustar prefix; GNU's own format ("ustar  ") keeps other fields there
        boolean posix = block[257] == 'u' && block[258] == 's' && block[259] == 't' && block[260] == 'a' && block[261] == 'r' && block[262] == 0;
        String prefix = posix ? cString(block, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    /** Reads the current entry's data. @return bytes read, or -1 at the end of the entry's data */
    int read(byte[] buf, int off, int len) throws IOException {
        if (remaining <= 0) return -1;
        int n = in.read(buf, off, (int) Math.min(len, remaining));
        if (n < 0) throw new EOFException("the archive ends inside an entry's data (" + remaining + " bytes missing)");
        remaining -= n;
        return n;
    }

    private boolean readBlock() throws IOException {
        int n = in.readNBytes(block, 0, 512);
        if (n == 0) return false;
        if (n < 512) throw new EOFException("the archive ends inside a header block");
        return true;
    }

    private void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (in.read() < 0) throw new EOFException("the archive ends inside an entry's data");
                s = 1;
            }
            left -= s;
        }
    }

    private byte[] readMeta(long size) throws IOException {
        if (size < 0 || size > MAX_META_BYTES) {
            throw new IOException("an extended header of " + size + " bytes is larger than the " + MAX_META_BYTES + " this reader accepts");
        }
        byte[] meta = in.readNBytes((int) size);
        if (meta.length < size) throw new EOFException("the archive ends inside an extended header");
        skip(pad(size));
        return meta;
    }

    private static long pad(long size) { return (512 - size % 512) % 512; }

    private static boolean isZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    private void checkChecksum() throws IOException {
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < 512; i++) {
            int v = i >= 148 && i < 156 ? ' ' : block[i];
            unsigned += v & 0xff;
            signed += v;
        }
        long stored = number(148, 8, "checksum");
        // old tars summed signed bytes; both are accepted, as GNU tar does
        if (stored != unsigned && stored != signed) {
            throw new IOException("a header's checksum does not match (stored " + stored + ", computed " + unsigned + "): not a tar archive, or a damaged one");
        }
    }

    /** A numeric header field: octal ASCII ended by NUL or space, or GNU's base-256 (first byte's high bit set). */
    private long number(int off, int len, String field) throws IOException {
        if ((block[off] & 0x80) != 0) {
            if ((block[off] & 0x40) != 0) throw new IOException("a negative " + field + " in a tar header");
            long v = block[off] & 0x3f;
            for (int i = 1; i < len; i++) {
                if (v > (Long.MAX_VALUE >> 8)) throw new IOException("the " + field + " field overflows");
                v = v << 8 | (block[off + i] & 0xff);
            }
            return v;
        }
        long v = 0;
        int i = off;
        int end = off + len;
        while (i < end && (block[i] == ' ' || block[i] == 0)) i++;
        boolean digits = false;
        for (; i < end; i++) {
            byte b = block[i];
            if (b == 0 || b == ' ') break;
            if (b < '0' || b > '7') throw new IOException("the " + field + " field of a tar header is not an octal number");
            if (v > (Long.MAX_VALUE >> 3)) throw new IOException("the " + field + " field overflows");
            v = v << 3 | (b - '0');
            digits = true;
        }
        if (!digits && !field.equals("mtime") && !field.equals("mode")) {
            if (field.equals("size")) return 0;
            throw new IOException("the " + field + " field of a tar header is empty");
        }
        return v;
    }

    private static long paxNumber(String v, String key) throws IOException {
        try {
            long n = Long.parseLong(v.trim());
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IOException("the pax header's " + key + " is not a number: " + quote(v));
        }
    }

    /** Pax records: "LEN KEY=VALUE\n", LEN counting the whole record in bytes. */
    static Map<String, String> paxRecords(byte[] meta) throws IOException {
        Map<String, String> out = new HashMap<>();
        int i = 0;
        while (i < meta.length) {
            if (meta[i] == 0) break; // padding some writers leave
            int sp = i;
            while (sp < meta.length && meta[sp] != ' ') sp++;
            int len;
            try {
                len = Integer.parseInt(new String(meta, i, sp - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new IOException("a pax header record has no valid length");
            }
            int end = i + len;
            if (len <= 0 || end > meta.length || meta[end - 1] != '\n') throw new IOException("a pax header record's length is wrong");
            String rec = new String(meta, sp + 1, end - sp - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            if (eq <= 0) throw new IOException("a pax header record has no key");
            out.put(rec.substring(0, eq), rec.substring(eq + 1));
            i = end;
        }
        return out;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    static String quote(String s) { return Text.quote(s); }
}
