package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dist/outpost.service under a real systemd: systemd 252 booted as PID 1 of private namespaces on a copy-on-write
 * view of this machine (src/test/resources/systemd-in-namespace.sh), the agent installed there by dist/install.sh
 * as an operator would, then started (readiness through Type=notify), killed with SIGKILL and restarted, its
 * lines in the journal, its limits and its view of the host's mounts checked.
 */
class SystemdUnitIT {
    static final Duration LIMIT = Duration.ofMinutes(3);
    static final Path HOME = AgentProcess.HOME;
    static final Path HARNESS = HOME.resolve("runtime.test/src/test/resources/systemd-in-namespace.sh");

    @TempDir
    Path dir;
    private Process harness;
    private long pid1;

    @AfterEach
    void powerOff() throws Exception {
        if (harness == null) return;
        if (harness.isAlive() && pid1 > 0) inside("systemctl", "poweroff").run(Duration.ofSeconds(30));
        if (!harness.waitFor(60, TimeUnit.SECONDS)) {
            // PID 1 of the namespace gone takes every process in it along
            ProcessHandle.of(pid1).ifPresent(ProcessHandle::destroyForcibly);
            assertThat(harness.waitFor(30, TimeUnit.SECONDS)).as("the harness ended").isTrue();
        }
    }

    private HostCommand inside(String... cmd) {
        List<String> argv = new ArrayList<>(List.of("nsenter", "-t", Long.toString(pid1), "-m", "-u", "-i", "-n", "-p",
            "-C", "-r", "-w"));
        argv.addAll(List.of(cmd));
        return HostCommand.of(argv);
    }

    private String show(String property) throws Exception {
        return inside("systemctl", "show", "-p", property, "--value", "outpost.service").runOk(LIMIT).stdout().strip();
    }

    private void bootSystemd() throws Exception {
        assertThat(Path.of("/lib/systemd/systemd")).as("systemd (Debian package systemd)").isExecutable();
        harness = new ProcessBuilder(HARNESS.toString(), dir.resolve("state").toString(), HOME.toString(), dir.toString())
            .redirectErrorStream(true).redirectOutput(dir.resolve("harness.log").toFile()).start();
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String state = "";
        while (System.nanoTime() < end && harness.isAlive()) {
            Optional<ProcessHandle> init = harness.toHandle().children().flatMap(ProcessHandle::children).findFirst();
            if (init.isPresent()) {
                pid1 = init.get().pid();
                state = inside("systemctl", "is-system-running").run(LIMIT).stdout().strip();
                if (state.equals("running") || state.equals("degraded")) return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("systemd did not come up within 60 s (state '" + state + "'); harness:\n"
            + Files.readString(dir.resolve("harness.log")) + "\nconsole:\n" + readIfThere(dir.resolve("state/console.log")));
    }

    private static String readIfThere(Path p) throws Exception { return Files.exists(p) ? Files.readString(p) : "(none)"; }

    @Test
    void theInstalledUnitStartsWhenReadyRestartsAfterSigkillAndLogsToTheJournal() throws Exception {
        bootSystemd();
        Path token = AgentProcess.write(dir.resolve("token"), "enrol-token-for-the-unit-test\n");

        // a server that is not there: the agent is ready once its store and plugins are, and then keeps retrying
        HostCommand.Result install = inside(HOME.resolve("dist/install.sh").toString(), "--skip-deps", "-y", "--server",
            "https://127.0.0.1:9", "--token-file", token.toString()).run(LIMIT);

        assertThat(install.exitCode()).as("install.sh under systemd\n%s\njournal:\n%s", install.both(),
            inside("journalctl", "-u", "outpost.service", "--no-pager").run(LIMIT).stdout()).isZero();
        assertThat(install.stdout()).contains("outpost.service is active");
        assertThat(show("ActiveState")).isEqualTo("active");
        assertThat(show("UnitFileState")).isEqualTo("enabled");
        long firstPid = Long.parseLong(show("MainPID"));
        String journal = inside("journalctl", "-u", "outpost.service", "--no-pager", "-o", "cat").runOk(LIMIT).stdout();
        // `systemctl restart` returned only after the agent said it was ready: its ready line is already there
        assertThat(journal).contains("ready: agent").contains("mode run").doesNotContain("enrol-token-for-the-unit-test");
        assertThat(inside("journalctl", "-u", "outpost.service", "--no-pager", "-o", "verbose").runOk(LIMIT).stdout())
            .contains("SYSLOG_IDENTIFIER=outpost");

        // the limits and the hardening the process really runs with
        String status = inside("cat", "/proc/" + firstPid + "/status").runOk(LIMIT).stdout();
        assertThat(status).contains("NoNewPrivs:\t1").contains("Seccomp:\t2");
        long bounding = Long.parseLong(status.lines().filter(l -> l.startsWith("CapBnd:")).findFirst().orElseThrow()
            .substring(7).strip(), 16);
        // CAP_CHOWN..CAP_SETUID (0-7), CAP_SYS_ADMIN (21), CAP_SYS_RESOURCE (24) where the host has it
        assertThat(bounding & ~((1L << 8) - 1 | 1L << 21 | 1L << 24)).as("capabilities beyond the unit's").isZero();
        assertThat(bounding & (1L << 21)).as("CAP_SYS_ADMIN").isNotZero();
        assertThat(show("MemoryMax")).isEqualTo(Long.toString(512L << 20));
        assertThat(show("TasksMax")).isEqualTo("256");
        // plugin.disk mounts for the host and must see the host's mounts: the agent shares PID 1's mount namespace
        assertThat(inside("readlink", "/proc/" + firstPid + "/ns/mnt").runOk(LIMIT).stdout())
            .isEqualTo(inside("readlink", "/proc/1/ns/mnt").runOk(LIMIT).stdout());

        inside("kill", "-KILL", Long.toString(firstPid)).runOk(LIMIT);

        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        long secondPid = 0;
        while (System.nanoTime() < end) {
            String main = show("MainPID");
            if (show("ActiveState").equals("active") && !main.equals("0") && Long.parseLong(main) != firstPid) {
                secondPid = Long.parseLong(main);
                break;
            }
            Thread.sleep(200);
        }
        assertThat(secondPid).as("a new main process after SIGKILL; journal:\n%s",
            inside("journalctl", "-u", "outpost.service", "--no-pager").run(LIMIT).stdout()).isPositive();
        assertThat(show("NRestarts")).isEqualTo("1");
        String after = inside("journalctl", "-u", "outpost.service", "--no-pager", "-o", "cat").runOk(LIMIT).stdout();
        assertThat(after.split("ready: agent", -1)).as("ready lines").hasSize(3);
        // (systemd's own line about the kill goes to its console here, not to the journal: see the harness)

        inside("systemctl", "stop", "outpost.service").runOk(LIMIT);
        // a clean stop, not a failure: the JVM ends 143 after its shutdown hooks closed the store
        assertThat(show("ActiveState")).isEqualTo("inactive");
        assertThat(show("ExecMainStatus")).isEqualTo("143");
    }
}
