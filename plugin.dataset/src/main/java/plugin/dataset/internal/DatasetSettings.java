package plugin.dataset.internal;

import java.nio.file.Path;

/**
 * The plugin's config section, {@code plugins.settings.dataset}.
 *
 * @param caFile                PEM certificates trusted for downloads besides the system's trust store (a private CA)
 * @param httpsProxy            proxy URL for downloads; default: the environment's {@code https_proxy}
 * @param insecureHttp          allow plain {@code http://} URLs (development only; the output warns each time)
 * @param maxExtractedBytes     the most an archive may expand to (archive bombs), default 64 GiB
 * @param maxEntries            the most entries an archive may have, default 1,000,000
 * @param retries               how often a dropped download is resumed within one command, default 5
 * @param retryDelayMs          the first wait before resuming, doubled each time (at most 30 s), default 1000
 * @param stallSeconds          a download that receives nothing for this long is dropped and resumed, default 60
 * @param connectTimeoutSeconds how long a connection may take to open, default 30
 */
record DatasetSettings(Path caFile, String httpsProxy, boolean insecureHttp, long maxExtractedBytes, long maxEntries, int retries,
                       long retryDelayMs, int stallSeconds, int connectTimeoutSeconds) {
    static DatasetSettings defaults() {
        return new DatasetSettings(null, null, false, 64L << 30, 1_000_000, 5, 1000, 60, 30);
    }

    DatasetSettings {
        if (caFile != null && !caFile.isAbsolute()) throw new IllegalArgumentException("key 'ca_file' must be an absolute path, got '" + caFile + "'");
        if (maxExtractedBytes < 1) throw new IllegalArgumentException("key 'max_extracted_bytes' must be at least 1, got " + maxExtractedBytes);
        if (maxEntries < 1) throw new IllegalArgumentException("key 'max_entries' must be at least 1, got " + maxEntries);
        if (retries < 0 || retries > 100) throw new IllegalArgumentException("key 'retries' must be 0 to 100, got " + retries);
        if (retryDelayMs < 0 || retryDelayMs > 60_000) throw new IllegalArgumentException("key 'retry_delay_ms' must be 0 to 60000, got " + retryDelayMs);
        if (stallSeconds < 1 || stallSeconds > 3600) throw new IllegalArgumentException("key 'stall_seconds' must be 1 to 3600, got " + stallSeconds);
        if (connectTimeoutSeconds < 1 || connectTimeoutSeconds > 600) {
            throw new IllegalArgumentException("key 'connect_timeout_seconds' must be 1 to 600, got " + connectTimeoutSeconds);
        }
    }
}
