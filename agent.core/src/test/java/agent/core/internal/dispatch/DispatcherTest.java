package agent.core.internal.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.Command;
import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;
import agent.api.CommandHandler;
import agent.api.ProcessSpec;
import agent.api.Result;
import agent.api.Status;
import agent.store.Admission;
import agent.store.Destination;
import agent.store.internal.SqliteCommandStore;
import agent.core.internal.builtin.PingHandler;
import java.util.concurrent.CompletableFuture;

class DispatcherTest {
    @TempDir
    Path dir;
    SqliteCommandStore store;
    HandlerRegistry registry;
    ActionGate gate;
    Dispatcher dispatcher;
    long serviceIds;

    @BeforeEach
    void start() {
        store = SqliteCommandStore.open(dir.resolve("commands.db"));
        registry = new HandlerRegistry();
        gate = new ActionGate(registry);
        register("agent.ping", null, new PingHandler());
        dispatcher = new Dispatcher(store, registry, gate,
            new Limits(4, 60, 4096, Duration.ofDays(30), Duration.ofSeconds(3)), Clock.systemUTC());
    }

    /** What the dispatcher did with one submission: the store's truth before it (new, pending, finished) and its future. */
    private record Submitted(Admission.Kind kind, CompletableFuture<Result> result) {}

    private Admission.Kind kindBefore(String id) {
        return store.get(id).map(r -> r.status().isTerminal() ? Admission.Kind.FINISHED : Admission.Kind.PENDING)
            .orElse(Admission.Kind.NEW);
    }

    private Submitted submit(Command c, Destination to) {
        Admission.Kind kind = kindBefore(c.id());
        return new Submitted(kind, dispatcher.submit(c, to));
    }

    private List<Submitted> submitAll(List<Command> burst, Destination to) {
        List<Admission.Kind> kinds = burst.stream().map(c -> kindBefore(c.id())).toList();
        List<CompletableFuture<Result>> futures = dispatcher.submitAll(burst, to);
        List<Submitted> out = new ArrayList<>();
        for (int i = 0; i < burst.size(); i++) out.add(new Submitted(kinds.get(i), futures.get(i)));
        return out;
    }

    private Submitted reject(String id, String error, Destination to) {
        Admission.Kind kind = kindBefore(id);
        return new Submitted(kind, dispatcher.reject(id, error, to));
    }

    @AfterEach
    void stop() {
        dispatcher.close();
        store.close();
    }

    private void register(String action, String key, CommandHandler h) {
        registry.add(new HandlerRegistry.Registration(h, List.of(action), key, "test", 0, ++serviceIds, false));
    }

    private static Command cmd(String action, Map<String, Object> params) {
        return new Command(UUID.randomUUID().toString(), action, params, null, Instant.now(), null);
    }

    private Result run(Command c) throws Exception {
        return dispatcher.submit(c, Destination.SERVER).get(30, TimeUnit.SECONDS);
    }

    @Test
    void pingSucceedsAndEchoes() throws Exception {
        Result r = run(cmd("agent.ping", Map.of("echo", "hello")));
        assertThat(r.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(r.data()).isEqualTo(Map.of("echo", "hello"));
        assertThat(store.get(r.id()).orElseThrow().status()).isEqualTo(Status.SUCCEEDED);
        assertThat(store.outbox(10)).extracting(Result::id).contains(r.id());
    }

    @Test
    void onlyServerCommandsGoToTheOutbox() throws Exception {
        Result shell = dispatcher.submit(cmd("agent.ping", Map.of()), Destination.SHELL).get(30, TimeUnit.SECONDS);
        Result server = run(cmd("agent.ping", Map.of()));
        assertThat(store.outbox(10)).extracting(Result::id).containsExactly(server.id()).doesNotContain(shell.id());
    }

    @Test
    void aMalformedCommandWithAnIdIsRejectedOnceAndAnsweredFromTheStoreAfter() throws Exception {
        Submitted first = reject("bad-1", "command.action is required", Destination.SERVER);
        assertThat(first.kind()).isEqualTo(Admission.Kind.NEW);
        assertThat(first.result().get(5, TimeUnit.SECONDS).error()).isEqualTo("command.action is required");
        Submitted again = submit(new Command("bad-1", "agent.ping", Map.of(), null, Instant.now(), null), Destination.SERVER);
        assertThat(again.kind()).isEqualTo(Admission.Kind.FINISHED);
        assertThat(again.result().get(5, TimeUnit.SECONDS).status()).isEqualTo(Status.REJECTED);
    }

    @Test
    void aBurstIsAcceptedInOrderAndEachCommandRunsOnceWithItsOwnResult() throws Exception {
        Result earlier = run(cmd("agent.ping", Map.of("echo", "before")));
        List<String> accepted = java.util.Collections.synchronizedList(new ArrayList<>());
        dispatcher.addListener(new CommandListener() {
            @Override
            public void accepted(String id, Destination to) { accepted.add(id); }
        });
        List<Command> burst = new ArrayList<>();
        for (int i = 0; i < 20; i++) burst.add(cmd("agent.ping", Map.of("echo", "n" + i)));
        burst.add(new Command(earlier.id(), "agent.ping", Map.of(), null, Instant.now(), null)); // a finished duplicate
        burst.add(cmd("nobody.home", Map.of()));

        List<Submitted> subs = submitAll(burst, Destination.SERVER);

        assertThat(subs).hasSize(22);
        List<String> fresh = burst.subList(0, 20).stream().map(Command::id).collect(java.util.stream.Collectors.toList());
        assertThat(accepted.subList(0, 20)).containsExactlyElementsOf(fresh);
        assertThat(accepted).doesNotContain(earlier.id()); // finished: answered with its result, not accepted again
        for (int i = 0; i < 20; i++) {
            Result r = subs.get(i).result().get(10, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(Status.SUCCEEDED);
            assertThat(r.data()).isEqualTo(Map.of("echo", "n" + i));
        }
        assertThat(subs.get(20).kind()).isEqualTo(Admission.Kind.FINISHED);
        assertThat(subs.get(20).result().get(1, TimeUnit.SECONDS)).usingRecursiveComparison().isEqualTo(earlier);
        assertThat(subs.get(21).result().get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.REJECTED);
        assertThat(store.counts()).containsEntry(Status.SUCCEEDED, 21L).containsEntry(Status.REJECTED, 1L);
    }

    @Test
    void aCancelRightAfterItsCommandIsNeverLost() throws Exception {
        // the server sends a command it may have lost in transit followed by its cancel: they arrive together
        AtomicInteger handlerRuns = new AtomicInteger();
        register("test.long", null, ctx -> {
            handlerRuns.incrementAndGet();
            Thread.sleep(2000);
            return "ran to its end";
        });
        for (int i = 0; i < 30; i++) {
            Command c = cmd("test.long", Map.of());
            Submitted s = submitAll(List.of(c), Destination.SERVER).get(0);
            assertThat(dispatcher.cancel(c.id())).as("cancel %d", i).isTrue();
            Result r = s.result().get(10, TimeUnit.SECONDS);
            assertThat(r.status()).as("run %d: %s", i, r.error()).isEqualTo(Status.CANCELLED);
        }
        assertThat(handlerRuns.get()).as("handlers that started before their cancel").isLessThan(30);
    }

    @Test
    void commandsWithTheSameConcurrencyKeyRunOneAtATimeInArrivalOrder() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
        CommandHandler serial = ctx -> {
            int now = running.incrementAndGet();
            maxSeen.accumulateAndGet(now, Math::max);
            order.add((String) ctx.params().raw("n"));
            Thread.sleep(80);
            running.decrementAndGet();
            return null;
        };
        register("disk.a", "disk", serial);
        register("disk.b", "disk", serial);
        List<Command> cmds = new ArrayList<>();
        for (int i = 0; i < 6; i++) cmds.add(cmd(i % 2 == 0 ? "disk.a" : "disk.b", Map.of("n", "" + i)));
        List<Submitted> subs = new ArrayList<>();
        for (Command c : cmds) subs.add(submit(c, Destination.SERVER));
        for (Submitted s : subs) assertThat(s.result().get(30, TimeUnit.SECONDS).status()).isEqualTo(Status.SUCCEEDED);
        assertThat(maxSeen.get()).isEqualTo(1);
        assertThat(order).containsExactly("0", "1", "2", "3", "4", "5");
    }

    @Test
    void commandsWithoutAKeyRunInParallelUpToThePoolSize() throws Exception {
        CountDownLatch together = new CountDownLatch(4);
        register("test.parallel", null, ctx -> {
            together.countDown();
            return together.await(10, TimeUnit.SECONDS); // true only if 4 ran at once
        });
        List<Submitted> subs = new ArrayList<>();
        for (int i = 0; i < 4; i++) subs.add(submit(cmd("test.parallel", Map.of()), Destination.SERVER));
        for (Submitted s : subs) assertThat(s.result().get(30, TimeUnit.SECONDS).data()).isEqualTo(true);
    }

    /** A handler that starts a shell with two background sleeps and writes all three pids to a file. */
    private Path registerProcessTree(String action) {
        Path pids = dir.resolve(action + ".pids");
        register(action, null, ctx -> ctx.exec(ProcessSpec.of("sh", "-c",
            "echo $$ > \"$1\"; sleep 300 & echo $! >> \"$1\"; sleep 300 & echo $! >> \"$1\"; echo started; wait", "sh",
            pids.toString())).exitCode());
        return pids;
    }

    private static List<Long> readPids(Path file) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (Files.exists(file) && Files.readAllLines(file).size() == 3) break;
            Thread.sleep(50);
        }
        List<Long> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) out.add(Long.parseLong(l.trim()));
        assertThat(out).hasSize(3);
        return out;
    }

    /** Gone, or a zombie waiting for a reaper: either way no longer running. */
    private static boolean gone(long pid) {
        Path stat = Path.of("/proc/" + pid + "/stat");
        try {
            if (!Files.exists(stat)) return true;
            String s = Files.readString(stat);
            return s.substring(s.lastIndexOf(')') + 2).startsWith("Z");
        } catch (Exception e) {
            return true;
        }
    }

    private static void assertAllGone(List<Long> pids) throws Exception {
        for (int i = 0; i < 50 && !pids.stream().allMatch(DispatcherTest::gone); i++) Thread.sleep(100);
        assertThat(pids).allMatch(DispatcherTest::gone, "process is gone");
    }

    @Test
    void aTimeoutKillsTheWholeProcessTree() throws Exception {
        Path pidFile = registerProcessTree("test.tree");
        Command c = new Command(UUID.randomUUID().toString(), "test.tree", Map.of(), 1, Instant.now(), null);
        Submitted s = submit(c, Destination.SERVER);
        List<Long> pids = readPids(pidFile);
        assertThat(pids).noneMatch(DispatcherTest::gone);

        Result r = s.result().get(30, TimeUnit.SECONDS);

        assertThat(r.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(r.error()).contains("timed out after 1 s");
        assertThat(r.output()).contains("started");
        assertAllGone(pids);
    }

    /** Starts children that leave their parent: a double fork (re-parented to init) and a setsid (a new session). */
    private Path registerEscapingChildren(String action) throws Exception {
        Path pidFile = Files.createTempFile(dir, "escaped", ".pids");
        register(action, null, ctx -> ctx.exec(ProcessSpec.of("sh", "-c",
            "(sleep 313 & echo $! >> \"$0\"); setsid sleep 314 & echo $! >> \"$0\"; echo started; sleep 400", pidFile.toString())).exitCode());
        return pidFile;
    }

    private static List<Long> readPids(Path file, int n) throws Exception {
        for (int i = 0; i < 100; i++) {
            List<String> lines = Files.readAllLines(file);
            if (lines.size() >= n) return lines.stream().map(Long::parseLong).toList();
            Thread.sleep(50);
        }
        throw new AssertionError("the children did not start: " + Files.readAllLines(file));
    }

    @Test
    void aTimeoutKillsChildrenThatLeftTheirParentToo() throws Exception {
        assertThat(Containment.host().describe()).as("this test needs a writable cgroup v2 with cgroup.kill (run as root)")
            .startsWith("cgroup v2");
        Path pidFile = registerEscapingChildren("test.escape");
        Command c = new Command(UUID.randomUUID().toString(), "test.escape", Map.of(), 2, Instant.now(), null);
        Submitted s = submit(c, Destination.SERVER);
        List<Long> pids = readPids(pidFile, 2);
        assertThat(pids).noneMatch(DispatcherTest::gone);
        long t0 = System.nanoTime();
        Result r = s.result().get(30, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(r.startedAt()).isNotNull(); // it ran, and its handler was not abandoned
        assertThat(r.error()).doesNotContain("abandoned");
        assertAllGone(pids);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(8));
    }

    @Test
    void childrenLeftBehindByAFinishedCommandDieWithIt() throws Exception {
        Path pidFile = Files.createTempFile(dir, "daemon", ".pids");
        register("test.daemon", null, ctx -> ctx.exec(ProcessSpec.of("sh", "-c",
            "(sleep 315 & echo $! >> \"$0\") ; echo launched", pidFile.toString())).exitCode());
        Result r = run(cmd("test.daemon", Map.of()));
        assertThat(r.status()).isEqualTo(Status.SUCCEEDED);
        assertAllGone(readPids(pidFile, 1));
    }

    @Test
    void cancellingARunningCommandKillsItsProcessTree() throws Exception {
        Path pidFile = registerProcessTree("test.tree");
        Command c = cmd("test.tree", Map.of());
        Submitted s = submit(c, Destination.SERVER);
        List<Long> pids = readPids(pidFile);

        assertThat(dispatcher.cancel(c.id())).isTrue();
        Result r = s.result().get(30, TimeUnit.SECONDS);

        assertThat(r.status()).isEqualTo(Status.CANCELLED);
        assertAllGone(pids);
        assertThat(dispatcher.cancel(c.id())).as("cancel of a finished command is ignored").isFalse();
    }

    @Test
    void cancellingAQueuedCommandNeverRunsIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        register("disk.slow", "disk", ctx -> {
            runs.incrementAndGet();
            release.await(20, TimeUnit.SECONDS);
            return null;
        });
        Submitted first = submit(cmd("disk.slow", Map.of()), Destination.SERVER);
        Command queued = cmd("disk.slow", Map.of());
        Submitted second = submit(queued, Destination.SERVER);

        assertThat(dispatcher.cancel(queued.id())).isTrue();
        Result r = second.result().get(10, TimeUnit.SECONDS);
        release.countDown();
        first.result().get(10, TimeUnit.SECONDS);

        assertThat(r.status()).isEqualTo(Status.CANCELLED);
        assertThat(r.startedAt()).isNull();
        assertThat(runs.get()).isEqualTo(1);
    }

    @Test
    void anUnknownActionIsRejectedNamingTheKnownActions() throws Exception {
        Result r = run(cmd("nope.missing", Map.of()));
        assertThat(r.status()).isEqualTo(Status.REJECTED);
        assertThat(r.error()).isEqualTo("unknown action 'nope.missing'; known actions: agent.ping");
    }

    @Test
    void badParamsAreRejectedNamingTheField() throws Exception {
        Result r = run(cmd("agent.ping", Map.of("sleepMs", "soon")));
        assertThat(r.status()).isEqualTo(Status.REJECTED);
        assertThat(r.error()).isEqualTo("param 'sleepMs' must be an integer, got 'soon'");

        Result tooLong = run(cmd("agent.ping", Map.of("sleepMs", 600_001L)));
        assertThat(tooLong.error()).isEqualTo("param 'sleepMs' must be 0..600000, got 600001");
    }

    @Test
    void aDuplicateIdIsAnsweredFromTheStoreAndNeverRunsTwice() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        register("test.count", null, ctx -> runs.incrementAndGet());
        Command c = cmd("test.count", Map.of());
        Result first = run(c);
        Submitted again = submit(c, Destination.SERVER);

        assertThat(again.kind()).isEqualTo(Admission.Kind.FINISHED);
        assertThat(again.result().get(1, TimeUnit.SECONDS).finishedAt()).isEqualTo(first.finishedAt());
        assertThat(runs.get()).isEqualTo(1);
    }

    @Test
    void aDuplicateOfARunningCommandIsPendingAndGetsTheSameResult() throws Exception {
        Command c = cmd("agent.ping", Map.of("sleepMs", 300L));
        Submitted first = submit(c, Destination.SERVER);
        Submitted dup = submit(c, Destination.SERVER);
        assertThat(dup.kind()).isEqualTo(Admission.Kind.PENDING);
        assertThat(dup.result().get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.SUCCEEDED);
        assertThat(first.result().get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void anExpiredCommandIsRejectedWithoutRunning() throws Exception {
        Command late = new Command(UUID.randomUUID().toString(), "agent.ping", Map.of(), null, Instant.now(),
            Instant.now().minusSeconds(1));
        Command ancient = new Command(UUID.randomUUID().toString(), "agent.ping", Map.of(), null,
            Instant.now().minus(Duration.ofDays(31)), null);
        for (Command c : List.of(late, ancient)) {
            Result r = run(c);
            assertThat(r.status()).isEqualTo(Status.REJECTED);
            assertThat(r.error()).isEqualTo("expired");
            assertThat(r.errorCode()).isEqualTo(ErrorCode.EXPIRED);
            assertThat(r.startedAt()).isNull();
        }
    }

    @Test
    void aCommandIssuedFarInTheFutureIsRejectedForClockSkew() throws Exception {
        Command future = new Command(UUID.randomUUID().toString(), "agent.ping", Map.of(), null,
            Instant.now().plus(Duration.ofHours(2)), null);
        Result r = run(future);
        assertThat(r.status()).isEqualTo(Status.REJECTED);
        assertThat(r.errorCode()).isEqualTo(ErrorCode.CLOCK_SKEW);
        assertThat(r.error()).contains("issuedAt").contains("max_clock_skew_seconds");
        // within the allowed skew (5 minutes by default) it runs
        Command soon = new Command(UUID.randomUUID().toString(), "agent.ping", Map.of(), null, Instant.now().plusSeconds(60), null);
        assertThat(run(soon).status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void commandsSubmittedInOrderRunOneAfterAnotherAndFindWhatTheOneBeforeInstalled() throws Exception {
        List<String> ran = java.util.Collections.synchronizedList(new ArrayList<>());
        register("test.install", null, ctx -> {
            Thread.sleep(200); // slow enough that a command running at once would overtake it
            register("test.installed", null, c -> ran.add("installed"));
            ran.add("install");
            return "ok";
        });
        List<CompletableFuture<Result>> rs = dispatcher.submitInOrder(
            List.of(cmd("test.install", Map.of()), cmd("test.installed", Map.of()), cmd("agent.ping", Map.of())), Destination.OFFLINE);
        assertThat(rs.get(1).get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.SUCCEEDED);
        assertThat(rs.get(2).get(10, TimeUnit.SECONDS).startedAt()).isAfterOrEqualTo(rs.get(1).get().finishedAt());
        assertThat(ran).containsExactly("install", "installed");
    }

    @Test
    void everyResultThatDidNotSucceedCarriesAnErrorCode() throws Exception {
        register("test.fail", null, ctx -> { throw new CommandException("disk full"); });
        register("test.bug", null, ctx -> { throw new IllegalStateException("oops"); });
        register("test.busy", null, ctx -> { throw new CommandRefusedException("apt is locked", ErrorCode.BUSY); });
        assertThat(run(cmd("nope.missing", Map.of())).errorCode()).isEqualTo(ErrorCode.UNKNOWN_ACTION);
        assertThat(run(cmd("agent.ping", Map.of("sleepMs", "soon"))).errorCode()).isEqualTo(ErrorCode.INVALID_PARAM);
        assertThat(run(cmd("test.fail", Map.of())).errorCode()).isEqualTo(ErrorCode.FAILED);
        assertThat(run(cmd("test.bug", Map.of())).errorCode()).isEqualTo(ErrorCode.HANDLER_ERROR);
        Result busy = run(cmd("test.busy", Map.of()));
        assertThat(busy.status()).isEqualTo(Status.REJECTED);
        assertThat(busy.errorCode()).isEqualTo(ErrorCode.BUSY);
        Command slow = new Command(UUID.randomUUID().toString(), "agent.ping", Map.of("sleepMs", 60_000L), 1, Instant.now(), null);
        assertThat(run(slow).errorCode()).isEqualTo(ErrorCode.TIMED_OUT);
        assertThat(run(cmd("agent.ping", Map.of())).errorCode()).isNull();
        // and the store keeps it
        assertThat(store.get(busy.id()).orElseThrow().result().errorCode()).isEqualTo(ErrorCode.BUSY);
    }

    @Test
    void aLimitTheHandlerEnforcesItselfEndsTheCommandTimedOutAsTheProtocolPairsThem() throws Exception {
        register("test.own_limit", null, ctx -> { throw new CommandException("ran longer than its limit of 2 s", ErrorCode.TIMED_OUT); });
        Result r = run(cmd("test.own_limit", Map.of()));
        assertThat(r.status()).isEqualTo(Status.TIMED_OUT);
        assertThat(r.errorCode()).isEqualTo(ErrorCode.TIMED_OUT);
        assertThat(r.error()).isEqualTo("ran longer than its limit of 2 s");
    }

    @Test
    void aDryRunOfAnActionWithoutSupportIsRejectedAndNeverReachesTheHandler() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        register("test.count", null, ctx -> runs.incrementAndGet());
        Command dry = new Command(UUID.randomUUID().toString(), "test.count", Map.of(), null, Instant.now(), null, true);
        Result r = run(dry);
        assertThat(r.status()).isEqualTo(Status.REJECTED);
        assertThat(r.errorCode()).isEqualTo(ErrorCode.DRY_RUN_UNSUPPORTED);
        assertThat(r.error()).isEqualTo("action 'test.count' does not support dry runs; nothing was run");
        assertThat(runs.get()).isZero();
    }

    @Test
    void aDryRunReachesAHandlerThatSupportsIt() throws Exception {
        registry.add(new HandlerRegistry.Registration(ctx -> Map.of("dryRun", ctx.dryRun(), "changed", true),
            List.of("test.change"), null, "test", 0, ++serviceIds, true));
        Command dry = new Command(UUID.randomUUID().toString(), "test.change", Map.of(), null, Instant.now(), null, true);
        Result r = run(dry);
        assertThat(r.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(r.data()).isEqualTo(Map.of("dryRun", true, "changed", true));
        assertThat(store.get(r.id()).orElseThrow().command().dryRun()).isTrue();
    }

    @Test
    void outputBeyondTheCapKeepsTheFirstAndLastHalves() throws Exception {
        register("test.loud", null, ctx -> {
            ctx.output().write("BEGIN");
            for (int i = 0; i < 1000; i++) ctx.output().write("..........");
            ctx.output().write("END");
            return null;
        });
        Result r = run(cmd("test.loud", Map.of()));
        assertThat(r.outputTruncated()).isTrue();
        assertThat(r.output()).startsWith("BEGIN").endsWith("END").contains("bytes of output omitted");
        assertThat(r.output().length()).isLessThan(4096 + 100);
    }

    @Test
    void aHandlerExceptionFailsTheCommandAndTheDispatcherGoesOn() throws Exception {
        register("test.boom", null, ctx -> {
            throw new IllegalStateException("kaput");
        });
        Result r = run(cmd("test.boom", Map.of()));
        assertThat(r.status()).isEqualTo(Status.FAILED);
        assertThat(r.error()).contains("kaput");
        assertThat(run(cmd("agent.ping", Map.of())).status()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void anErrorThrownByAHandlerStillEndsTheCommandWithAResult() throws Exception {
        register("test.deep", null, ctx -> {
            throw new StackOverflowError("too deep");
        });
        Result r = run(cmd("test.deep", Map.of()));
        assertThat(r.status()).isEqualTo(Status.FAILED);
        assertThat(r.error()).isEqualTo("handler error: java.lang.StackOverflowError: too deep");
        assertThat(dispatcher.active()).isEmpty();
    }

    @Test
    void aRefusalOfTheHandlerEndsRejected() throws Exception {
        register("test.refuse", null, ctx -> {
            throw new agent.api.CommandRefusedException("policy says no");
        });
        Result r = run(cmd("test.refuse", Map.of()));
        assertThat(r.status()).isEqualTo(Status.REJECTED);
        assertThat(r.error()).isEqualTo("policy says no");
    }

    @Test
    void aMissingProgramFailsNamingIt() throws Exception {
        register("test.missing", null, ctx -> ctx.exec(ProcessSpec.of("/nonexistent/tool", "x")).exitCode());
        Result r = run(cmd("test.missing", Map.of()));
        assertThat(r.status()).isEqualTo(Status.FAILED);
        assertThat(r.error()).contains("cannot run '/nonexistent/tool'");
    }

    @Test
    void commandsOfAHeldPluginWaitForTheChangeAndThenRunAgainstWhatServesTheirAction() throws Exception {
        List<String> answeredBy = java.util.Collections.synchronizedList(new ArrayList<>());
        CommandHandler v1 = ctx -> answeredBy.add("v1");
        register("test.plugin", "plugin-key", v1);
        ActionGate.Hold hold = gate.hold(List.of("test.plugin"));
        // the plugin is replaced while commands arrive: nothing serves the action for a while
        registry.remove(v1);
        List<Submitted> during = new ArrayList<>();
        for (int i = 0; i < 5; i++) during.add(submit(cmd("test.plugin", Map.of()), Destination.SERVER));
        Thread.sleep(300);
        assertThat(during).allSatisfy(s -> assertThat(s.result()).isNotDone());
        assertThat(answeredBy).isEmpty();
        // other actions are not held
        assertThat(run(cmd("agent.ping", Map.of())).status()).isEqualTo(Status.SUCCEEDED);

        register("test.plugin", "plugin-key", ctx -> answeredBy.add("v2"));
        hold.close();
        for (Submitted s : during) assertThat(s.result().get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.SUCCEEDED);
        assertThat(answeredBy).containsExactly("v2", "v2", "v2", "v2", "v2");
    }

    @Test
    void commandsHeldForARemovedPluginAreRejectedAsUnknownOnceTheRemovalEnds() throws Exception {
        CommandHandler h = ctx -> "ran";
        register("test.gone", null, h);
        ActionGate.Hold hold = gate.hold(List.of("test.gone"));
        registry.remove(h);
        Submitted s = submit(cmd("test.gone", Map.of()), Destination.SERVER);
        Thread.sleep(100);
        assertThat(s.result()).isNotDone();
        hold.close();
        Result r = s.result().get(10, TimeUnit.SECONDS);
        assertThat(r.status()).isEqualTo(Status.REJECTED);
        assertThat(r.error()).startsWith("unknown action 'test.gone'");
        assertThat(r.startedAt()).isNull();
    }

    @Test
    void aHoldWaitsForRunningCommandsOfThePluginAndNamesThemWhenTheyDoNotEnd() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        register("test.slow", null, ctx -> {
            started.countDown();
            release.await();
            return "done";
        });
        Command slow = cmd("test.slow", Map.of());
        Submitted running = submit(slow, Destination.SERVER);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        try (ActionGate.Hold hold = gate.hold(List.of("test.slow"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> hold.awaitIdle(Duration.ofMillis(200)))
                .isInstanceOf(agent.api.CommandException.class)
                .hasMessage("commands [" + slow.id() + "] of [test.slow] were still running after 0 s; nothing was changed");
            long t0 = System.nanoTime();
            new Thread(() -> {
                sleep(300);
                release.countDown();
            }).start();
            hold.awaitIdle(Duration.ofSeconds(10));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
            // the handler has returned; its result is being stored (the hold does not wait for that)
            assertThat(running.result().get(5, TimeUnit.SECONDS).status()).isEqualTo(Status.SUCCEEDED);
        }
    }

    @Test
    void aHeldCommandCanBeCancelledWhileItWaits() throws Exception {
        register("test.held", null, ctx -> "ran");
        ActionGate.Hold hold = gate.hold(List.of("test.held"));
        Command c = cmd("test.held", Map.of());
        Submitted s = submit(c, Destination.SERVER);
        Thread.sleep(100);
        assertThat(dispatcher.cancel(c.id())).isTrue();
        assertThat(s.result().get(10, TimeUnit.SECONDS).status()).isEqualTo(Status.CANCELLED);
        hold.close();
        Thread.sleep(100);
        assertThat(store.get(c.id()).orElseThrow().status()).isEqualTo(Status.CANCELLED);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
