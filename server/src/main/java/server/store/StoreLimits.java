package server.store;

/**
 * What one agent may keep in the store beyond the results of the commands the server issued to it (those are bounded
 * by the commands the operator sends and by the output cap). Offline results (an offline run's report, or a result
 * for an id the server never issued) are refused beyond their bounds; events are a window, the oldest dropped first,
 * so that an agent that reports health for months is never cut off.
 *
 * @param maxOfflineResults     offline results per agent
 * @param maxOfflineResultBytes their total size (UTF-8 JSON) per agent
 * @param maxEvents             events kept per agent
 * @param maxEventBytes         their total size (UTF-8 JSON) per agent
 */
public record StoreLimits(int maxOfflineResults, long maxOfflineResultBytes, int maxEvents, long maxEventBytes) {
    public static final StoreLimits DEFAULTS = new StoreLimits(10_000, 256L << 20, 100_000, 64L << 20);

    public StoreLimits {
        if (maxOfflineResults < 1) throw new IllegalArgumentException("--max-offline-results must be at least 1, got " + maxOfflineResults);
        if (maxOfflineResultBytes < 1) {
            throw new IllegalArgumentException("--max-offline-result-bytes must be at least 1, got " + maxOfflineResultBytes);
        }
        if (maxEvents < 1) throw new IllegalArgumentException("--max-events must be at least 1, got " + maxEvents);
        if (maxEventBytes < 1) throw new IllegalArgumentException("--max-event-bytes must be at least 1, got " + maxEventBytes);
    }
}
