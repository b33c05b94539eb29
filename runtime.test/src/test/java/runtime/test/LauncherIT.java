package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import runtime.test.HostCommand.Mount;

/**
 * bin/outpost itself (issue 23 item 11): usage is answered by the launcher at once, with no JVM and nothing created;
 * the data dir comes from the command line or the environment, never from a guess at the config file. Each run
 * sees the host's real /var/lib through an overlay whose writes land in the test's directory, so the default
 * data dir /var/lib/outpost is really the one used, and the host's is never touched.
 */
class LauncherIT {
    static final Duration LIMIT = Duration.ofSeconds(60);
    static final Path LAUNCHER = AgentProcess.LAUNCHER;

    @TempDir
    Path dir;
    /** What runs wrote under /var/lib: the overlay's upper directory. */
    Path varLib;
    Mount[] mounts;

    @BeforeEach
    void privateVarLib() throws IOException {
        varLib = Files.createDirectories(dir.resolve("var-lib-upper"));
        mounts = new Mount[] {Mount.overlay(Path.of("/var/lib"), varLib, Files.createDirectories(dir.resolve("var-lib-work")))};
    }

    private List<Path> createdUnderVarLib() throws IOException {
        try (Stream<Path> s = Files.walk(varLib)) {
            return s.filter(p -> !p.equals(varLib)).toList();
        }
    }

    /** A JAVA_HOME whose java only leaves a mark: any JVM start shows. */
    private Path fakeJavaHome(Path marker) throws IOException {
        Path java = dir.resolve("fake-jdk/bin/java");
        AgentProcess.write(java, "#!/bin/sh\necho started >> '" + marker + "'\nexit 99\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir.resolve("fake-jdk");
    }

    @Test
    void usageIsAnsweredAtOnceWithNoJvmAndNothingCreated() throws Exception {
        Path marker = dir.resolve("java-started");
        Path javaHome = fakeJavaHome(marker);
        String usage = HostCommand.of(LAUNCHER.toString(), "help").env("JAVA_HOME", javaHome.toString()).in(mounts)
            .runOk(LIMIT).stdout();
        assertThat(usage).startsWith("usage: outpost run ").contains("outpost offline --tasks F").endsWith("outpost help\n");

        for (List<String> args : List.<List<String>>of(List.of("help"), List.of("--help"), List.of("-h"), List.of(), List.of("bogus"),
                List.of("--data-dir", "/x", "run"))) {
            HostCommand.Result r = HostCommand.of(Stream.concat(Stream.of(LAUNCHER.toString()), args.stream()).toList())
                .env("JAVA_HOME", javaHome.toString()).in(mounts).run(LIMIT);
            boolean help = !args.isEmpty() && List.of("help", "--help", "-h").contains(args.get(0));
            assertThat(r.exitCode()).as("%s: %s", args, r.both()).isEqualTo(help ? 0 : 2);
            if (help) {
                assertThat(r.stdout()).isEqualTo(usage);
                assertThat(r.stderr()).isEmpty();
            } else {
                assertThat(r.stdout()).isEmpty();
                assertThat(r.stderr()).as("%s", args).startsWith(args.isEmpty() ? "outpost: no mode given\n"
                    : "outpost: unknown mode '" + args.get(0) + "'\n").endsWith(usage);
            }
            assertThat(r.stderr()).doesNotContain("INFO");
            System.out.printf("launcher %s answered in %d ms%n", args, r.elapsed().toMillis());
        }
        assertThat(marker).as("a JVM was started for usage").doesNotExist();
        assertThat(createdUnderVarLib()).as("files created under /var/lib by usage").isEmpty();
    }

    @Test
    void usageAnswersWhileAnAgentHoldsTheDefaultDataDir() throws Exception {
        // what a running service holds: the lock of /var/lib/outpost, here a directory of the test bound there (a
        // lock taken through an overlay's upper directory is on another inode and would not conflict)
        Path data = Files.createDirectories(dir.resolve("default-data"));
        Path lock = Files.createFile(data.resolve("agent.lock"));
        mounts = new Mount[] {mounts[0], Mount.bind(data, Path.of("/var/lib/outpost"))};
        Process holder = new ProcessBuilder("flock", lock.toString(), "sleep", "120").start();
        try {
            waitUntilLocked(lock);
            HostCommand.Result r = HostCommand.of(LAUNCHER.toString(), "help").in(mounts).run(LIMIT);
            assertThat(r.exitCode()).as(r.both()).isZero();
            assertThat(r.stdout()).startsWith("usage: outpost run ");
            assertThat(r.stderr()).isEmpty();
            // the lock still refuses a second agent, with the data dir named
            HostCommand.Result second = HostCommand.of(LAUNCHER.toString(), "offline", "--tasks", "/nonexistent").in(mounts).run(LIMIT);
            assertThat(second.exitCode()).as(second.both()).isEqualTo(2);
            assertThat(second.stderr()).isEqualTo("outpost: another agent is running with data dir /var/lib/outpost\n");
        } finally {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void waitUntilLocked(Path lock) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < end) {
            if (new ProcessBuilder("flock", "-n", lock.toString(), "true").start().waitFor() == 1) return;
            Thread.sleep(20);
        }
        throw new AssertionError("flock did not take " + lock + " within 10 s");
    }

    @Test
    void aDataDirNestedInPluginSettingsIsNotTaken() throws Exception {
        Path nested = dir.resolve("nested-data");
        Path config = AgentProcess.write(dir.resolve("config.json"), "{\"plugins\": {\"settings\": {\"demo\": "
            + "{\"data_dir\": \"" + nested + "\"}}}}");
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"),
            "{\"commands\": [{\"id\": \"55555555-0000-4000-8000-000000000001\", \"action\": \"agent.ping\"}]}");

        HostCommand.Result r = HostCommand.of(LAUNCHER.toString(), "offline", "--tasks", tasks.toString(), "--config",
            config.toString()).in(mounts).run(LIMIT);

        assertThat(r.exitCode()).as(r.both()).isZero();
        assertThat(r.stdout()).contains("\"status\": \"succeeded\"");
        assertThat(nested).as("the data_dir of a plugin's settings").doesNotExist();
        // the agent and the launcher used one data dir: the default
        assertThat(varLib.resolve("outpost/commands.db")).isRegularFile();
        assertThat(varLib.resolve("outpost/framework")).isDirectory();
        assertThat(varLib.resolve("outpost/tmp")).isDirectory();
    }

    @Test
    void aRelativeDataDirInTheConfigFileIsRefusedAndNothingIsCreatedUnderTheWorkingDirectory() throws Exception {
        Path cwd = Files.createDirectories(dir.resolve("cwd"));
        Path config = AgentProcess.write(dir.resolve("config.json"), "{\"data_dir\": \"rel/data\"}");
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"), "{\"commands\": []}");

        HostCommand.Result r = HostCommand.of(LAUNCHER.toString(), "offline", "--tasks", tasks.toString(), "--config",
            config.toString()).cwd(cwd).in(mounts).run(LIMIT);

        assertThat(r.exitCode()).as(r.both()).isEqualTo(2);
        assertThat(r.stderr()).contains("config key 'data_dir'").contains("must be an absolute path, got 'rel/data'");
        try (Stream<Path> s = Files.list(cwd)) {
            assertThat(s.toList()).as("created under the working directory").isEmpty();
        }
    }

    @Test
    void aBadDataDirFromTheCommandLineOrEnvironmentIsRefusedBeforeAnythingIsCreated() throws Exception {
        Path cwd = Files.createDirectories(dir.resolve("cwd"));
        Path marker = dir.resolve("java-started");
        Path javaHome = fakeJavaHome(marker);

        HostCommand.Result env = HostCommand.of(LAUNCHER.toString(), "offline", "--tasks", "t.json")
            .env("OUTPOST_DATA_DIR", "rel/data").env("JAVA_HOME", javaHome.toString()).cwd(cwd).in(mounts).run(LIMIT);
        assertThat(env.exitCode()).as(env.both()).isEqualTo(2);
        assertThat(env.stderr()).isEqualTo("outpost: environment variable OUTPOST_DATA_DIR must be an absolute path, got 'rel/data'\n");

        for (List<String> args : List.of(List.of("offline", "--tasks", "t.json", "--data-dir"),
                List.of("offline", "--data-dir", "--tasks", "t.json"), List.of("run", "--data-dir="))) {
            HostCommand.Result r = HostCommand.of(Stream.concat(Stream.of(LAUNCHER.toString()), args.stream()).toList())
                .env("JAVA_HOME", javaHome.toString()).cwd(cwd).in(mounts).run(LIMIT);
            assertThat(r.exitCode()).as("%s: %s", args, r.both()).isEqualTo(2);
            assertThat(r.stderr()).as("%s", args).isEqualTo("outpost: --data-dir needs a value\n");
        }
        assertThat(marker).as("a JVM was started").doesNotExist();
        assertThat(createdUnderVarLib()).as("files created under /var/lib").isEmpty();
        try (Stream<Path> s = Files.list(cwd)) {
            assertThat(s.toList()).as("created under the working directory").isEmpty();
        }
    }

    /**
     * A JAVA_HOME whose java is this JDK's, except that it takes -XX:TrimNativeHeapInterval the way the given kind of
     * JDK 17 update does: "product" (17.0.11 on), "experimental" (17.0.9 and 17.0.10: refused unless unlocked) or
     * "unknown" (before 17.0.9: the JVM does not start). Each start's arguments are appended to {@code log}.
     */
    private Path javaHomeWhereTrimIs(String kind, Path log) throws IOException {
        Path realJava = Path.of(System.getProperty("java.home"), "bin/java");
        Path java = dir.resolve("jdk-" + kind + "/bin/java");
        AgentProcess.write(java, String.join("\n", "#!/bin/sh",
            "echo \"$*\" >> '" + log + "'",
            "unlocked=no",
            "for a; do",
            "    case \"$a\" in",
            "        -XX:+UnlockExperimentalVMOptions) unlocked=yes ;;",
            "        -XX:TrimNativeHeapInterval=*)",
            "            case " + kind + " in",
            "                unknown) echo \"Unrecognized VM option '${a#-XX:}'\" >&2; exit 1 ;;",
            "                experimental) [ $unlocked = yes ] || { echo \"Error: VM option 'TrimNativeHeapInterval' is "
                + "experimental and must be enabled via -XX:+UnlockExperimentalVMOptions.\" >&2; exit 1; } ;;",
            "            esac ;;",
            "    esac",
            "done",
            "exec '" + realJava + "' \"$@\"", ""));
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir.resolve("jdk-" + kind);
    }

    @Test
    void nativeHeapTrimmingIsAskedOnlyInTheFormTheJvmTakesAndTheAnswerIsKept() throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"),
            "{\"commands\": [{\"id\": \"55555555-0000-4000-8000-000000000002\", \"action\": \"agent.ping\"}]}");
        for (String kind : List.of("product", "experimental", "unknown")) {
            Path log = dir.resolve(kind + "-starts.log");
            Path javaHome = javaHomeWhereTrimIs(kind, log);
            Path data = dir.resolve("data-" + kind);
            for (int run = 1; run <= 2; run++) {
                HostCommand.Result r = HostCommand.of(LAUNCHER.toString(), "offline", "--tasks", tasks.toString(),
                    "--data-dir", data.toString()).env("JAVA_HOME", javaHome.toString()).run(LIMIT);
                assertThat(r.exitCode()).as("%s, run %d: %s", kind, run, r.both()).isZero();
                assertThat(r.stdout()).contains("\"status\": \"succeeded\"");
            }
            List<String> starts = Files.readAllLines(log);
            List<String> agents = starts.stream().filter(l -> l.contains("-jar ")).toList();
            assertThat(agents).as("%s: the agent's starts", kind).hasSize(2);
            switch (kind) {
                case "product" -> assertThat(agents).allSatisfy(a -> assertThat(a).contains(" -XX:TrimNativeHeapInterval=5000 ")
                    .doesNotContain("UnlockExperimentalVMOptions"));
                case "experimental" -> assertThat(agents).allSatisfy(a -> assertThat(a)
                    .contains(" -XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=5000 "));
                default -> assertThat(agents).allSatisfy(a -> assertThat(a).doesNotContain("TrimNativeHeapInterval"));
            }
            // the JVM is asked once (the first run); the second run reads the kept answer
            assertThat(starts.stream().filter(l -> l.endsWith("-version")).count()).as("%s: probes %s", kind, starts)
                .isEqualTo(kind.equals("product") ? 1 : 2);
        }
    }

    /** A folder holding a copy of the built jar, for `outpost cds` to write beside (OUTPOST_JAR points at it). */
    private Path jarCopy(String name) throws IOException {
        Path lib = Files.createDirectories(dir.resolve(name));
        Files.copy(AgentProcess.HOME.resolve("bndrun/target/outpost.jar"), lib.resolve("outpost.jar"));
        return lib;
    }

    /** @return the file names in a folder, sorted */
    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void cdsWritesBothArchivesAndTheJvmsAnswerBesideTheJarSoTheFirstStartAsksTheJvmNothing() throws Exception {
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"),
            "{\"commands\": [{\"id\": \"55555555-0000-4000-8000-000000000003\", \"action\": \"agent.ping\"}]}");
        for (String kind : List.of("product", "experimental", "unknown")) {
            Path log = dir.resolve(kind + "-starts.log");
            Path javaHome = javaHomeWhereTrimIs(kind, log);
            Path lib = jarCopy("lib-" + kind);

            HostCommand.Result cds = HostCommand.of(LAUNCHER.toString(), "cds").env("JAVA_HOME", javaHome.toString())
                .env("OUTPOST_JAR", lib.resolve("outpost.jar").toString()).run(LIMIT);

            assertThat(cds.exitCode()).as("%s: %s", kind, cds.both()).isZero();
            List<String> made = names(lib);
            assertThat(made).as(kind).hasSize(4).contains("outpost.jar").anyMatch(n -> n.matches("outpost-[0-9-]+-jdk\\.jsa"))
                .anyMatch(n -> n.matches("outpost-[0-9-]+[0-9]\\.jsa")).anyMatch(n -> n.matches("outpost-jvm-[0-9-]+\\.trim"));
            String base = made.stream().filter(n -> n.endsWith("-jdk.jsa")).findFirst().orElseThrow();
            String top = base.replace("-jdk.jsa", ".jsa");
            assertThat(made).contains(top);
            // the static archive was dumped from the class list shipped in dist/ (the checkout's place for it)
            assertThat(Files.readAllLines(log)).as(kind).anyMatch(l -> l.contains("-Xshare:dump")
                && l.contains("-XX:SharedClassListFile=" + AgentProcess.HOME.resolve("dist/outpost.classlist")));
            String trim = Files.readString(lib.resolve(made.stream().filter(n -> n.endsWith(".trim")).findFirst().orElseThrow())).trim();
            assertThat(trim).as(kind).isEqualTo(switch (kind) {
                case "product" -> "-XX:TrimNativeHeapInterval=5000";
                case "experimental" -> "-XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=5000";
                default -> "";
            });
            Files.delete(log);

            Path data = dir.resolve("data-cds-" + kind);
            HostCommand.Result r = HostCommand.of(LAUNCHER.toString(), "offline", "--tasks", tasks.toString(), "--data-dir", data.toString())
                .env("JAVA_HOME", javaHome.toString()).env("OUTPOST_JAR", lib.resolve("outpost.jar").toString()).run(LIMIT);

            assertThat(r.exitCode()).as("%s: %s", kind, r.both()).isZero();
            assertThat(r.stdout()).contains("\"status\": \"succeeded\"");
            assertThat(Files.readAllLines(log)).as("%s: the JVM starts of the first start", kind).singleElement().satisfies(l -> {
                assertThat(l).contains(" -XX:SharedArchiveFile=" + lib.resolve(base) + ":" + lib.resolve(top) + " ");
                if (trim.isEmpty()) {
                    assertThat(l).doesNotContain("TrimNativeHeapInterval");
                } else {
                    assertThat(l).contains(" " + trim + " ");
                }
            });
            assertThat(names(data.resolve("cds"))).as("%s: written in the data dir's cds/", kind).isEmpty();
        }
    }

    @Test
    void aDamagedStaleOrMissingStaticArchiveNeverStopsTheAgent() throws Exception {
        Path lib = jarCopy("lib");
        Path jar = lib.resolve("outpost.jar");
        HostCommand.Result cds = HostCommand.of(LAUNCHER.toString(), "cds").env("OUTPOST_JAR", jar.toString()).run(LIMIT);
        assertThat(cds.exitCode()).as(cds.both()).isZero();
        Path base;
        try (Stream<Path> s = Files.list(lib)) {
            base = s.filter(p -> p.toString().endsWith("-jdk.jsa")).findFirst().orElseThrow();
        }
        Path top = Path.of(base.toString().replace("-jdk.jsa", ".jsa"));
        byte[] baseBytes = Files.readAllBytes(base);
        byte[] topBytes = Files.readAllBytes(top);
        Path tasks = AgentProcess.write(dir.resolve("tasks.json"),
            "{\"commands\": [{\"id\": \"55555555-0000-4000-8000-000000000004\", \"action\": \"agent.ping\"}]}");

        // a file that is no archive (zeros: JDK 17 refuses to start when such a file is given as the first of two, "Not
        // a base shared archive"), another archive of this JVM in its place (the dynamic one was not made on it: the
        // JVM drops it), none
        Path jdkBase = Path.of(System.getProperty("java.home"), "lib/server/classes.jsa");
        assertThat(jdkBase).as("the JDK's own class-data archive (java -Xshare:dump writes it)").isNotEmptyFile();
        List<String> cases = List.of("base of zeros", "base of another dump", "base missing", "dynamic archive of zeros");
        for (String what : cases) {
            Files.write(base, baseBytes);
            Files.write(top, topBytes);
            switch (what) {
                case "base of zeros" -> Files.write(base, new byte[baseBytes.length]);
                case "base of another dump" -> Files.copy(jdkBase, base, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                case "base missing" -> Files.delete(base);
                default -> Files.write(top, new byte[topBytes.length]);
            }
            HostCommand.Result r = HostCommand.of(LAUNCHER.toString(), "offline", "--tasks", tasks.toString(), "--data-dir",
                dir.resolve("data-" + what.replace(' ', '-')).toString()).env("OUTPOST_JAR", jar.toString()).run(LIMIT);
            assertThat(r.exitCode()).as("%s: %s", what, r.both()).isZero();
            assertThat(r.stdout()).as(what).contains("\"status\": \"succeeded\"");
        }
    }

    @Test
    void theLaunchersUsageHoldsEveryLineOfTheAgentsOwn() throws Exception {
        String usage = HostCommand.of(LAUNCHER.toString(), "help").runOk(LIMIT).stdout();
        // a usage error the agent finds (not the launcher) prints the agent's own usage
        HostCommand.Result r = HostCommand.of(LAUNCHER.toString(), "offline", "--data-dir", dir.resolve("data").toString())
            .run(LIMIT);
        assertThat(r.exitCode()).as(r.both()).isEqualTo(2);
        // the usage block, without the log lines of the framework stopping after it
        List<String> agentUsage = r.stderr().substring(r.stderr().indexOf("usage: ")).lines()
            .takeWhile(l -> l.matches("(usage: |       )outpost .*")).toList();
        assertThat(agentUsage).hasSizeGreaterThan(3).allSatisfy(line -> assertThat(usage.lines()).contains(line));
    }
}
