package plugin.script.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.Running;
import agent.testkit.TestContext;

/** script.run with inline scripts, through the test kit: real bash, real processes. */
class ScriptRunTest {
    @TempDir
    Path tmp;
    ScriptRunner runner;

    @BeforeEach
    void setUp() throws Exception {
        runner = new ScriptRunner();
        runner.paths = new TestPaths(tmp.resolve("data"), tmp.resolve("scripts.d"));
    }

    private TestContext inline(String script) { return TestContext.forAction("script.run").param("script", script); }

    @Test
    void outputAndExitCodeOfASuccess() {
        Outcome o = inline("echo \"hello $1 $2\"; echo oops >&2; exit 0").param("args", List.of("a b", "c")).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.output()).contains("hello a b c\n").contains("oops\n");
        assertThat(o.dataAsMap()).containsEntry("exitCode", 0).containsEntry("runAs", null);
        assertThat(o.exitCode()).isZero();
        assertThat(o.json().get("data").getAsJsonObject().get("exitCode").getAsInt()).isZero();
    }

    @Test
    void aNonZeroExitFailsWithTheCodeInTheError() {
        Outcome o = inline("echo before; exit 3").run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.FAILED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.NONZERO_EXIT);
        assertThat(o.error()).isEqualTo("the script exited with code 3");
        assertThat(o.exitCode()).isEqualTo(3);
        assertThat(o.output()).contains("before");
    }

    @Test
    void argsAreNeverParsedByAShell() throws Exception {
        Path victim = tmp.resolve("victim");
        String hostile = "$(touch " + victim + "); `touch " + victim + "` ; touch " + victim;
        Outcome o = inline("printf '%s\\n' \"$1\"").param("args", List.of(hostile)).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.output()).isEqualTo(hostile + "\n");
        assertThat(victim).doesNotExist();
    }

    @Test
    void theEnvironmentIsCleanPlusWhatTheCommandAdds() {
        assertThat(System.getenv()).as("the test JVM's environment, which must not leak").isNotEmpty();
        Outcome o = inline("env").param("env", Map.of("GREETING", "hi there", "PATH", "/usr/bin:/bin")).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        Map<String, String> env = o.output().lines().filter(l -> l.contains("="))
            .collect(Collectors.toMap(l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1), (a, b) -> b));
        assertThat(env).containsEntry("GREETING", "hi there").containsEntry("PATH", "/usr/bin:/bin")
            .containsEntry("LANG", "C.UTF-8").containsEntry("USER", "root").containsEntry("OUTPOST_COMMAND_ID", o.command().id());
        // bash itself adds PWD, SHLVL and _
        assertThat(env.keySet()).isSubsetOf(Set.of("GREETING", "PATH", "LANG", "HOME", "USER", "LOGNAME",
            "OUTPOST_COMMAND_ID", "PWD", "SHLVL", "_"));
    }

    @Test
    void theCommandCannotReplaceTheRunMarker() {
        Outcome o = inline("echo \"$OUTPOST_COMMAND_ID\"").param("env", Map.of("OUTPOST_COMMAND_ID", "forged")).run(runner);
        assertThat(o.output().strip()).isEqualTo(o.command().id());
    }

    @Test
    void stdinWorkingDirAndInterpreter() throws Exception {
        Outcome o = inline("read -r a; read -r b; echo \"got [$a] [$b] in $(pwd)\"").param("stdin", "first line\n$(second)\n")
            .param("workingDir", tmp.toString()).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.output()).isEqualTo("got [first line] [$(second)] in " + tmp + "\n");

        Outcome sh = inline("echo \"$0 ran\"").param("interpreter", "/bin/sh").run(runner);
        assertThat(sh.status()).as(sh.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(sh.output()).endsWith("/script ran\n");
        assertThat(sh.executed().get(0)).contains("/bin/sh");
    }

    @Test
    void withoutStdinTheScriptReadsEndOfFile() {
        Outcome o = inline("if read -r x; then echo \"read [$x]\"; else echo eof; fi").run(runner);
        assertThat(o.output()).isEqualTo("eof\n");
    }

    @Test
    void badParamsAreRejectedNamingTheParam() {
        record Case(String json, String param, String says) {}
        for (Case c : List.of(
                new Case("{}", "script", "or 'name' is required"),
                new Case("{\"script\": \"true\", \"name\": \"x\"}", "name", "cannot be given with 'script'"),
                new Case("{\"script\": \"true\", \"interpreter\": \"bash\"}", "interpreter", "absolute path"),
                new Case("{\"script\": \"true\", \"interpreter\": \"/no/such/shell\"}", "interpreter", "does not exist"),
                new Case("{\"script\": \"true\", \"env\": {\"BAD NAME\": \"x\"}}", "env", "'BAD NAME'"),
                new Case("{\"script\": \"true\", \"env\": {\"N\": 5}}", "env", "must be strings"),
                new Case("{\"script\": \"true\", \"workingDir\": \"relative\"}", "workingDir", "absolute path"),
                new Case("{\"script\": \"true\", \"workingDir\": \"/no/such/dir\"}", "workingDir", "existing directory"),
                new Case("{\"script\": \"true\", \"runAs\": \"-o\"}", "runAs", "must be a user name"),
                new Case("{\"script\": \"true\", \"args\": [\"a\\u0000b\"]}", "args", "NUL"),
                new Case("{\"script\": \"true\", \"timeoutSeconds\": 0}", "timeoutSeconds", "1..86400"))) {
            Outcome o = TestContext.forAction("script.run").paramsJson(c.json).run(runner);
            assertThat(o.status()).as(c.json + " -> " + o).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).as(c.json).isEqualTo(ErrorCode.INVALID_PARAM);
            assertThat(o.error()).as(c.json).startsWith("param '" + c.param + "'").contains(c.says);
            assertThat(o.executed()).as(c.json).isEmpty();
        }
    }

    @Test
    void inlineScriptsCanBeTurnedOffOnTheHost() {
        Outcome o = inline("echo should not run").setting("inline", false).run(runner);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).contains("plugins.settings.script.inline is false");
        assertThat(o.executed()).isEmpty();
    }

    @Test
    void aTimeoutAboveTheHostsMaximumIsRefused() {
        Outcome o = inline("true").param("timeoutSeconds", 60).setting("max_seconds", 30).run(runner);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).contains("plugins.settings.script.max_seconds is 30");
    }

    @Test
    void badSettingsAreRejectedNamingTheKey() {
        Outcome o = inline("true").setting("max_seconds", 0).run(runner);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.INVALID_SETTINGS);
        assertThat(o.error()).contains("plugins.settings.script").contains("max_seconds must be 1..86400, got 0");

        Outcome typo = inline("true").setting("max_secs", 5).run(runner);
        assertThat(typo.error()).contains("plugins.settings.script.max_secs").contains("unknown");
    }

    @Test
    void outputOverTheCapKeepsHeadAndTail() {
        Outcome o = inline("echo HEAD-MARK; for i in $(seq 1 5000); do echo \"line $i of filler text\"; done; echo TAIL-MARK")
            .maxOutputBytes(4096).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.outputTruncated()).isTrue();
        assertThat(o.output()).startsWith("HEAD-MARK\n").endsWith("TAIL-MARK\n").doesNotContain("line 2500 of");
        assertThat(o.output().length()).isLessThan(4096 + 200);
    }

    @Test
    void aDryRunSaysWhatWouldRunAndRunsNothing() throws Exception {
        Path marker = tmp.resolve("ran");
        Outcome o = inline("touch " + marker).param("args", List.of("x")).param("env", Map.of("SECRET", "s3cr3t"))
            .dryRun(true).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.dataAsMap()).containsEntry("changed", true).containsEntry("program", "/bin/bash")
            .containsEntry("args", List.of("x")).containsEntry("env", List.of("SECRET"));
        assertThat(o.json().toString()).doesNotContain("s3cr3t");
        assertThat(o.executed()).isEmpty();
        assertThat(marker).doesNotExist();
    }

    /** A runaway with a child, a setsid child and a double-forked setsid grandchild: every one must go. */
    private static String runaway(Path pids) {
        return "sleep 1000 & echo $! >> " + pids + "\n"
            + "setsid sleep 1001 & echo $! >> " + pids + "\n"
            + "setsid -f sh -c 'echo $$ >> " + pids + "; exec sleep 1002' > /dev/null 2>&1\n"
            + "echo $$ >> " + pids + "\n"
            + "sleep 1003\n";
    }

    @Test
    void theAgentsTimeoutKillsTheScriptAndEveryDescendantIncludingSetsidOnes() throws Exception {
        Path pids = tmp.resolve("pids");
        Running r = inline(runaway(pids)).timeout(Duration.ofSeconds(3)).start(runner);
        List<Long> started = Processes.pids(pids, 4);
        Outcome o = r.await();
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.TIMED_OUT);
        Processes.assertAllGone(started);
    }

    @Test
    void theScriptsOwnTimeoutKillsItAndEveryDescendantIncludingSetsidOnes() throws Exception {
        Path pids = tmp.resolve("pids");
        Running r = inline(runaway(pids)).param("timeoutSeconds", 2).start(runner);
        List<Long> started = Processes.pids(pids, 4);
        Outcome o = r.await(Duration.ofSeconds(20));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.TIMED_OUT);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.TIMED_OUT);
        assertThat(o.error()).contains("longer than its limit of 2 s (param timeoutSeconds)");
        Processes.assertAllGone(started);
    }

    @Test
    void theHostsMaximumAppliesWhenTheCommandSetsNoTimeout() throws Exception {
        Outcome o = inline("sleep 1000").setting("max_seconds", 1).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.TIMED_OUT);
        assertThat(o.errorCode()).as(o.toString()).isEqualTo(ErrorCode.TIMED_OUT);
        assertThat(o.error()).contains("limit of 1 s (plugins.settings.script.max_seconds)");
    }

    /**
     * A grandchild that double-forks out of the tree and also scrubs its environment escapes both the agent's tree
     * kill and this plugin's marker sweep; the agent's core contains it (a cgroup per command).
     */
    @Test
    void theAgentsTimeoutKillsAGrandchildThatLeftTheTreeAndScrubbedItsEnvironment() throws Exception {
        Path pids = tmp.resolve("pids");
        Running r = inline("setsid -f env -i sh -c 'echo $$ >> " + pids + "; exec sleep 1004' > /dev/null 2>&1\n"
            + "echo $$ >> " + pids + "\nsleep 1005\n").timeout(Duration.ofSeconds(3)).start(runner);
        List<Long> started = Processes.pids(pids, 2);
        Outcome o = r.await();
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.TIMED_OUT);
        Processes.assertAllGone(started);
    }

    @Test
    void cancelKillsTheScriptAndEveryDescendant() throws Exception {
        Path pids = tmp.resolve("pids");
        Running r = inline(runaway(pids)).start(runner);
        List<Long> started = Processes.pids(pids, 4);
        r.cancel();
        Outcome o = r.await(Duration.ofSeconds(20));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.CANCELLED);
        Processes.assertAllGone(started);
    }

    @Test
    void aBackgroundProcessLeftBehindEndsWithTheCommand() throws Exception {
        Path pids = tmp.resolve("pids");
        // the script ends once its detached child has written its pid (bounded: 10 s)
        Outcome o = inline("setsid -f sh -c 'echo $$ >> " + pids + "; exec sleep 30' > /dev/null 2>&1\n"
            + "for i in $(seq 1000); do [ -s " + pids + " ] && break; sleep 0.01; done").run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        List<Long> daemon = Processes.pids(pids, 1);
        try {
            // the agent's containment: nothing a command started outlives it (a service is systemd's to start)
            Processes.assertAllGone(daemon);
        } finally {
            ProcessHandle.of(daemon.get(0)).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void theScriptFileIsPrivateAndRemovedAfterTheRun() throws Exception {
        Outcome o = inline("ls -ld \"$(dirname \"$0\")\" \"$0\" | cut -c1-10; echo \"$0\"").run(runner);
        List<String> lines = o.output().lines().toList();
        assertThat(lines.get(0)).isEqualTo("drwx--x--x");
        assertThat(lines.get(1)).isEqualTo("-r--------");
        assertThat(Path.of(lines.get(2))).doesNotExist();
        assertThat(Arrays.asList(lines.get(2).split("/"))).contains("script");
        assertThat(Files.exists(Path.of(lines.get(2)).getParent())).isFalse();
    }
}
