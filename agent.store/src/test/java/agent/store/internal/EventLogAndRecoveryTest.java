package agent.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.Command;
import agent.api.Event;
import agent.store.Admission;
import agent.store.CommandStore;
import agent.store.Destination;
import agent.store.EventLog;
import agent.store.StoreException;

class EventLogAndRecoveryTest {
    @TempDir
    Path dir;

    private static Event event(String kind, Instant time, Object data) {
        return new Event(UUID.randomUUID().toString(), kind, time.truncatedTo(ChronoUnit.MILLIS), data);
    }

    @Test
    void eventsWaitInOrderUntilAckedAndSurviveAReopen() {
        Instant now = Instant.now();
        try (CommandStore store = SqliteCommandStore.open(dir.resolve("commands.db"))) {
            EventLog log = store.events();
            Event a = event("health", now, Map.of("load", 0.5));
            Event b = event("alert", now, Map.of("state", "raised"));
            assertThat(log.record(a, 100, Duration.ofDays(1))).isZero();
            log.record(b, 100, Duration.ofDays(1));
            log.ack(List.of(a.id()));
        }
        try (CommandStore store = SqliteCommandStore.open(dir.resolve("commands.db"))) {
            List<Event> pending = store.events().pending(10);
            assertThat(pending).extracting(Event::kind).containsExactly("alert");
            assertThat(pending.get(0).data()).isEqualTo(Map.of("state", "raised"));
            assertThat(store.events().size()).isEqualTo(1);
        }
    }

    @Test
    void overTheBoundTheOldestGoFirstAndOneReportSaysHowMany() {
        Instant start = Instant.parse("2026-11-30T10:00:00Z");
        try (CommandStore store = SqliteCommandStore.open(dir.resolve("commands.db"))) {
            EventLog log = store.events();
            int dropped = 0;
            for (int i = 0; i < 11; i++) dropped += log.record(event("health", start.plusSeconds(i), Map.of("i", (long) i)), 10, Duration.ofDays(365));
            // the 11th goes over 10: a tenth of the bound more than the excess is dropped at once, oldest first
            assertThat(dropped).isEqualTo(2);
            List<Event> pending = log.pending(100);
            List<Object> kept = pending.stream().filter(e -> e.kind().equals("health"))
                .map(e -> (Object) ((Map<?, ?>) e.data()).get("i")).toList();
            assertThat(kept).containsExactly(2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
            Event report = pending.stream().filter(e -> e.kind().equals(EventLog.DROPPED_KIND)).findFirst().orElseThrow();
            @SuppressWarnings("unchecked")
            Map<String, Object> data = (Map<String, Object>) report.data();
            assertThat(data).containsEntry("count", 2L)
                .containsEntry("oldest", start.toString()).containsEntry("newest", start.plusSeconds(1).toString())
                .containsEntry("reason", "more than 10 waiting");
        }
    }

    @Test
    void eventsOlderThanTheAgeBoundAreDroppedAndReported() {
        Instant now = Instant.now();
        try (CommandStore store = SqliteCommandStore.open(dir.resolve("commands.db"))) {
            EventLog log = store.events();
            log.record(event("health", now.minus(Duration.ofHours(30)), null), 100, Duration.ofHours(24));
            assertThat(log.record(event("health", now, null), 100, Duration.ofHours(24))).isEqualTo(1);
            assertThat(log.pending(10)).extracting(Event::kind).containsExactly("health", EventLog.DROPPED_KIND);
        }
    }

    @Test
    void aMissingStoreOfAnAgentThatRanBeforeIsRefusedNamingTheFileAndTheChoices() throws IOException {
        CommandStoreFactoryImpl factory = new CommandStoreFactoryImpl();
        try (CommandStore store = factory.open(dir)) {
            store.admit(new Command("x", "agent.ping", Map.of(), null, Instant.now(), null), Destination.OFFLINE);
        }
        Files.delete(dir.resolve("commands.db"));
        Files.deleteIfExists(dir.resolve("commands.db-wal"));
        assertThatThrownBy(() -> factory.open(dir)).isInstanceOf(StoreException.class)
            .hasMessageContaining("the command store " + dir.resolve("commands.db") + " is missing")
            .hasMessageContaining("could run one twice").hasMessageContaining("--reset-store");

        Files.writeString(dir.resolve("commands.db"), ""); // emptied, as a full disk or a bad copy leaves it
        assertThatThrownBy(() -> factory.open(dir)).hasMessageContaining("is empty");

        try (CommandStore store = factory.open(dir, true)) {
            assertThat(store.admit(new Command("x", "agent.ping", Map.of(), null, Instant.now(), null), Destination.OFFLINE).kind())
                .isEqualTo(Admission.Kind.NEW);
        }
        assertThat(Files.readString(dir.resolve("store-resets.log"))).contains("was missing or empty and was started over");
        factory.open(dir).close(); // a store again: no reset needed
    }

    @Test
    void credentialsWithoutAStoreAreRefusedToo() throws IOException {
        Files.writeString(dir.resolve("credentials.json"), "{}");
        assertThatThrownBy(() -> new CommandStoreFactoryImpl().open(dir)).hasMessageContaining("credentials.json exists");
    }

    @Test
    void leftoverNativeLibrariesOfKilledRunsAreRemoved() throws IOException {
        Files.createDirectories(dir.resolve("native"));
        Path stale = Files.writeString(dir.resolve("native/sqlite-3.53.4.0-0b1e-libsqlitejdbc.so"), "stale");
        Files.writeString(dir.resolve("native/sqlite-3.53.4.0-0b1e-libsqlitejdbc.so.lck"), "");
        new CommandStoreFactoryImpl().open(dir).close();
        assertThat(stale).doesNotExist();
    }

    @Test
    void afterAFullDiskIsFreedTheStoreWritesAgainWithoutARestart() throws Exception {
        Path mnt = dir.resolve("small");
        Files.createDirectories(mnt);
        run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt.toString());
        try {
            try (CommandStore store = SqliteCommandStore.open(mnt.resolve("commands.db"))) {
                Path filler = mnt.resolve("filler");
                run("dd", "if=/dev/zero", "of=" + filler, "bs=64k", "count=64"); // fills the 1 MiB (dd stops at ENOSPC)
                String big = "x".repeat(200_000);
                Throwable full = null;
                for (int i = 0; i < 20 && full == null; i++) {
                    try {
                        store.admit(new Command("full-" + i, "agent.ping", Map.of("pad", big), null, Instant.now(), null), Destination.SERVER);
                    } catch (StoreException e) {
                        full = e;
                    }
                }
                assertThat(full).as("a write on a full disk must fail").isNotNull();
                Files.delete(filler);
                // the next write goes through on the same store, no restart
                assertThat(store.admit(new Command("after", "agent.ping", Map.of(), null, Instant.now(), null), Destination.SERVER).kind())
                    .isEqualTo(Admission.Kind.NEW);
                assertThat(store.get("after")).isPresent();
            }
        } finally {
            run("umount", "-l", mnt.toString());
        }
    }

    private static void run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError(String.join(" ", argv) + " did not end");
        if (p.exitValue() != 0 && !argv[0].equals("dd")) {
            throw new AssertionError(String.join(" ", argv) + " failed (this test needs root to mount a tmpfs): " + out);
        }
    }
}
