package @PACKAGE@.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** Runs the handler with the agent's own CommandContext (agent.testkit), as the agent would. */
class @CLASS@Test {

    @Test
    void greetsByNameFromThisHost() throws Exception {
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip(); // what uname -n prints

        Outcome o = TestContext.forAction("@PREFIX@.greet").param("name", "Ada").run(new @CLASS@());

        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(o.dataAsMap()).containsEntry("greeting", "Hello, Ada, from " + host).containsEntry("host", host);
        assertThat(o.output()).isEqualTo("Hello, Ada, from " + host + "\n");
        assertThat(o.executed()).containsExactly(List.of("uname", "-n"));
    }

    @Test
    void aMissingOrBadNameIsRejectedNamingTheParam() {
        Outcome missing = TestContext.forAction("@PREFIX@.greet").run(new @CLASS@());
        assertThat(missing.status()).isEqualTo(Status.REJECTED);
        assertThat(missing.error()).isEqualTo("param 'name' is required");

        Outcome bad = TestContext.forAction("@PREFIX@.greet").param("name", "Ada; reboot").run(new @CLASS@());
        assertThat(bad.status()).isEqualTo(Status.REJECTED);
        assertThat(bad.error()).startsWith("param 'name' must be 1 to 64 letters").endsWith("got 'Ada; reboot'");
        assertThat(bad.executed()).as("nothing runs before the params are checked").isEmpty();
    }
}
