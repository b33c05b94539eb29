package plugin.backup.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A verbose listing that tar wrote to an {@code --index-file}, read line by line (never held whole: an archive may
 * have millions of entries). In the C locale with c quoting every byte above 0x7e is escaped, so it is ASCII.
 */
final class Listing {
    private Listing() {}

    /** What a listing adds up to. */
    static final class Totals {
        long entries;
        long fileBytes;

        void add(TarEntry e) {
            entries++;
            if (e.isFile()) fileBytes += e.size();
        }
    }

    interface EntryConsumer {
        void accept(TarEntry e) throws IOException;
    }

    /** @param index a listing @param each called with every entry, in order */
    static void read(Path index, EntryConsumer each) throws IOException {
        try (InputStream in = Files.newInputStream(index);
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1), 1 << 16)) {
            for (String line; (line = r.readLine()) != null;) {
                TarEntry e;
                try {
                    e = TarEntry.parse(line);
                } catch (IllegalArgumentException bad) {
                    throw new IOException(bad.getMessage());
                }
                if (e != null) each.accept(e);
            }
        }
    }

    /** @param index a listing @return its totals */
    static Totals totals(Path index) throws IOException {
        Totals t = new Totals();
        read(index, t::add);
        return t;
    }
}
