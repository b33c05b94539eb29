package plugin.script.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.Result;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.Running;
import agent.testkit.TestContext;

/**
 * Exit code 194, up to the reboot: what to report after the restart is recorded, the reboot command runs, repeated
 * requests of one script are capped. The restart itself (the agent stopped by the reboot command and started again,
 * the command reported succeeded once and never run twice) needs the whole agent: runtime.test.
 */
class RebootTest {
    @TempDir
    Path tmp;
    ScriptRunner runner;
    Path reboots;
    Path rebootCommand;

    @BeforeEach
    void setUp() throws Exception {
        runner = new ScriptRunner();
        runner.paths = new TestPaths(tmp.resolve("data"), tmp.resolve("scripts.d"));
        reboots = tmp.resolve("reboots");
        rebootCommand = Files.writeString(tmp.resolve("fake-reboot"), "#!/bin/sh\necho \"reboot $*\" >> " + reboots + "\n");
        Files.setPosixFilePermissions(rebootCommand, PosixFilePermissions.fromString("rwx------"));
    }

    private TestContext script(String text, String... args) {
        return TestContext.forAction("script.run").param("script", text).param("args", List.of(args))
            .setting("reboot_command", List.of(rebootCommand.toString(), "now")).setting("reboot_wait_seconds", 1);
    }

    private long rebootCount() throws Exception {
        return Files.exists(reboots) ? Files.readAllLines(reboots).size() : 0;
    }

    @Test
    void exit194RecordsTheResultForAfterTheRestartThenRunsTheRebootCommand() throws Exception {
        Outcome o = script("echo patched; exit 194").run(runner);
        Result planned = o.resultOnRestart();
        assertThat(planned).as("what the agent reports after the restart").isNotNull();
        assertThat(planned.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(planned.error()).isNull();
        @SuppressWarnings("unchecked")
        Map<String, Object> data = (Map<String, Object>) planned.data();
        assertThat(data).containsEntry("exitCode", 194).containsEntry("rebooted", true).containsEntry("rebootsInARow", 1);
        assertThat((String) data.get("note")).contains("was not run again");
        assertThat(Files.readAllLines(reboots)).containsExactly("reboot now");
        assertThat(o.executed().get(o.executed().size() - 1)).containsExactly(rebootCommand.toString(), "now");
        assertThat(o.output()).contains("patched").contains("exit code 194: rebooting the host");
        // here no reboot came: the command must not pretend it happened
        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.error()).contains("the agent was still running 1 s later: the host did not reboot");
    }

    @Test
    void aFailingRebootCommandFailsTheCommand() throws Exception {
        Outcome o = script("exit 194").setting("reboot_command", List.of("/bin/false")).run(runner);
        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.error()).contains("the reboot command '/bin/false' exited with code 1: the host was not rebooted");
    }

    @Test
    void aScriptMayAskForAtMostThreeRebootsInARow() throws Exception {
        for (int i = 1; i <= 3; i++) {
            Outcome o = script("exit 194", "same-args").run(runner);
            assertThat(o.resultOnRestart()).as("request " + i).isNotNull();
            assertThat(rebootCount()).isEqualTo(i);
        }
        Outcome fourth = script("exit 194", "same-args").run(runner);
        assertThat(fourth.status()).isEqualTo(Status.FAILED);
        assertThat(fourth.error()).contains("already asked for 3 reboots in a row").contains("max_reboots is 3")
            .endsWith("the host was not rebooted");
        assertThat(fourth.resultOnRestart()).isNull();
        assertThat(rebootCount()).isEqualTo(3);

        Outcome other = script("exit 194", "other-args").run(runner);
        assertThat(other.resultOnRestart()).as("another script (other args) has its own count").isNotNull();
        assertThat(rebootCount()).isEqualTo(4);
    }

    @Test
    void anyOtherExitEndsTheRow() throws Exception {
        Path code = tmp.resolve("code");
        String text = "exit $(cat " + code + ")";
        Files.writeString(code, "194");
        for (int i = 0; i < 3; i++) script(text).run(runner);
        Files.writeString(code, "0");
        assertThat(script(text).run(runner).status()).isEqualTo(Status.SUCCEEDED);
        Files.writeString(code, "194");
        Outcome again = script(text).run(runner);
        assertThat(again.resultOnRestart()).isNotNull();
        @SuppressWarnings("unchecked")
        Map<String, Object> data = (Map<String, Object>) again.resultOnRestart().data();
        assertThat(data).containsEntry("rebootsInARow", 1);
        assertThat(rebootCount()).isEqualTo(4);
    }

    @Test
    void theCapCanBeChangedOnTheHost() throws Exception {
        Outcome o = script("exit 194").setting("max_reboots", 0).run(runner);
        assertThat(o.error()).contains("already asked for 0 reboots").contains("max_reboots is 0");
        assertThat(rebootCount()).isZero();
    }

    @Test
    void aStopWhileWaitingForTheRebootDoesNotEndTheCommand() throws Exception {
        Running r = script("exit 194").setting("reboot_wait_seconds", 30).stopGrace(Duration.ofSeconds(1)).start(runner);
        long end = System.nanoTime() + 10_000_000_000L;
        while (rebootCount() == 0 && System.nanoTime() < end) Thread.sleep(20);
        assertThat(rebootCount()).isEqualTo(1);
        r.cancel(); // as the agent's shutdown does to running commands
        Outcome o = r.await(Duration.ofSeconds(10));
        // the handler kept waiting: in the agent the command stays running in the store until the JVM is gone, and
        // is finished with the recorded result when the agent starts again
        assertThat(o.error()).isEqualTo("cancelled; the handler did not stop and was abandoned");
        assertThat(o.resultOnRestart().status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void requestsFurtherApartThanTheWindowDoNotCount() throws Exception {
        RebootLedger ledger = new RebootLedger(Files.createDirectories(tmp.resolve("state")));
        Duration window = Duration.ofMinutes(60);
        Instant t = Instant.parse("2026-11-30T10:00:00Z");
        String key = RebootLedger.key(List.of("inline", "exit 194"));
        ledger.recordRequest(key, t, window);
        ledger.recordRequest(key, t.plus(Duration.ofMinutes(59)), window);
        assertThat(ledger.inARow(key, t.plus(Duration.ofMinutes(100)), window)).isEqualTo(2);
        assertThat(ledger.inARow(key, t.plus(Duration.ofMinutes(120)), window)).isZero();
        ledger.recordRequest(key, t.plus(Duration.ofMinutes(200)), window);
        assertThat(ledger.inARow(key, t.plus(Duration.ofMinutes(201)), window)).isEqualTo(1);
        ledger.endRow(key, t.plus(Duration.ofMinutes(202)), window);
        assertThat(ledger.inARow(key, t.plus(Duration.ofMinutes(203)), window)).isZero();
    }
}
