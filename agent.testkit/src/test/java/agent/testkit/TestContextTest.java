package agent.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.CommandCancelledException;
import agent.api.CommandException;
import agent.api.InvalidParamException;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;
import agent.api.Status;

class TestContextTest {
    @TempDir
    Path tmp;

    record GreetSettings(String greeting, int times) {
        static GreetSettings defaults() { return new GreetSettings("hello", 1); }
    }

    @Test
    void typedSettingsAreMappedAndCheckedAsTheAgentDoes() {
        Outcome o = TestContext.forAction("demo.greet").setting("times", 3).run(ctx -> {
            GreetSettings s = ctx.settings(GreetSettings.class);
            return s.greeting() + " x" + s.times();
        });
        assertThat(o.data()).as(o.toString()).isEqualTo("hello x3");

        Outcome bad = TestContext.forAction("demo.greet").setting("tmes", 3).run(ctx -> ctx.settings(GreetSettings.class));
        assertThat(bad.status()).isEqualTo(Status.REJECTED);
        assertThat(bad.errorCode()).isEqualTo(agent.api.ErrorCode.INVALID_SETTINGS);
        assertThat(bad.error()).startsWith("config key 'plugins.settings.demo.tmes'").contains("is unknown");
    }

    @Test
    void aDryRunIsSeenByTheHandler() {
        Outcome o = TestContext.forAction("demo.change").dryRun(true).run(ctx -> Map.of("dryRun", ctx.dryRun()));
        assertThat(o.dataAsMap()).containsEntry("dryRun", true);
        assertThat(o.command().dryRun()).isTrue();
        assertThat(TestContext.forAction("demo.change").run(ctx -> ctx.dryRun()).data()).isEqualTo(false);
    }

    @Test
    void recordingEventsCheckEventsAsTheAgentDoes() {
        RecordingEvents events = new RecordingEvents();
        events.emit("health", Map.of("load", 0.5));
        events.emit("alert", Map.of("metric", "fs", "state", "raised"));
        assertThat(events.all()).extracting(agent.api.Event::kind).containsExactly("health", "alert");
        assertThat(events.ofKind("alert")).hasSize(1);
        assertThatThrownBy(() -> events.emit("Bad Kind", null)).hasMessageContaining("event kind must be lower-case dotted words");
        assertThatThrownBy(() -> events.emit("health", Map.of("when", java.time.Instant.now())))
            .hasMessageContaining("event data.when must hold only null, String, Number, Boolean, List and Map");
        assertThatThrownBy(() -> events.emit("health", "x".repeat(70_000))).hasMessageContaining("more than the 65536");
        assertThat(events.all()).hasSize(2);
    }

    @Test
    void aReturnedValueSucceedsWithItsOutputProgressExitCodeAndProcesses() {
        Outcome o = TestContext.forAction("demo.run").param("name", "x").run(ctx -> {
            ctx.output().println("hello " + ctx.params().string("name"));
            ctx.progress(50, "half");
            ctx.progress(null, "still going");
            ProcessResult r = ctx.exec(ProcessSpec.of("echo", "from", "echo"));
            ProcessResult captured = ctx.exec(ProcessSpec.of("printf", "%s", "kept").capture());
            ctx.exitCode(r.exitCode());
            return Map.of("captured", captured.output(), "n", 3);
        });

        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.error()).isNull();
        assertThat(o.output()).isEqualTo("hello x\nfrom echo\n");
        assertThat(o.progress()).containsExactly(new Progress(50, "half"), new Progress(null, "still going"));
        assertThat(o.executed()).containsExactly(List.of("echo", "from", "echo"), List.of("printf", "%s", "kept"));
        assertThat(o.exitCode()).isZero();
        assertThat(o.dataAsMap()).containsEntry("captured", "kept").containsEntry("n", 3);
        assertThat(o.wireData()).isEqualTo(Map.of("captured", "kept", "n", 3L));
        assertThat(o.json().get("status").getAsString()).isEqualTo("succeeded");
        assertThat(o.result().startedAt()).isNotNull();
    }

    @Test
    void paramsAndSettingsArriveAsTheAgentDecodesJson() {
        Outcome o = TestContext.forAction("demo.types").param("count", 2).param("ratio", 0.5f).param("list", new String[] {"a"})
            .paramsJson("{\"nested\": {\"k\": [1, true, null]}}").setting("root", "/srv").setting("limit", 7).run(ctx -> {
                Map<String, Object> seen = new java.util.LinkedHashMap<>();
                for (String n : ctx.params().names()) seen.put(n, ctx.params().raw(n).getClass().getSimpleName());
                seen.put("setting.limit", ctx.settings().get("limit").getClass().getSimpleName());
                seen.put("root", ctx.settings().get("root"));
                seen.put("strings", ctx.params().strings("list"));
                return seen;
            });

        assertThat(o.dataAsMap()).containsEntry("count", "Long").containsEntry("ratio", "Double").containsEntry("list", "ArrayList")
            .containsEntry("setting.limit", "Long").containsEntry("root", "/srv").containsEntry("strings", List.of("a"));
        assertThat(o.dataAsMap().get("nested")).isIn("LinkedTreeMap", "LinkedHashMap");
    }

    @Test
    void anInvalidParamIsRejectedWithTheAgentsMessage() {
        Outcome o = TestContext.forAction("demo.n").param("n", "five").run(ctx -> ctx.params().integer("n", 1, 10, 5));

        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).isEqualTo("param 'n' must be an integer, got 'five'");
        assertThat(o.exception()).isInstanceOf(InvalidParamException.class);
        assertThat(((InvalidParamException) o.exception()).param()).isEqualTo("n");
        assertThat(o.data()).isNull();

        Outcome missing = TestContext.forAction("demo.n").run(ctx -> ctx.params().string("zone"));
        assertThat(missing.status()).isEqualTo(Status.REJECTED);
        assertThat(missing.error()).isEqualTo("param 'zone' is required");
    }

    @Test
    void exceptionsFailAsTheDispatcherReportsThem() {
        Outcome refused = TestContext.forAction("demo.x").run(ctx -> {
            throw new CommandException("/dev/sdz does not exist");
        });
        assertThat(refused.status()).isEqualTo(Status.FAILED);
        assertThat(refused.error()).isEqualTo("/dev/sdz does not exist");

        Outcome bug = TestContext.forAction("demo.x").run(ctx -> {
            throw new IllegalStateException("boom");
        });
        assertThat(bug.status()).isEqualTo(Status.FAILED);
        assertThat(bug.error()).isEqualTo("handler error: java.lang.IllegalStateException: boom");

        Outcome selfCancelled = TestContext.forAction("demo.x").run(ctx -> {
            throw new CommandCancelledException("made up");
        });
        assertThat(selfCancelled.status()).as("no cancel came: the dispatcher calls it a failure").isEqualTo(Status.FAILED);
        assertThat(selfCancelled.error()).isEqualTo("interrupted: made up");

        Outcome badProgress = TestContext.forAction("demo.x").run(ctx -> {
            ctx.progress(150, "too far");
            return null;
        });
        assertThat(badProgress.error()).isEqualTo("handler error: java.lang.IllegalArgumentException: progress percent must be 0..100, got 150");

        Outcome noProgram = TestContext.forAction("demo.x").run(ctx -> ctx.exec(ProcessSpec.of("outpost-no-such-program")));
        assertThat(noProgram.status()).isEqualTo(Status.FAILED);
        assertThat(noProgram.error()).startsWith("handler error: java.io.IOException: cannot run 'outpost-no-such-program'");
        assertThat(noProgram.executed()).containsExactly(List.of("outpost-no-such-program"));
    }

    @Test
    void anAssertionErrorInTheHandlerFailsTheTest() {
        assertThatThrownBy(() -> TestContext.forAction("demo.x").run(ctx -> {
            throw new AssertionError("a test double saw something wrong");
        })).isInstanceOf(AssertionError.class).hasMessage("a test double saw something wrong");
    }

    @Test
    void cancelKillsTheWholeProcessTreeAndEndsCancelled() throws Exception {
        Path pidFile = tmp.resolve("grandchild.pid");
        Running run = TestContext.forAction("demo.sleep").start(ctx -> {
            ctx.output().println("starting");
            // a child that starts a grandchild and waits for it: both must die
            ctx.exec(ProcessSpec.of("sh", "-c", "sleep 60 & echo $! > " + pidFile + "; wait"));
            return "never";
        });
        long pid = waitForPid(pidFile);
        assertThat(run.isDone()).isFalse();
        assertThat(run.output()).isEqualTo("starting\n");

        run.cancel();
        Outcome o = run.await(Duration.ofSeconds(10));

        assertThat(o.status()).isEqualTo(Status.CANCELLED);
        assertThat(o.error()).isEqualTo("cancelled while running; process tree killed");
        assertThat(o.data()).isNull();
        assertThat(o.output()).isEqualTo("starting\n");
        assertThat(gone(pid)).as("the grandchild sleep (pid %d) was killed", pid).isTrue();
    }

    @Test
    void aTimeoutKillsTheProcessesAndEndsTimedOut() {
        long t0 = System.nanoTime();
        Outcome o = TestContext.forAction("demo.sleep").timeout(Duration.ofMillis(500))
            .run(ctx -> ctx.exec(ProcessSpec.of("sleep", "30")));

        assertThat(o.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(o.error()).isEqualTo("timed out after 0.5 s; process tree killed");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aHandlerThatIgnoresCancellationIsAbandonedAfterTheGrace() {
        Running run = TestContext.forAction("demo.stubborn").stopGrace(Duration.ofMillis(300)).start(ctx -> {
            long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < end) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    // swallowed: the bug this shows
                }
            }
            return "late";
        });
        run.cancel();
        Outcome o = run.await(Duration.ofSeconds(5));

        assertThat(o.status()).isEqualTo(Status.CANCELLED);
        assertThat(o.error()).isEqualTo("cancelled; the handler did not stop and was abandoned");
        assertThat(o.result().startedAt()).isNull();
    }

    @Test
    void outputIsCappedToItsFirstAndLastHalves() {
        Outcome o = TestContext.forAction("demo.chatty").maxOutputBytes(1000).run(ctx -> {
            for (int i = 0; i < 1000; i++) ctx.output().println(String.format("line %04d", i));
            return null;
        });

        assertThat(o.outputTruncated()).isTrue();
        assertThat(o.output()).startsWith("line 0000\nline 0001\n").endsWith("line 0998\nline 0999\n")
            .contains("[... 9000 bytes of output omitted ...]").doesNotContain("line 0500");
    }

    @Test
    void dataOutsideTheJsonTypesIsCaught() {
        Outcome o = TestContext.forAction("demo.bad").run(ctx -> Map.of("where", Path.of("/srv")));

        assertThat(o.status()).isEqualTo(Status.SUCCEEDED);
        assertThatThrownBy(o::json).isInstanceOf(AssertionError.class).hasMessageContaining("data.where is a ")
            .hasMessageContaining("/srv");
    }

    @Test
    void misuseIsExplained() {
        assertThatThrownBy(() -> TestContext.forAction("nodot")).hasMessage("action must be a dotted name like 'disk.list', got 'nodot'");
        assertThatThrownBy(() -> TestContext.forAction("demo.x").param("dir", tmp))
            .hasMessageStartingWith("param 'dir' must be a JSON value").hasMessageContaining(tmp.toString());
        assertThatThrownBy(() -> TestContext.forAction("demo.x").paramsJson("[1]")).hasMessageContaining("must be a JSON object");
    }

    private static long waitForPid(Path file) throws Exception {
        for (int i = 0; i < 200; i++) {
            if (Files.exists(file) && !Files.readString(file).isBlank()) return Long.parseLong(Files.readString(file).strip());
            Thread.sleep(25);
        }
        throw new AssertionError("the child never wrote " + file);
    }

    private static boolean gone(long pid) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            if (ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) return true;
            Thread.sleep(20);
        }
        return false;
    }
}
