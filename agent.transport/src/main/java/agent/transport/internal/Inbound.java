package agent.transport.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.google.gson.JsonElement;

import agent.api.Command;
import agent.transport.AgentLink;

/**
 * What came from the server, handed to the agent in arrival order by both transports alike: runs of valid
 * commands as one burst (one durable write), a malformed command after the ones before it, a cancel after the
 * commands before it (docs/protocol.md §3, §4). If the agent cannot record a burst (a full disk), delivery stops
 * there and the rest is handed back, to be delivered again later in the same order: nothing is {@code accepted}
 * that is not recorded, and nothing behind it overtakes it.
 */
final class Inbound {
    private static final Logger LOG = Logger.getLogger("agent.transport");
    static final int MAX_BURST = 256;

    /** A cancel, in its place among the commands. */
    record Cancel(String id) {}

    private final AgentLink link;

    Inbound(AgentLink link) { this.link = link; }

    /**
     * @param items command frames or objects ({@link JsonElement}) and {@link Cancel}s, in arrival order
     * @return the items not delivered because recording failed (empty when all went through)
     */
    List<Object> deliver(List<Object> items) {
        List<Command> burst = new ArrayList<>();
        int burstStart = 0; // index of the burst's first item: where a failed delivery resumes
        for (int i = 0; i < items.size(); i++) {
            Object item = items.get(i);
            Command command = null;
            String invalidId = null;
            String invalid = null;
            if (item instanceof JsonElement) {
                JsonElement e = (JsonElement) item;
                if (!e.isJsonObject()) {
                    invalid = "a command from the server is not a JSON object";
                } else {
                    try {
                        command = Codec.command(e, "command");
                    } catch (Codec.FrameException ex) {
                        JsonElement id = e.getAsJsonObject().get("id");
                        invalidId = id != null && id.isJsonPrimitive() && !id.getAsString().isBlank() ? id.getAsString() : null;
                        invalid = ex.getMessage();
                    }
                }
            }
            if (command != null) {
                if (burst.isEmpty()) burstStart = i;
                burst.add(command);
                if (burst.size() < MAX_BURST) continue;
            }
            // a full burst, a cancel or a malformed command: what came before is recorded first
            if (!flush(burst)) return List.copyOf(items.subList(burstStart, items.size()));
            if (item instanceof Cancel) {
                link.cancel(((Cancel) item).id());
            } else if (invalid != null) {
                LOG.warning("invalid command from the server: " + invalid);
                try {
                    link.invalidCommand(invalidId, invalid); // recorded as rejected: a write too
                } catch (RuntimeException e) {
                    LOG.log(Level.SEVERE, "cannot record an invalid command from the server: " + e.getMessage(), e);
                    return List.copyOf(items.subList(i, items.size()));
                }
            }
        }
        return flush(burst) ? List.of() : List.copyOf(items.subList(burstStart, items.size()));
    }

    private boolean flush(List<Command> burst) {
        if (burst.isEmpty()) return true;
        try {
            link.commands(List.copyOf(burst));
            burst.clear();
            return true;
        } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "cannot record " + burst.size() + " command(s) from the server: " + e.getMessage()
                + "; they are not accepted and are tried again", e);
            return false;
        }
    }
}
