package plugin.backup.internal;

import java.util.Locale;

/** How an archive is compressed: by tar's own filter options, which run the gzip or zstd program. */
enum Compression {
    GZIP(".tar.gz", "--gzip", "gzip", "gzip"),
    ZSTD(".tar.zst", "--zstd", "zstd", "zstd"),
    NONE(".tar", null, null, null);

    final String suffix;
    final String tarOption;
    final String program;
    final String pkg;

    Compression(String suffix, String tarOption, String program, String pkg) {
        this.suffix = suffix;
        this.tarOption = tarOption;
        this.program = program;
        this.pkg = pkg;
    }

    /** @return the name used in params and manifests */
    String wireName() { return name().toLowerCase(Locale.ROOT); }

    /** @param fileName an archive's file name @return its compression, by suffix, or null */
    static Compression ofFile(String fileName) {
        for (Compression c : new Compression[] {GZIP, ZSTD, NONE}) if (fileName.endsWith(c.suffix)) return c;
        return null;
    }
}
