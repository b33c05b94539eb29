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

    /**
     * A version 1 store (before issue 23) may hold a result that pre-empted a command: stored for an id before the
     * command existed, under another agent. Migrated, it is that agent's offline result and the command has none.
     */
    @Test
    void aVersion1StoreIsMigratedAndAPreemptingResultBecomesItsAgentsOwn() throws Exception {
        Path old = dir.resolve("v1.db");
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + old);
             java.sql.Statement st = c.createStatement()) {
            st.execute("CREATE TABLE agents (agent_id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, hostname TEXT, machine_id TEXT,"
                + " hello TEXT, plugins TEXT, transport TEXT, connected INTEGER NOT NULL DEFAULT 0, last_seen TEXT, enrolled_at TEXT NOT NULL)");
            st.execute("CREATE TABLE commands (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, action TEXT NOT NULL, params TEXT NOT NULL,"
                + " timeout_seconds INTEGER, issued_at TEXT NOT NULL, expires_at TEXT, state TEXT NOT NULL,"
                + " cancel_requested INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL)");
            st.execute("CREATE INDEX commands_by_agent_state ON commands(agent_id, state)");
            st.execute("CREATE TABLE results (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, status TEXT NOT NULL, result TEXT NOT NULL,"
                + " received_at TEXT NOT NULL)");
            st.execute("CREATE INDEX results_by_agent ON results(agent_id)");
            st.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL, kind TEXT, time TEXT,"
                + " event TEXT NOT NULL, received_at TEXT NOT NULL)");
            st.execute("CREATE TABLE bundles (sha256 TEXT PRIMARY KEY, bsn TEXT NOT NULL, version TEXT NOT NULL, size INTEGER NOT NULL,"
                + " uploaded_at TEXT NOT NULL)");
            st.execute("PRAGMA user_version=1");
            st.execute("INSERT INTO agents(agent_id, token_hash, enrolled_at) VALUES ('a', 'ha', 't'), ('b', 'hb', 't')");
            st.execute("INSERT INTO commands(id, agent_id, action, params, issued_at, state, created_at) VALUES"
                + " ('mine', 'a', 'agent.ping', '{}', 't', 'done', 't'), ('taken', 'a', 'agent.ping', '{}', 't', 'accepted', 't')");
            st.execute("INSERT INTO results VALUES ('mine', 'a', 'succeeded', '{\"id\":\"mine\",\"status\":\"succeeded\"}', 't1'),"
                + " ('taken', 'b', 'succeeded', '{\"id\":\"taken\",\"status\":\"succeeded\"}', 't2'),"
                + " ('offline-1', 'b', 'failed', '{\"id\":\"offline-1\",\"status\":\"failed\"}', 't3')");
            st.execute("INSERT INTO events(agent_id, kind, time, event, received_at) VALUES"
                + " ('a', 'health', '2026-11-24T10:00:00.250Z', '{}', '2026-11-24T10:00:01Z'), ('a', 'health', 'garbled', '{}', '2026-11-24T11:00:00Z')");
        }
        try (ServerStore migrated = ServerStore.open(old)) {
            assertThat(migrated.result("mine")).as("a command's own result stays its result").isNotNull();
            assertThat(migrated.result("taken")).as("the pre-empting result is no longer the command's").isNull();
            assertThat(migrated.results("b", 10)).extracting(r -> r.id() + " " + r.attached()).containsExactly("offline-1 false", "taken false");
            assertThat(migrated.results("a", 10)).extracting(r -> r.id() + " " + r.attached()).containsExactly("mine true");
            // A's result for its command now gets in
            java.util.concurrent.atomic.AtomicReference<server.store.Records.ResultOutcome> outcome = new java.util.concurrent.atomic.AtomicReference<>();
            migrated.writeAndWait(c -> {
                outcome.set(migrated.storeResult(c, "a", "taken", "failed", "{\"id\":\"taken\",\"status\":\"failed\"}", "t4", false));
                return null;
            });
            assertThat(outcome.get()).isEqualTo(server.store.Records.ResultOutcome.STORED);
            assertThat(migrated.result("taken").status()).isEqualTo("failed");
            assertThat(migrated.command("taken").state()).isEqualTo("done");
            assertThat(migrated.command("taken").dryRun()).isFalse();
            assertThat(migrated.agent("a").maxFrameBytes()).isNull();
            // events keep their order, and "since" works on their times (the garbled one goes by when it arrived)
            assertThat(migrated.events("a", null, java.time.Instant.parse("2026-11-24T10:00:00.200Z").toEpochMilli(), null, 10)).hasSize(2);
            assertThat(migrated.events("a", null, java.time.Instant.parse("2026-11-24T10:00:00.300Z").toEpochMilli(), null, 10)).hasSize(1);
        }
    }
}
