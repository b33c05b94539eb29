package agent.transport;

import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

import agent.api.Command;
import agent.api.Event;
import agent.api.Result;

/** What a transport needs from the agent. Implemented by agent.core; every method is called off the I/O thread. */
@ConsumerType
public interface AgentLink {

    /** @return the fields of the {@code hello} frame (docs/protocol.md §3), without {@code type} */
    Map<String, Object> hello();

    /**
     * Commands that arrived together (a burst of frames, one check-in's answer), in arrival order. Returns once all
     * are durably recorded (in one write); the agent then answers each through {@link Transport}: {@code accepted}
     * for a new or pending id, the stored result for a finished one.
     *
     * @param commands the commands, in arrival order
     * @throws RuntimeException if they could not be recorded (a full disk): none is accepted, and the server
     *                          sends them again
     */
    void commands(List<Command> commands);

    /**
     * A command frame that cannot be run: the agent records it as {@code rejected} with the error (if it has an
     * id) or reports it as an event (if not).
     *
     * @param id    the command's id, or null if it had none
     * @param error what is wrong, naming the field
     */
    void invalidCommand(String id, String error);

    /** @param id a command to cancel */
    void cancel(String id);

    /**
     * @param results results the server has stored
     * @param events  events the server has stored (by event id)
     * @since 2.0
     */
    void acked(Collection<String> results, Collection<String> events);

    /**
     * @param limit most to return
     * @return results not yet acked, oldest first: re-sent after every (re)connect
     * @since 2.0
     */
    List<Result> outbox(int limit);

    /**
     * @param limit most to return
     * @return events not yet acked, oldest first: re-sent after every (re)connect
     * @since 2.0
     */
    List<Event> pendingEvents(int limit);

    /** @return whether a command is queued or running (one-shot mode waits for these) */
    boolean busy();
}
