package server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerStoreTest {
    @TempDir Path dir;
    ServerStore store;

    @BeforeEach
    void open() throws Exception {
        store = ServerStore.open(dir.resolve("server.db"));
        store.enroll("a1", "host", "hash-1", "2026-11-24T10:00:00Z");
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void aWriteThatCanWaitCommitsOnItsOwnAfterTheDelay() throws Exception {
        CompletableFuture<Long> committed = new CompletableFuture<>();
        long t0 = System.nanoTime();
        store.writeSoon(ServerStore.plugins("a1", "[1]"), (v, err) -> committed.complete(System.nanoTime()));
        long t = committed.get(5, TimeUnit.SECONDS) - t0;
        assertThat(t).as("held for a write to share its commit").isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(ServerStore.SOON_MILLIS - 2));
        assertThat(store.agent("a1").plugins()).isEqualTo("[1]");
    }

    @Test
    void aFailingWriteIsUndoneAloneAndTheOthersInItsCommitStay() throws Exception {
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        store.writeSoon(c -> {
            ServerStore.plugins("a1", "[\"lost\"]").run(c);
            throw new IllegalStateException("this write fails after its update");
        }, (v, err) -> failed.complete(err));
        store.writeAndWait(ServerStore.seen(java.util.Map.of("a1", "2026-11-24T11:00:00Z"), true));
        assertThat(failed.get(5, TimeUnit.SECONDS)).hasMessageContaining("fails after its update");
        assertThat(store.agent("a1").plugins()).as("the failed write's update is rolled back").isNull();
        assertThat(store.agent("a1").lastSeen()).as("the other write in the same commit stays").isEqualTo("2026-11-24T11:00:00Z");
    }

    @Test
    void aWriteThatCanWaitRidesTheNextCommitAndALaterWriteSeesIt() throws Exception {
        CompletableFuture<Boolean> soonDone = new CompletableFuture<>();
        store.writeSoon(ServerStore.plugins("a1", "[2]"), (v, err) -> soonDone.complete(err == null));
        String seen = store.writeAndWait(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT plugins FROM agents WHERE agent_id = 'a1'");
                 ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        });
        assertThat(seen).as("run in order before the later write").isEqualTo("[2]");
        assertThat(soonDone).as("committed by the same commit").isCompletedWithValue(true);
    }
}
