package server;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** RFC 3339 UTC times, to the millisecond, as docs/protocol.md writes them. */
public final class Times {
    private Times() {}

    public static Instant nowInstant() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }

    public static String now() {
        return nowInstant().toString();
    }
}
