package server.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import server.store.ServerStore;

/** Console sessions on a real store, with a clock the test moves: they expire when idle, and at the latest 12 h after sign-in. */
class SessionsTest {
    @TempDir
    Path dir;
    ServerStore store;
    final AtomicLong now = new AtomicLong(1_800_000_000_000L);

    @BeforeEach
    void open() throws Exception {
        store = ServerStore.open(dir.resolve("server.db"));
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aSessionUnusedForAnHourEnds() {
        Sessions sessions = new Sessions(store, now::get);
        Sessions.Issued s = sessions.signIn();
        now.addAndGet(Sessions.IDLE_MILLIS - 1000);
        assertThat(sessions.find(s.cookieValue())).as("used just within the hour").isNotNull();
        now.addAndGet(Sessions.IDLE_MILLIS - 1000);
        assertThat(sessions.find(s.cookieValue())).as("used again within the hour").isNotNull();
        now.addAndGet(Sessions.IDLE_MILLIS);
        assertThat(sessions.find(s.cookieValue())).as("an hour unused").isNull();
        assertThat(sessions.size()).isZero();
    }

    @Test
    void aSessionInUseStillEndsTwelveHoursAfterSignIn() {
        Sessions sessions = new Sessions(store, now::get);
        Sessions.Issued s = sessions.signIn();
        for (long t = 0; t < Sessions.MAX_MILLIS - 60_000; t += 30 * 60_000L) {
            assertThat(sessions.find(s.cookieValue())).isNotNull();
            now.addAndGet(30 * 60_000L);
        }
        now.set(s.session().createdMs + Sessions.MAX_MILLIS);
        assertThat(sessions.find(s.cookieValue())).isNull();
    }

    @Test
    void sessionsAreKeptAsHashesAndComeBackAfterARestartUnlessExpired() throws Exception {
        Sessions first = new Sessions(store, now::get);
        Sessions.Issued kept = first.signIn();
        Sessions.Issued old = first.signIn();
        Sessions.Issued ended = first.signIn();
        first.end(ended.session());
        String stored = store.read(c -> {
            try (var rs = c.createStatement().executeQuery("SELECT group_concat(id_hash) FROM console_sessions")) {
                return rs.next() ? rs.getString(1) : "";
            }
        });
        assertThat(stored).doesNotContain(kept.cookieValue()).contains(kept.session().idHash);

        now.addAndGet(Sessions.IDLE_MILLIS / 2);
        first.find(kept.cookieValue());
        // its last use reaches the store at most once a minute: wait for it, bounded
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (storedUse(kept.session().idHash) != now.get() && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(storedUse(kept.session().idHash)).isEqualTo(now.get());

        now.addAndGet(Sessions.IDLE_MILLIS / 2 + 1000); // "old" was last used an hour ago, "kept" half an hour ago
        Sessions second = new Sessions(store, now::get);
        assertThat(second.find(kept.cookieValue())).isNotNull();
        assertThat(second.find(old.cookieValue())).isNull();
        assertThat(second.find(ended.cookieValue())).isNull();
        assertThat(second.find("made-up")).isNull();
    }

    private long storedUse(String idHash) {
        return store.read(c -> {
            try (var ps = c.prepareStatement("SELECT used_ms FROM console_sessions WHERE id_hash = ?")) {
                ps.setString(1, idHash);
                try (var rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : -1L;
                }
            }
        });
    }
}
