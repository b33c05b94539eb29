package plugin.script.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** runAs with a real unprivileged user and group that the test creates (and removes): we run as root. */
class RunAsTest {
    static String user;
    static String group;
    static long uid;
    static long gid;
    static long extraGid;

    @TempDir
    Path tmp;
    ScriptRunner runner;

    @BeforeAll
    static void createUser() throws Exception {
        if (Users.agentUid() != 0) fail("runAs tests need root (to create a user and to switch to it); they run as uid " + Users.agentUid());
        for (String tool : List.of("/usr/sbin/useradd", "/usr/sbin/groupadd", "/usr/bin/setpriv")) {
            if (!Files.isExecutable(Path.of(tool))) fail(tool + " is missing: install the passwd and util-linux packages");
        }
        String suffix = Integer.toString(ThreadLocalRandom.current().nextInt(100000, 999999));
        user = "opt" + suffix;
        group = "opg" + suffix;
        Processes.run("/usr/sbin/groupadd", group);
        Processes.run("/usr/sbin/useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group",
            "--groups", group, user);
        uid = Long.parseLong(Processes.run("id", "-u", user).strip());
        gid = Long.parseLong(Processes.run("id", "-g", user).strip());
        extraGid = Long.parseLong(Processes.run("getent", "group", group).split(":")[2]);
    }

    @AfterAll
    static void removeUser() throws Exception {
        if (user != null) Processes.run("/usr/sbin/userdel", user);
        if (group != null) Processes.run("/usr/sbin/groupdel", group);
    }

    @BeforeEach
    void setUp() {
        runner = new ScriptRunner();
        runner.paths = new TestPaths(tmp.resolve("data"), tmp.resolve("scripts.d"));
    }

    @Test
    void theScriptRunsWithTheUsersUidGidAndGroups() {
        Outcome o = TestContext.forAction("script.run").param("script", "id -u; id -g; id -G; echo \"$USER $HOME\"; grep CapEff /proc/self/status")
            .param("runAs", user).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        List<String> lines = o.output().lines().toList();
        assertThat(lines.get(0)).isEqualTo(Long.toString(uid));
        assertThat(lines.get(1)).isEqualTo(Long.toString(gid));
        assertThat(List.of(lines.get(2).split(" "))).containsExactlyInAnyOrder(Long.toString(gid), Long.toString(extraGid));
        assertThat(lines.get(3)).isEqualTo(user + " /home/" + user);
        assertThat(lines.get(4)).isEqualTo("CapEff:\t0000000000000000");
        assertThat(o.dataAsMap()).containsEntry("runAs", user);
        assertThat(o.executed().get(o.executed().size() - 1)).contains("--reuid=" + uid, "--regid=" + gid);
    }

    @Test
    void stdinAndANamedScriptWorkForTheUserToo() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x")); // the user must reach the script
        Path dir = Files.createDirectory(tmp.resolve("scripts.d"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path s = Files.writeString(dir.resolve("whoami"), "#!/bin/sh\nread -r line\necho \"$(id -un) read $line\"\n");
        Files.setPosixFilePermissions(s, PosixFilePermissions.fromString("rwxr-xr-x"));
        Outcome o = TestContext.forAction("script.run").param("name", "whoami").param("stdin", "from stdin\n")
            .param("runAs", user).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.output()).isEqualTo(user + " read from stdin\n");
    }

    @Test
    void theUserCannotReadWhatRootKeepsPrivate() throws Exception {
        Path secret = Files.writeString(tmp.resolve("secret"), "root only");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Outcome o = TestContext.forAction("script.run").param("script", "cat " + secret).param("runAs", user).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.FAILED);
        assertThat(o.output()).contains("Permission denied").doesNotContain("root only");
    }

    @Test
    void aUserOutsideRunAsIsRefused() {
        Outcome o = TestContext.forAction("script.run").param("script", "id -u").param("runAs", user)
            .setting("run_as", List.of("backup", "www-data")).run(runner);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).isEqualTo("param 'runAs': user '" + user + "' is not allowed on this host"
            + " (plugins.settings.script.run_as allows [backup, www-data])");
        assertThat(o.executed()).isEmpty();

        Outcome none = TestContext.forAction("script.run").param("script", "id -u").param("runAs", user)
            .setting("run_as", List.of()).run(runner);
        assertThat(none.error()).contains("allows no user");

        Outcome listed = TestContext.forAction("script.run").param("script", "id -u").param("runAs", user)
            .setting("run_as", List.of(user)).run(runner);
        assertThat(listed.status()).as(listed.toString()).isEqualTo(Status.SUCCEEDED);
    }

    @Test
    void anUnknownUserIsNotFound() {
        Outcome o = TestContext.forAction("script.run").param("script", "id -u").param("runAs", "no_such_user_x").run(runner);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(o.error()).contains("there is no user 'no_such_user_x'");
    }

    @Test
    void aDryRunResolvesTheUser() {
        Outcome o = TestContext.forAction("script.run").param("script", "id -u").param("runAs", user).dryRun(true).run(runner);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        @SuppressWarnings("unchecked")
        Map<String, Object> runAs = (Map<String, Object>) o.dataAsMap().get("runAs");
        assertThat(runAs).containsEntry("user", user).containsEntry("uid", uid).containsEntry("gid", gid);
    }
}
