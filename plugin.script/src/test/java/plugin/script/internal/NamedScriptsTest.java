package plugin.script.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** The scripts directory: script.list with headers, script.run by name, and what is refused. */
class NamedScriptsTest {
    private static final String GREET = "#!/bin/bash\n"
        + "# description: Greets someone,\n"
        + "#   description: politely\n"
        + "# arg: who        the one to greet\n"
        + "# arg: [times]    how often (default 1)\n"
        + "# not a key: ignored\n"
        + "set -eu\n"
        + "# arg: late   not in the header any more\n"
        + "for i in $(seq 1 \"${2:-1}\"); do echo \"hello $1\"; done\n";

    @TempDir
    Path tmp;
    Path dir;
    ScriptRunner runner;
    ScriptLister lister;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createDirectory(tmp.resolve("scripts.d"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        TestPaths paths = new TestPaths(tmp.resolve("data"), dir);
        runner = new ScriptRunner();
        runner.paths = paths;
        lister = new ScriptLister();
        lister.paths = paths;
        script("greet", GREET, "rwxr-xr-x");
    }

    private Path script(String name, String text, String mode) throws Exception {
        Path p = Files.writeString(dir.resolve(name), text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        return p;
    }

    private Outcome run(String name, String... args) {
        return TestContext.forAction("script.run").param("name", name).param("args", List.of(args)).run(runner);
    }

    @Test
    void aNamedScriptRunsWithItsArguments() {
        Outcome o = run("greet", "world; rm -rf /", "2");
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.output()).isEqualTo("hello world; rm -rf /\nhello world; rm -rf /\n");
        assertThat(o.dataAsMap()).containsEntry("exitCode", 0).containsEntry("name", "greet");
    }

    @Test
    void argumentsThatDoNotFitTheHeaderAreRejected() {
        Outcome none = run("greet");
        assertThat(none.status()).isEqualTo(Status.REJECTED);
        assertThat(none.error()).isEqualTo("param 'args' must fit the script's declared arguments 'who [times]' (1 to 2), got 0");
        assertThat(run("greet", "a", "1", "extra").error()).contains("got 3");
    }

    @Test
    void listShowsEachScriptWithItsHeaderAndWhyOneIsRefused() throws Exception {
        script("plain", "#!/bin/sh\necho plain\n", "rwxr-xr-x");
        script("rest", "#!/bin/sh\n# arg: [files...] what to show\necho \"$@\"\n", "rwxr-xr-x");
        script("notexec", "#!/bin/sh\n", "rw-r--r--");
        script(".hidden", "#!/bin/sh\n", "rwxr-xr-x");
        script("backup~", "#!/bin/sh\n", "rwxr-xr-x");
        Files.createDirectory(dir.resolve("subdir"));
        Outcome o = TestContext.forAction("script.list").run(lister);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> scripts = (List<Map<String, Object>>) o.dataAsMap().get("scripts");
        assertThat(scripts).extracting(s -> s.get("name")).containsExactly("greet", "notexec", "plain", "rest");
        Map<String, Object> greet = scripts.get(0);
        assertThat(greet).containsEntry("description", "Greets someone, politely").containsEntry("usable", true)
            .containsEntry("problem", null);
        assertThat(greet.get("args")).isEqualTo(List.of(
            Map.of("name", "who", "description", "the one to greet", "required", true, "repeated", false),
            Map.of("name", "times", "description", "how often (default 1)", "required", false, "repeated", false)));
        assertThat(scripts.get(1)).containsEntry("usable", false);
        assertThat((String) scripts.get(1).get("problem")).contains("not executable");
        assertThat(scripts.get(2)).containsEntry("description", null).containsEntry("args", List.of());
        assertThat(scripts.get(3).get("args")).isEqualTo(List.of(
            Map.of("name", "files", "description", "what to show", "required", false, "repeated", true)));
        assertThat(o.output()).contains("greet  Greets someone, politely");
        o.json();
    }

    @Test
    void aMissingScriptsDirectoryListsNothing() throws Exception {
        Outcome o = TestContext.forAction("script.list").setting("scripts_dir", tmp.resolve("none").toString()).run(lister);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.dataAsMap()).containsEntry("exists", false).containsEntry("scripts", List.of());
        Outcome r = TestContext.forAction("script.run").param("name", "greet").setting("scripts_dir",
            tmp.resolve("none").toString()).run(runner);
        assertThat(r.status()).isEqualTo(Status.REJECTED);
        assertThat(r.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
    }

    @Test
    void aMissingScriptIsNotFound() {
        Outcome o = run("nope");
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(o.error()).contains("there is no script 'nope' in " + dir);
    }

    @Test
    void pathTricksInTheNameAreRefused() throws Exception {
        Path outside = script("../outside", "#!/bin/sh\necho ESCAPED\n", "rwxr-xr-x");
        for (String name : List.of("../outside", "/bin/true", "sub/greet", ".", "..", ".hidden", "greet\nx", "a=b", "",
                "-rf", "~root")) {
            Outcome o = run(name);
            assertThat(o.status()).as(name + " -> " + o).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).as(name).isEqualTo(ErrorCode.INVALID_PARAM);
            assertThat(o.error()).as(name).startsWith("param 'name' must be the plain file name of a script");
            assertThat(o.output()).doesNotContain("ESCAPED");
        }
        Files.createSymbolicLink(dir.resolve("leads-out"), outside);
        Files.createSymbolicLink(dir.resolve("leads-out-relative"), Path.of("../outside"));
        for (String name : List.of("leads-out", "leads-out-relative")) {
            Outcome o = run(name);
            assertThat(o.status()).as(name + " -> " + o).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
            assertThat(o.error()).contains("a link that leads out of the scripts directory");
            assertThat(o.output()).doesNotContain("ESCAPED");
        }
        Files.createSymbolicLink(dir.resolve("alias"), Path.of("greet"));
        Outcome inside = run("alias", "linked");
        assertThat(inside.status()).as("a link to a script inside the directory: " + inside).isEqualTo(Status.SUCCEEDED);
        assertThat(inside.output()).isEqualTo("hello linked\n");
    }

    @Test
    void aWorldOrGroupWritableScriptIsRefused() throws Exception {
        Path marker = tmp.resolve("ran");
        script("open", "#!/bin/sh\ntouch " + marker + "\n", "rwxrwxrwx");
        script("group", "#!/bin/sh\ntouch " + marker + "\n", "rwxrwxr-x");
        Outcome o = run("open");
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).isEqualTo("script 'open' in " + dir + " is refused: it is group- and world-writable (mode"
            + " 0777): anyone who can write it could run code as the agent; chmod go-w it");
        assertThat(run("group").error()).contains("it is group-writable (mode 0775)");
        assertThat(marker).doesNotExist();
    }

    @Test
    void aScriptNotOwnedByRootIsRefused() throws Exception {
        Path p = script("owned", "#!/bin/sh\necho no\n", "rwxr-xr-x");
        Files.setAttribute(p, "unix:uid", 4242);
        Outcome o = run("owned");
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).contains("it is owned by uid 4242, not root");
    }

    @Test
    void aWritableScriptsDirectoryRefusesEverything() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Outcome o = run("greet", "x");
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).contains("the scripts directory " + dir + " is not safe: " + dir
            + " is group- and world-writable (mode 0777)");
        Outcome list = TestContext.forAction("script.list").run(lister);
        assertThat(list.status()).isEqualTo(Status.REJECTED);
        assertThat(list.error()).contains("is not safe");
    }

    @Test
    void aWritableParentWithoutTheStickyBitRefusesTheDirectory() throws Exception {
        Path parent = Files.createDirectory(tmp.resolve("shared"));
        Path inner = Files.createDirectory(parent.resolve("scripts.d"));
        Files.setPosixFilePermissions(inner, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.copy(dir.resolve("greet"), inner.resolve("greet"));
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxrwxrwx"));
        Outcome o = TestContext.forAction("script.run").param("name", "greet").param("args", List.of("x"))
            .setting("scripts_dir", inner.toString()).run(runner);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).contains("its parent " + parent + " is group- and world-writable without the sticky bit");

        Files.setAttribute(parent, "unix:mode", 01777); // as /tmp
        Outcome sticky = TestContext.forAction("script.run").param("name", "greet").param("args", List.of("x"))
            .setting("scripts_dir", inner.toString()).run(runner);
        assertThat(sticky.status()).as(sticky.toString()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void interpreterIsForInlineScriptsOnly() {
        Outcome o = TestContext.forAction("script.run").param("name", "greet").param("interpreter", "/bin/sh").run(runner);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).startsWith("param 'interpreter' applies to inline scripts only");
    }
}
