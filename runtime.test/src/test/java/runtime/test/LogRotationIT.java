package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonParser;

/**
 * agent.log against the reference server: a failed enrolment and an enrolment leave no token in it, at the most
 * verbose level, and it rotates to agent.log.1 .. agent.log.N at {@code log_max_bytes}, keeping {@code log_files}.
 */
class LogRotationIT {
    static final Duration T = Duration.ofSeconds(90);
    static final int MAX_BYTES = 65536; // the smallest log_max_bytes the config takes
    static final int FILES = 2;
    /** A timestamp opens every line of the log: a line cut by a rotation would not. */
    static final String LINE = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d{4} [A-Z]+ \\S+: .*";

    @TempDir
    Path dir;

    /** Every log file's text, the oldest first. */
    private static String logs(Path log) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = FILES; i >= 1; i--) {
            Path f = log.resolve("agent.log." + i);
            if (Files.exists(f)) sb.append(Files.readString(f, StandardCharsets.UTF_8));
        }
        return sb.append(Files.readString(log.resolve("agent.log"), StandardCharsets.UTF_8)).toString();
    }

    @Test
    void theLogRotatesAtItsSizeAndHoldsNoTokenAfterAFailedEnrolmentAndAnEnrolment() throws Exception {
        try (ServerProcess server = ServerProcess.start(dir.resolve("server"), 0)) {
            String token = Files.readString(server.dir.resolve("enrollment.token")).trim();
            String badToken = "wrong-" + token.substring(0, token.length() / 2) + "-SECRET";
            Path data = dir.resolve("data");
            Path log = dir.resolve("log");
            String keys = "\"log_dir\": \"" + log + "\", \"log_level\": \"trace\", \"log_max_bytes\": " + MAX_BYTES
                + ", \"log_files\": " + FILES;

            // a failed enrolment: one-shot mode with a token the server does not know
            Path bad = AgentProcess.write(dir.resolve("bad.json"), server.agentConfig("poll", keys)
                .replace("\"enrollment_token\": \"" + token + "\"", "\"enrollment_token\": \"" + badToken + "\""));
            Files.setPosixFilePermissions(bad, PosixFilePermissions.fromString("rw-------"));
            HostCommand.Result refused = HostCommand.of(AgentProcess.LAUNCHER.toString(), "once", "--config", bad.toString(),
                "--data-dir", data.toString(), "--max-seconds", "60").run(T);
            assertThat(refused.exitCode()).as(refused.both()).isEqualTo(1);
            assertThat(logs(log)).contains("enrolment refused by " + server.url());
            assertThat(refused.stdout() + refused.stderr()).doesNotContain(badToken);

            // an enrolment, a connection, and then lines enough for several rotations
            Path good = AgentProcess.write(dir.resolve("good.json"), server.agentConfig("websocket", keys));
            Files.setPosixFilePermissions(good, PosixFilePermissions.fromString("rw-------"));
            String agentToken;
            try (AgentProcess agent = AgentProcess.start("run", "--config", good.toString(), "--data-dir", data.toString())) {
                server.awaitAgent(T, true);
                agentToken = JsonParser.parseString(Files.readString(data.resolve("credentials.json"))).getAsJsonObject()
                    .get("agentToken").getAsString();
                // one line of about 120 bytes per level change: 4 log files' worth
                StringBuilder lines = new StringBuilder();
                for (int i = 0; i < 2200; i++) lines.append(i % 2 == 0 ? "agent:loglevel debug\n" : "agent:loglevel trace\n");
                lines.append("agent:loglevel info\n");
                HostCommand.Result session = HostCommand.of(AgentProcess.LAUNCHER.toString(), "shell", "--data-dir", data.toString())
                    .stdin(lines.toString()).run(T);
                assertThat(session.exitCode()).as(session.both()).isZero();
                assertThat(logs(log)).contains("log level changed from trace to info");
                assertThat(agent.stderr()).as("the journal's copy").doesNotContain(token).doesNotContain(badToken)
                    .doesNotContain(agentToken);
            }

            List<Path> files;
            try (Stream<Path> s = Files.list(log)) {
                files = s.sorted().toList();
            }
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("agent.log", "agent.log.1", "agent.log.2");
            for (int i = 1; i <= FILES; i++) {
                long size = Files.size(log.resolve("agent.log." + i));
                // rotated after the line that reached the size: at least the size, less than one more line
                assertThat(size).as("agent.log.%d", i).isBetween((long) MAX_BYTES, MAX_BYTES + 1024L);
            }
            assertThat(Files.size(log.resolve("agent.log"))).isLessThan(MAX_BYTES + 1024L);
            List<String> all = new ArrayList<>();
            for (Path f : List.of(log.resolve("agent.log.2"), log.resolve("agent.log.1"), log.resolve("agent.log"))) {
                String text = Files.readString(f, StandardCharsets.UTF_8);
                assertThat(text).as("%s", f).doesNotContain(token).doesNotContain(badToken).doesNotContain(agentToken)
                    .doesNotContain("Bearer ");
                all.addAll(text.lines().toList());
            }
            // whole lines, oldest first across the files: the last change is the last line of the level changes
            assertThat(all).filteredOn(l -> !l.startsWith("\t") && !l.startsWith("Caused by") && !l.startsWith("\tat "))
                .allSatisfy(l -> assertThat(l).matches(LINE));
            assertThat(all.stream().filter(l -> l.contains("log level changed")).reduce((a, b) -> b).orElseThrow())
                .contains("from trace to info");
            System.out.printf("agent.log sizes: %d, %d, %d%n", Files.size(log.resolve("agent.log")),
                Files.size(log.resolve("agent.log.1")), Files.size(log.resolve("agent.log.2")));
        }
    }
}
