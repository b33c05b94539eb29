package agent.transport.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

import agent.api.Command;
import agent.api.Event;
import agent.api.Result;
import agent.transport.AgentLink;

class InboundTest {
    /** An agent that notes what it was handed, and can refuse to record (a full disk). */
    static final class Link implements AgentLink {
        final List<String> seen = new ArrayList<>();
        boolean full;

        @Override public Map<String, Object> hello() { return Map.of(); }

        @Override
        public void commands(List<Command> commands) {
            if (full) throw new IllegalStateException("database or disk is full");
            seen.add("burst " + commands.stream().map(Command::id).toList());
        }

        @Override public void invalidCommand(String id, String error) { seen.add("invalid " + id + ": " + error); }
        @Override public void cancel(String id) { seen.add("cancel " + id); }
        @Override public void acked(Collection<String> results, Collection<String> events) {}
        @Override public List<Result> outbox(int limit) { return List.of(); }
        @Override public List<Event> pendingEvents(int limit) { return List.of(); }
        @Override public boolean busy() { return false; }
    }

    private static JsonElement cmd(String id) {
        return JsonParser.parseString("{\"type\":\"command\",\"id\":\"" + id + "\",\"action\":\"agent.ping\"}");
    }

    @Test
    void commandsGoInBurstsAndWhatBreaksARunWaitsForTheCommandsBeforeIt() {
        Link link = new Link();
        List<Object> items = List.of(cmd("a"), cmd("b"), JsonParser.parseString("{\"type\":\"command\",\"id\":\"c\"}"), cmd("d"),
            new Inbound.Cancel("d"), cmd("e"), JsonParser.parseString("[1]"));
        assertThat(new Inbound(link).deliver(new ArrayList<>(items))).isEmpty();
        assertThat(link.seen).containsExactly("burst [a, b]", "invalid c: command.action is required", "burst [d]", "cancel d",
            "burst [e]", "invalid null: a command from the server is not a JSON object");
    }

    @Test
    void aBurstThatCannotBeRecordedIsHandedBackWithEverythingBehindIt() {
        Link link = new Link();
        Inbound inbound = new Inbound(link);
        link.full = true;
        List<Object> rest = inbound.deliver(new ArrayList<>(List.of(cmd("a"), cmd("b"), new Inbound.Cancel("a"), cmd("c"))));
        assertThat(link.seen).isEmpty(); // nothing accepted, not even the cancel that came after
        assertThat(rest).hasSize(4);
        link.full = false;
        assertThat(inbound.deliver(rest)).isEmpty();
        assertThat(link.seen).containsExactly("burst [a, b]", "cancel a", "burst [c]");
    }
}
