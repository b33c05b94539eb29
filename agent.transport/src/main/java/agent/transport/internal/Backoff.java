package agent.transport.internal;

import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with full jitter (PROTOCOL.md §5): random(0, min(cap, base × 2^attempt)), base 1 s. */
final class Backoff {
    private final long capMs;
    private int attempt;

    Backoff(int capSeconds) { this.capMs = capSeconds * 1000L; }

    synchronized long nextDelayMs() {
        long ceiling = Math.min(capMs, 1000L << Math.min(attempt, 30));
        attempt++;
        return ThreadLocalRandom.current().nextLong(ceiling + 1);
    }

    /** Rejected credentials: wait the longest interval, do not hammer the server. */
    long capMs() { return capMs; }

    synchronized void reset() { attempt = 0; }

    synchronized int attempts() { return attempt; }
}
