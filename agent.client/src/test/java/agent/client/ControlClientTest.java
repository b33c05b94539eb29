package agent.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client's own decisions: usage, and telling "no agent" from "not for you" (the protocol runs in ControlSocketIT). */
class ControlClientTest {
    @TempDir
    Path dir;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        ControlClient c = new ControlClient(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return c.run(args, new ByteArrayInputStream(new byte[0]));
    }

    private String err() { return err.toString(StandardCharsets.UTF_8); }

    @Test
    void badUsageIsExitTwoNamingTheOption() {
        Path sock = dir.resolve("control.sock");
        assertThat(run(sock.toString(), "status", "--verbose")).isEqualTo(2);
        assertThat(err()).startsWith("outpost: unknown option '--verbose' for status\n");
        err.reset();
        assertThat(run(sock.toString(), "status", "now")).isEqualTo(2);
        assertThat(err()).startsWith("outpost: status takes no arguments, got 'now'\n");
        err.reset();
        assertThat(run(sock.toString(), "shell", "--data-dir")).isEqualTo(2);
        assertThat(err()).startsWith("outpost: --data-dir needs a value\n");
    }

    @Test
    void noSocketADanglingLinkOrADeadSocketMeanNoAgentStatusLeavesTheAnswerToTheLauncher() throws Exception {
        Path missing = dir.resolve("control.sock");
        assertThat(run(missing.toString(), "status")).isEqualTo(3);
        assertThat(err()).isEmpty();

        Path dangling = Files.createSymbolicLink(dir.resolve("link.sock"), dir.resolve("run/control.sock"));
        assertThat(run(dangling.toString(), "status", "--json")).isEqualTo(3);

        // a socket file nobody listens on any more: what a killed agent leaves
        Path dead = dir.resolve("dead.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(dead));
        }
        assertThat(dead).exists();
        assertThat(run(dead.toString(), "status")).isEqualTo(3);
        assertThat(run(dead.toString(), "shell", "agent:status")).isEqualTo(1);
        assertThat(err()).startsWith("outpost: no agent answers on " + dead + " (nothing listens on it)");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}
