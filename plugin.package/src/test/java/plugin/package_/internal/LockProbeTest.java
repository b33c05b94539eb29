package plugin.package_.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.CommandHandler;
import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** The lock probe against real locks: another process holds an fcntl lock, a pid file names a live process. */
class LockProbeTest {
    @TempDir
    Path tmp;

    @Test
    void anFcntlLockIsReportedWithItsHoldersPidAndName() throws Exception {
        Path lock = Files.createFile(tmp.resolve("lock-frontend"));
        LockProbe probe = new LockProbe();
        assertThat(probe.holders(List.of(LockProbe.Lock.fcntl(lock)))).isEmpty();
        Process holder = LockHolder.start(lock, 30_000);
        try {
            assertThat(probe.holders(List.of(LockProbe.Lock.fcntl(lock), LockProbe.Lock.fcntl(tmp.resolve("missing")))))
                .containsExactly(new LockProbe.Holder(lock, holder.pid(), "java"));
        } finally {
            holder.destroy();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(probe.holders(List.of(LockProbe.Lock.fcntl(lock)))).isEmpty();
    }

    @Test
    void aPidFileNamesItsOwnerWhileItLives() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "30").start();
        try {
            Path pidFile = Files.writeString(tmp.resolve("zypp.pid"), sleeper.pid() + "\n");
            assertThat(new LockProbe().holders(List.of(LockProbe.Lock.pidFile(pidFile))))
                .containsExactly(new LockProbe.Holder(pidFile, sleeper.pid(), "sleep"));
            sleeper.destroy();
            sleeper.waitFor(10, TimeUnit.SECONDS);
            assertThat(new LockProbe().holders(List.of(LockProbe.Lock.pidFile(pidFile)))).as("a stale pid file").isEmpty();
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void procLocksLinesAreReadAndWaitersSkipped() {
        assertThat(LockProbe.Entry.parse("9: POSIX  ADVISORY  WRITE 1703 fe:00:402117 0 EOF"))
            .isEqualTo(new LockProbe.Entry(1703, 0xfe, 0, 402117));
        assertThat(LockProbe.Entry.parse("9: -> POSIX  ADVISORY  WRITE 1800 fe:00:402117 0 EOF")).isNull();
        assertThat(LockProbe.Entry.parse("2: OFDLCK ADVISORY  WRITE -1 08:01:1234 0 EOF")).isEqualTo(new LockProbe.Entry(-1, 8, 1, 1234));
        assertThat(LockProbe.major(0xfe00)).isEqualTo(0xfe);
        assertThat(LockProbe.minor(0xfe00)).isZero();
        assertThat(LockProbe.major(0x10300)).isEqualTo(0x103);
    }

    @Test
    void awaitWaitsForAReleaseAndThenGoesOn() throws Exception {
        Path lock = Files.createFile(tmp.resolve("lock"));
        Process holder = LockHolder.start(lock, 1_500);
        CommandHandler h = ctx -> {
            new LockProbe().await(ctx, List.of(LockProbe.Lock.fcntl(lock)), Duration.ofSeconds(30));
            return "free";
        };
        Outcome o = TestContext.forAction("package.wait").run(h);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.output()).contains("waiting (at most 30 s) for the package manager's lock: " + lock + " is held by pid "
            + holder.pid() + " (java)").contains("the package manager's lock is free now");
        holder.waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void awaitRefusesAsBusyNamingTheHolderAfterItsBound() throws Exception {
        Path lock = Files.createFile(tmp.resolve("lock"));
        Process holder = LockHolder.start(lock, 30_000);
        try {
            CommandHandler h = ctx -> {
                new LockProbe().await(ctx, List.of(LockProbe.Lock.fcntl(lock)), Duration.ofSeconds(1));
                return "free";
            };
            long t0 = System.nanoTime();
            Outcome o = TestContext.forAction("package.wait").run(h);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(10));
            assertThat(o.status()).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).isEqualTo(ErrorCode.BUSY);
            assertThat(o.error()).isEqualTo("the package manager is busy: " + lock + " is held by pid " + holder.pid() + " (java);"
                + " waited 1 s (plugins.settings.package.lock_wait_seconds). Nothing was changed.");
        } finally {
            holder.destroy();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
