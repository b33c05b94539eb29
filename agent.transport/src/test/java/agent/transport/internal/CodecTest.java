package agent.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonObject;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;


class CodecTest {
    private static Command parse(String json) throws Exception {
        return Codec.command(Codec.parse(json, "frame"), "command");
    }

    @Test
    void aCommandFrameIsReadWithItsTypesAndTimes() throws Exception {
        Command c = parse("{\"type\":\"command\",\"id\":\"a-1\",\"action\":\"agent.ping\",\"params\":{\"n\":3,\"x\":1.5},"
            + "\"timeoutSeconds\":20,\"issuedAt\":\"2026-11-23T22:56:11.123Z\",\"unknownField\":true}");
        assertThat(c.id()).isEqualTo("a-1");
        assertThat(c.params()).containsEntry("n", 3L).containsEntry("x", 1.5);
        assertThat(c.timeoutSeconds()).isEqualTo(20);
        assertThat(c.issuedAt()).isEqualTo(Instant.parse("2026-11-23T22:56:11.123Z"));
    }

    @Test
    void badCommandFramesNameTheField() {
        assertThatThrownBy(() -> parse("{\"action\":\"agent.ping\"}")).hasMessage("command.id is required");
        assertThatThrownBy(() -> parse("{\"id\":\"x\"}")).hasMessage("command.action is required");
        assertThatThrownBy(() -> parse("{\"id\":\"x\",\"action\":\"rm -rf\"}"))
            .hasMessageContaining("command.action must be a dotted name");
        assertThatThrownBy(() -> parse("{\"id\":\"x\",\"action\":\"a.b\",\"params\":[1]}"))
            .hasMessage("command.params must be a JSON object");
        assertThatThrownBy(() -> parse("{\"id\":\"x\",\"action\":\"a.b\",\"timeoutSeconds\":-1}"))
            .hasMessageContaining("command.timeoutSeconds must be a positive integer");
        assertThatThrownBy(() -> parse("{\"id\":\"x\",\"action\":\"a.b\",\"issuedAt\":\"yesterday\"}"))
            .hasMessageContaining("command.issuedAt must be an RFC 3339 UTC time");
    }

    @Test
    void malformedJsonGivesLineAndColumn() {
        assertThatThrownBy(() -> Codec.parse("{\"id\": \n  oops}", "frame")).hasMessageContaining("line 2 column");
        assertThatThrownBy(() -> Codec.parse("{} {}", "frame")).hasMessage("frame: not valid JSON: malformed JSON at line 1 column 5 path $");
    }

    @Test
    void aResultTooBigForOneFrameDropsOutputThenDataAndSaysSo() {
        String big = "x".repeat(100_000);
        Result r = new Result("r-1", Status.SUCCEEDED, 0, big, false, null, Map.of("blob", big), null, Instant.now());
        JsonObject small = Codec.resultFrame(r, 150_000);
        assertThat(small.get("output").getAsString()).isEmpty();
        assertThat(small.get("outputTruncated").getAsBoolean()).isTrue();
        assertThat(small.has("data")).isTrue();
        JsonObject tiny = Codec.resultFrame(r, 10_000);
        assertThat(tiny.has("data")).isFalse();
        assertThat(tiny.get("error").getAsString()).contains("result too large for one frame");
        assertThat(tiny.get("type").getAsString()).isEqualTo("result");
    }
}
