package server.console;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import server.http.Tokens;
import server.store.ServerStore;

/**
 * Console sessions. A session is 32 random bytes in an HttpOnly, Secure, SameSite=Strict cookie; the store keeps only
 * its SHA-256, with the session's CSRF token and its times, so a server restart signs nobody out (the live updates
 * resume on their own). A session ends at sign-out, after {@link #IDLE_MILLIS} unused, and {@link #MAX_MILLIS} after
 * sign-in whatever happens.
 */
final class Sessions {
    private static final Logger LOG = Logger.getLogger(Sessions.class.getName());
    static final long IDLE_MILLIS = 60 * 60_000L;
    static final long MAX_MILLIS = 12 * 3600_000L;
    /** A session's last use is written at most this often (a page view need not cost a commit). */
    private static final long TOUCH_EVERY_MILLIS = 60_000L;
    /** Sessions kept at most: signing in more often than this in 12 hours ends the oldest. */
    private static final int MAX_SESSIONS = 1000;

    /** One signed-in browser. {@code usedMs} moves on as it is used. */
    static final class Session {
        final String idHash;
        final String csrf;
        final long createdMs;
        volatile long usedMs;
        volatile long writtenMs;

        Session(String idHash, String csrf, long createdMs, long usedMs) {
            this.idHash = idHash;
            this.csrf = csrf;
            this.createdMs = createdMs;
            this.usedMs = usedMs;
            this.writtenMs = usedMs;
        }
    }

    /** A new session: the cookie's value (shown to the browser once, never stored) and the session. */
    record Issued(String cookieValue, Session session) {}

    private final ServerStore store;
    private final LongSupplier clock;
    private final Map<String, Session> byHash = new ConcurrentHashMap<>();

    Sessions(ServerStore store, LongSupplier clock) {
        this.store = store;
        this.clock = clock;
        long now = clock.getAsLong();
        store.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id_hash, csrf, created_ms, used_ms FROM console_sessions");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Session s = new Session(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4));
                    if (!expired(s, now)) byHash.put(s.idHash, s);
                }
            }
            return null;
        });
        store.writeAndWait(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM console_sessions WHERE created_ms < ? OR used_ms < ?")) {
                ps.setLong(1, now - MAX_MILLIS);
                ps.setLong(2, now - IDLE_MILLIS);
                ps.executeUpdate();
            }
            return null;
        });
    }

    private static boolean expired(Session s, long now) {
        return now - s.createdMs >= MAX_MILLIS || now - s.usedMs >= IDLE_MILLIS;
    }

    /** Starts a session (the caller has checked the credentials); it is on disk when this returns. */
    Issued signIn() {
        long now = clock.getAsLong();
        if (byHash.size() >= MAX_SESSIONS) dropOldest();
        String cookie = Tokens.newToken();
        Session s = new Session(Tokens.sha256Hex(cookie), Tokens.newToken(), now, now);
        store.writeAndWait(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO console_sessions(id_hash, csrf, created_ms, used_ms) VALUES (?, ?, ?, ?)")) {
                ps.setString(1, s.idHash);
                ps.setString(2, s.csrf);
                ps.setLong(3, s.createdMs);
                ps.setLong(4, s.usedMs);
                ps.executeUpdate();
            }
            return null;
        });
        byHash.put(s.idHash, s);
        return new Issued(cookie, s);
    }

    /** The live session for a cookie's value, marked as used now; null if there is none or it has expired. */
    Session find(String cookieValue) {
        Session s = peek(cookieValue);
        if (s == null) return null;
        long now = clock.getAsLong();
        s.usedMs = now;
        if (now - s.writtenMs >= TOUCH_EVERY_MILLIS) {
            s.writtenMs = now;
            store.writeSoon(c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE console_sessions SET used_ms = ? WHERE id_hash = ?")) {
                    ps.setLong(1, now);
                    ps.setString(2, s.idHash);
                    ps.executeUpdate();
                }
                return null;
            }, (v, err) -> {
                if (err != null) LOG.log(Level.WARNING, "cannot record a console session's use", err);
            });
        }
        return s;
    }

    /** The live session for a cookie's value without marking it used (a stream checking it is still signed in). */
    Session peek(String cookieValue) {
        if (cookieValue == null || cookieValue.isEmpty() || cookieValue.length() > 100) return null;
        Session s = byHash.get(Tokens.sha256Hex(cookieValue));
        if (s == null) return null;
        if (expired(s, clock.getAsLong())) {
            end(s);
            return null;
        }
        return s;
    }

    /** Whether the session is still signed in (not ended, not expired). */
    boolean alive(Session s) {
        return byHash.get(s.idHash) == s && !expired(s, clock.getAsLong());
    }

    /** Ends a session: sign-out, or expiry. It is gone from the store when this returns (a restart does not bring it back). */
    void end(Session s) {
        if (byHash.remove(s.idHash) == null) return;
        store.writeAndWait(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM console_sessions WHERE id_hash = ?")) {
                ps.setString(1, s.idHash);
                ps.executeUpdate();
            }
            return null;
        });
    }

    private void dropOldest() {
        Session oldest = null;
        for (Session s : byHash.values()) if (oldest == null || s.usedMs < oldest.usedMs) oldest = s;
        if (oldest != null) end(oldest);
    }

    /** Sessions held now (for tests). */
    int size() {
        return byHash.size();
    }
}
