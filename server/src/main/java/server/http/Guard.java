package server.http;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Rate limits per source address (issue 23, item 3): enrolments, and refused authentications on every endpoint
 * (wrong enrolment, agent or operator token). A source over a limit is answered 429 with {@code Retry-After}, without
 * its credentials being looked at, until its bucket refills. IPv6 sources count by their /64, the smallest network a
 * host is given. Refusals are logged as a {@link SummaryLog}: a flood costs a few lines a minute.
 */
public final class Guard implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Guard.class.getName());
    /** Sources tracked at most; full buckets are dropped first (a full bucket is the same as none). */
    private static final int MAX_SOURCES = 100_000;

    /**
     * A token bucket's settings.
     *
     * @param perMinute tokens added per minute; 0 turns the limit off
     * @param burst     tokens a source starts with, and holds at most
     */
    public record Rate(int perMinute, int burst) {
        public Rate {
            if (perMinute < 0) throw new IllegalArgumentException("a rate per minute must be 0 (no limit) or more, got " + perMinute);
            if (burst < 1) throw new IllegalArgumentException("a burst must be at least 1, got " + burst);
        }

        boolean off() {
            return perMinute == 0;
        }
    }

    public static final Rate DEFAULT_ENROL = new Rate(60, 1000);
    public static final Rate DEFAULT_AUTH_FAILURES = new Rate(60, 100);

    private final Buckets enrol;
    private final Buckets failures;
    private final SummaryLog refusals = new SummaryLog(LOG, Level.WARNING, "refused authentication");
    private final SummaryLog limited = new SummaryLog(LOG, Level.WARNING, "rate-limited (429)");
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "guard-summary");
        t.setDaemon(true);
        return t;
    });

    public Guard(Rate enrol, Rate authFailures) {
        this.enrol = new Buckets(enrol);
        this.failures = new Buckets(authFailures);
        timer.scheduleWithFixedDelay(this::flush, 60, 60, TimeUnit.SECONDS);
    }

    /** Takes one enrolment from the source's allowance, or refuses with 429. */
    public void enrolment(InetAddress source) {
        long wait = enrol.take(key(source));
        if (wait > 0) throw limited(source, wait, "too many enrolments from this address");
    }

    /** Before credentials are checked: refuses with 429 a source that has used up its refused authentications. */
    public void mayAuthenticate(InetAddress source) {
        long wait = failures.waitMillis(key(source));
        if (wait > 0) throw limited(source, wait, "too many refused authentications from this address");
    }

    /** For the WebSocket upgrade, which answers by itself: the seconds to wait, or 0 if the source may try. */
    public long retryAfterSeconds(InetAddress source) {
        long wait = failures.waitMillis(key(source));
        if (wait > 0) limited.note(String.valueOf(key(source)), "too many refused authentications from this address");
        return seconds(wait);
    }

    /** Counts a refused authentication against the source and logs it (summed up). */
    public void refused(InetAddress source, String why) {
        String k = key(source);
        failures.take(k);
        refusals.note(k, why);
    }

    private ApiException limited(InetAddress source, long waitMillis, String why) {
        limited.note(key(source), why);
        long s = seconds(waitMillis);
        return new ApiException(429, why + ": try again in " + s + " s", s);
    }

    private static long seconds(long millis) {
        return millis <= 0 ? 0 : Math.max(1, (millis + 999) / 1000);
    }

    /** The address, or its /64 for IPv6. */
    static String key(InetAddress a) {
        if (a == null) return "unknown";
        if (a instanceof Inet6Address) {
            byte[] b = a.getAddress();
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 8; i += 2) sb.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
            return sb.append(":/64").toString();
        }
        return a.getHostAddress();
    }

    /** Logs what was counted since the last summary. */
    public void flush() {
        refusals.flush();
        limited.flush();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        flush();
    }

    /** Token buckets by source, refilled by the time that passed. */
    private static final class Buckets {
        private final Rate rate;
        private final Map<String, Bucket> bySource = new ConcurrentHashMap<>();

        Buckets(Rate rate) {
            this.rate = rate;
        }

        private final class Bucket {
            double tokens = rate.burst();
            long at = System.nanoTime();

            /** Refills for the time passed; call under the bucket's lock. */
            void refill(long now) {
                tokens = Math.min(rate.burst(), tokens + (now - at) / 60e9 * rate.perMinute());
                at = now;
            }

            long millisToOne() {
                return tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) * 60_000 / rate.perMinute());
            }
        }

        /** Takes a token if there is one; returns 0, or how long until one is there. */
        long take(String key) {
            if (rate.off()) return 0;
            Bucket b = bySource.get(key);
            if (b == null) {
                if (bySource.size() >= MAX_SOURCES) sweep();
                b = bySource.computeIfAbsent(key, k -> new Bucket());
            }
            synchronized (b) {
                b.refill(System.nanoTime());
                if (b.tokens >= 1) {
                    b.tokens -= 1;
                    return 0;
                }
                return b.millisToOne();
            }
        }

        /** How long until the source has a token (0: it has one now); takes nothing. */
        long waitMillis(String key) {
            if (rate.off()) return 0;
            Bucket b = bySource.get(key);
            if (b == null) return 0;
            synchronized (b) {
                b.refill(System.nanoTime());
                return b.millisToOne();
            }
        }

        private void sweep() {
            long now = System.nanoTime();
            for (Iterator<Bucket> it = bySource.values().iterator(); it.hasNext(); ) {
                Bucket b = it.next();
                synchronized (b) {
                    b.refill(now);
                    if (b.tokens >= rate.burst()) it.remove();
                }
            }
            if (bySource.size() >= MAX_SOURCES) bySource.clear(); // too many busy sources to tell apart: start over
        }
    }
}
