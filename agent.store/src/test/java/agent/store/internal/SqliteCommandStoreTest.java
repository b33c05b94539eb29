package agent.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;
import agent.store.Admission;
import agent.store.Destination;
import agent.store.CommandRecord;
import agent.store.Recovery;
import agent.store.StoreException;

class SqliteCommandStoreTest {
    @TempDir
    Path dir;
    SqliteCommandStore store;

    @AfterEach
    void close() {
        if (store != null) store.close();
    }

    private SqliteCommandStore open() {
        store = SqliteCommandStore.open(dir.resolve("commands.db"));
        return store;
    }

    private static Command cmd(String id) {
        return new Command(id, "agent.ping", Map.of("echo", "hi", "n", 3L), 30, Instant.parse("2026-11-24T10:00:00Z"), null);
    }

    private static Result ok(String id, Instant finished) {
        return new Result(id, Status.SUCCEEDED, 0, "out", false, null, Map.of("echo", "hi"), finished.minusMillis(5), finished);
    }

    @Test
    void everyTransitionIsStoredAndReadBack() {
        open();
        assertThat(store.admit(cmd("a"), Destination.SERVER).kind()).isEqualTo(Admission.Kind.NEW);
        assertThat(store.get("a")).get().extracting(CommandRecord::status).isEqualTo(Status.RECEIVED);

        store.markRunning("a", Instant.now());
        assertThat(store.get("a").orElseThrow().status()).isEqualTo(Status.RUNNING);

        store.finish(ok("a", Instant.now()));
        CommandRecord r = store.get("a").orElseThrow();
        assertThat(r.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(r.command().params()).containsEntry("n", 3L).containsEntry("echo", "hi");
        assertThat(r.command().timeoutSeconds()).isEqualTo(30);
        assertThat(r.result().data()).isEqualTo(Map.of("echo", "hi"));
        assertThat(r.result().output()).isEqualTo("out");
        assertThat(r.destination()).isEqualTo(Destination.SERVER);
        assertThat(store.outbox(10)).extracting(Result::id).containsExactly("a");

        store.ack(List.of("a"));
        assertThat(store.outbox(10)).isEmpty();
        assertThat(store.get("a").orElseThrow().delivered()).isTrue();
    }

    @Test
    void aReceivedCommandCanBeRejectedOrCancelledWithoutRunning() {
        open();
        store.admit(cmd("r"), Destination.SERVER);
        store.finish(new Result("r", Status.REJECTED, null, "", false, "expired", null, null, Instant.now()));
        assertThat(store.get("r").orElseThrow().status()).isEqualTo(Status.REJECTED);
        assertThat(store.get("r").orElseThrow().startedAt()).isNull();
    }

    @Test
    void illegalTransitionsAreRefusedWithTheCurrentState() {
        open();
        store.admit(cmd("a"), Destination.SERVER);
        store.markRunning("a", Instant.now());
        assertThatThrownBy(() -> store.markRunning("a", Instant.now()))
            .isInstanceOf(StoreException.class).hasMessageContaining("command a cannot start: it is running");
        store.finish(ok("a", Instant.now()));
        assertThatThrownBy(() -> store.finish(ok("a", Instant.now())))
            .isInstanceOf(StoreException.class).hasMessageContaining("it is succeeded");
        assertThatThrownBy(() -> store.markRunning("nope", Instant.now()))
            .hasMessageContaining("it is unknown");
    }

    @Test
    void aDuplicateIdIsNeverNewAgain() {
        open();
        assertThat(store.admit(cmd("d"), Destination.SERVER).kind()).isEqualTo(Admission.Kind.NEW);
        Admission pending = store.admit(cmd("d"), Destination.SERVER);
        assertThat(pending.kind()).isEqualTo(Admission.Kind.PENDING);
        assertThat(pending.status()).isEqualTo(Status.RECEIVED);

        store.markRunning("d", Instant.now());
        assertThat(store.admit(cmd("d"), Destination.SERVER).status()).isEqualTo(Status.RUNNING);

        store.finish(ok("d", Instant.now()));
        Admission done = store.admit(cmd("d"), Destination.SERVER);
        assertThat(done.kind()).isEqualTo(Admission.Kind.FINISHED);
        assertThat(done.result().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(store.counts()).containsEntry(Status.SUCCEEDED, 1L).hasSize(1);

        // and across a reopen of the file
        store.close();
        open();
        assertThat(store.admit(cmd("d"), Destination.SERVER).kind()).isEqualTo(Admission.Kind.FINISHED);
    }

    @Test
    void aBurstIsAdmittedInOneWriteWithOneAnswerPerCommandInOrder() {
        open();
        store.admit(cmd("old"), Destination.SERVER);
        store.markRunning("old", Instant.now());
        store.admit(cmd("done"), Destination.SERVER);
        store.finish(ok("done", Instant.now()));

        List<Admission> a = store.admitAll(List.of(cmd("n1"), cmd("old"), cmd("n2"), cmd("done"), cmd("n1")), Destination.SERVER);

        assertThat(a).extracting(Admission::kind).containsExactly(Admission.Kind.NEW, Admission.Kind.PENDING,
            Admission.Kind.NEW, Admission.Kind.FINISHED, Admission.Kind.PENDING);
        assertThat(a.get(1).status()).isEqualTo(Status.RUNNING);
        assertThat(a.get(3).result().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(store.counts()).containsEntry(Status.RECEIVED, 2L);
        assertThat(store.admitAll(List.of(), Destination.SERVER)).isEmpty();
        // durable: a reopened file still knows them
        store.close();
        open();
        assertThat(store.admitAll(List.of(cmd("n1"), cmd("n2")), Destination.SERVER)).extracting(Admission::kind)
            .containsExactly(Admission.Kind.PENDING, Admission.Kind.PENDING);
    }

    @Test
    void recoveryInterruptsRunningAndHandsBackReceived() {
        open();
        store.admit(cmd("run"), Destination.SERVER);
        store.markRunning("run", Instant.now());
        store.admit(cmd("wait"), Destination.SERVER);
        Recovery rec = store.recover("agent restarted while the command ran");
        assertThat(rec.interrupted()).singleElement().satisfies(r -> {
            assertThat(r.id()).isEqualTo("run");
            assertThat(r.status()).isEqualTo(Status.INTERRUPTED);
            assertThat(r.error()).isEqualTo("agent restarted while the command ran");
        });
        assertThat(rec.toRun()).extracting(c -> c.command().id()).containsExactly("wait");
        assertThat(store.outbox(10)).extracting(Result::id).containsExactly("run");
        assertThat(store.get("run").orElseThrow().result().errorCode()).isEqualTo(agent.api.ErrorCode.INTERRUPTED);
    }

    @Test
    void aRunningCommandThatPlannedItsRestartEndsAsPlannedAndNeverRunsAgain() {
        open();
        store.admit(cmd("reboot"), Destination.SERVER);
        Instant started = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        store.markRunning("reboot", started);
        store.resultOnRestart(new Result("reboot", Status.SUCCEEDED, 194, "", false, null, null,
            java.util.Map.of("note", "rebooted as the script asked"), started, started));
        store.close();

        open(); // the agent comes back after the reboot
        Recovery rec = store.recover("agent restarted while the command ran");
        assertThat(rec.interrupted()).isEmpty();
        assertThat(rec.toRun()).isEmpty();
        Result r = store.get("reboot").orElseThrow().result();
        assertThat(r.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(r.data()).isEqualTo(java.util.Map.of("note", "rebooted as the script asked"));
        assertThat(r.startedAt()).isEqualTo(started);
        assertThat(store.outbox(10)).extracting(Result::id).containsExactly("reboot");
        assertThatThrownBy(() -> store.resultOnRestart(r)).isInstanceOf(agent.store.StoreException.class)
            .hasMessageContaining("it is succeeded");
    }

    @Test
    void aChildJvmKilledWithSigkillWhileRunningLeavesAnInterruptedCommandThatNeverRunsAgain() throws Exception {
        Path db = dir.resolve("commands.db");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
            "-Dorg.sqlite.tmpdir=" + dir, StoreCrashChild.class.getName(), db.toString())
            .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            List<String> seen = new ArrayList<>();
            while ((line = out.readLine()) != null && !line.equals("READY")) seen.add(line);
            assertThat(line).as("child output before READY: %s", seen).isEqualTo("READY");
            child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close()
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(child.exitValue()).isEqualTo(137);

        open();
        Recovery rec = store.recover("agent restarted");
        assertThat(rec.interrupted()).extracting(Result::id, Result::status)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("running-1", Status.INTERRUPTED));
        assertThat(rec.toRun()).extracting(r -> r.command().id()).containsExactly("queued-1");
        // the server re-sending the interrupted id gets the stored result, not a new run
        Admission again = store.admit(new Command("running-1", "agent.ping", Map.of(), null, Instant.now(), null), Destination.SERVER);
        assertThat(again.kind()).isEqualTo(Admission.Kind.FINISHED);
        assertThat(again.result().status()).isEqualTo(Status.INTERRUPTED);
        // a second recovery finds nothing left running
        assertThat(store.recover("again").interrupted()).isEmpty();
    }

    @Test
    void pruningDeletesOnlyDeliveredResultsOlderThanTheCutoff() {
        open();
        Instant old = Instant.now().minus(Duration.ofDays(40));
        for (String id : List.of("old-delivered", "old-undelivered", "new-delivered")) {
            store.admit(cmd(id), Destination.SERVER);
            store.finish(ok(id, id.startsWith("old") ? old : Instant.now()));
        }
        store.admit(cmd("queued"), Destination.SERVER);
        store.ack(List.of("old-delivered", "new-delivered"));

        int deleted = store.prune(Instant.now().minus(Duration.ofDays(30)));

        assertThat(deleted).isEqualTo(1);
        assertThat(store.get("old-delivered")).isEmpty();
        assertThat(store.get("old-undelivered")).isPresent();
        assertThat(store.get("new-delivered")).isPresent();
        assertThat(store.get("queued")).isPresent();
    }

    @Test
    void theOutboxIsOldestFirst() {
        open();
        Instant t = Instant.now();
        store.admit(cmd("second"), Destination.SERVER);
        store.admit(cmd("first"), Destination.SERVER);
        store.finish(ok("second", t.plusSeconds(2)));
        store.finish(ok("first", t.plusSeconds(1)));
        assertThat(store.outbox(10)).extracting(Result::id).containsExactly("first", "second");
        assertThat(store.outbox(1)).extracting(Result::id).containsExactly("first");
    }

    @Test
    void recentFiltersByStatusNewestFirst() {
        open();
        store.admit(cmd("x"), Destination.SERVER);
        store.admit(cmd("y"), Destination.SERVER);
        store.finish(ok("x", Instant.now()));
        assertThat(store.recent(10, null)).hasSize(2);
        assertThat(store.recent(10, Status.RECEIVED)).extracting(r -> r.command().id()).containsExactly("y");
    }

    @Test
    void aDatabaseFromANewerAgentIsRefused() throws Exception {
        Path db = dir.resolve("commands.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.executeUpdate("PRAGMA user_version = 99");
        }
        assertThatThrownBy(this::open).isInstanceOf(StoreException.class)
            .hasMessageContaining("schema version 99").hasMessageContaining("newer than this agent supports (" + Schema.CURRENT + ")");
    }

    @Test
    void concurrentWritersAreAllDurableThroughGroupCommit() throws Exception {
        open();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 100; i++) {
                    String id = thread + "-" + i;
                    store.admit(cmd(id), Destination.SERVER);
                    store.markRunning(id, Instant.now());
                    store.finish(ok(id, Instant.now()));
                }
            }));
        }
        for (Future<?> f : futures) f.get(60, TimeUnit.SECONDS);
        pool.shutdown();
        store.close();
        open();
        assertThat(store.counts()).containsEntry(Status.SUCCEEDED, 800L);
    }

    @Test
    void theDatabaseIsInWalModeWithFullSync() throws Exception {
        open();
        store.admit(cmd("w"), Destination.SERVER);
        assertThat(new File(dir.toFile(), "commands.db-wal")).exists();
    }
}
