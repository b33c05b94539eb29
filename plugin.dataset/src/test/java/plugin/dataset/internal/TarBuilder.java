package plugin.dataset.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/** Writes ustar archives entry by entry, hostile ones included: what real tar tools refuse to make. */
final class TarBuilder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    TarBuilder file(String name, byte[] content) { return entry(name, '0', content, "", 0644); }

    TarBuilder file(String name, String content, int mode) { return entry(name, '0', content.getBytes(StandardCharsets.UTF_8), "", mode); }

    TarBuilder dir(String name) { return entry(name, '5', new byte[0], "", 0755); }

    TarBuilder symlink(String name, String target) { return entry(name, '2', new byte[0], target, 0777); }

    TarBuilder hardlink(String name, String target) { return entry(name, '1', new byte[0], target, 0644); }

    TarBuilder device(String name, char type) { return entry(name, type, new byte[0], "", 0600); }

    /** An entry with a data size header but the data only as long as given: for bombs, a size and zeros streamed by gzip. */
    TarBuilder entry(String name, char type, byte[] content, String link, int mode) {
        byte[] h = new byte[512];
        put(h, 0, 100, name);
        put(h, 100, 8, String.format("%07o", mode));
        put(h, 108, 8, "0000000");
        put(h, 116, 8, "0000000");
        put(h, 124, 12, String.format("%011o", content.length));
        put(h, 136, 12, String.format("%011o", 1_700_000_000L));
        h[156] = (byte) type;
        put(h, 157, 100, link);
        put(h, 257, 6, "ustar");
        h[262] = 0;
        put(h, 263, 2, "00");
        for (int i = 148; i < 156; i++) h[i] = ' ';
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        put(h, 148, 8, String.format("%06o", sum));
        h[154] = 0;
        h[155] = ' ';
        out.writeBytes(h);
        out.writeBytes(content);
        out.writeBytes(new byte[(512 - content.length % 512) % 512]);
        return this;
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > len) throw new IllegalArgumentException(s + " does not fit in " + len + " bytes");
        System.arraycopy(b, 0, h, off, b.length);
    }

    byte[] tar() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(out.toByteArray());
        all.writeBytes(new byte[1024]);
        return all.toByteArray();
    }

    byte[] tarGz() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            gz.write(tar());
        }
        return b.toByteArray();
    }

    /** @return the 512-byte header of a file entry that says {@code size} bytes follow */
    static byte[] zeroBombHeader(String name, long size) {
        byte[] h = java.util.Arrays.copyOf(new TarBuilder().entry(name, '0', new byte[0], "", 0644).out.toByteArray(), 512);
        String oct = String.format("%011o", size);
        System.arraycopy(oct.getBytes(StandardCharsets.US_ASCII), 0, h, 124, 11);
        for (int i = 148; i < 156; i++) h[i] = ' ';
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += h[i] & 0xff;
        byte[] cs = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(cs, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    /** @return a tar.gz of one file of {@code size} zero bytes, streamed: a gzip bomb of a few hundred KiB */
    static byte[] zeroBomb(String name, long size) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            gz.write(zeroBombHeader(name, size));
            byte[] zeros = new byte[1 << 16];
            for (long left = size + (512 - size % 512) % 512 + 1024; left > 0; left -= zeros.length) {
                gz.write(zeros, 0, (int) Math.min(zeros.length, left));
            }
        }
        return b.toByteArray();
    }
}
