package agent.transport;

import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

import agent.api.Command;
import agent.api.Result;

/** What a transport needs from the agent. Implemented by agent.core; every method is called off the I/O thread. */
@ConsumerType
public interface AgentLink {

    /** @return the fields of the {@code hello} frame (PROTOCOL.md §3), without {@code type} */
    Map<String, Object> hello();

    /**
     * A command arrived. Returns once it is durably recorded; the agent then answers {@code accepted} (or, for a
     * finished duplicate, its stored result) through {@link Transport}.
     *
     * @param command the command
     */
    void command(Command command);

    /**
     * Commands that arrived together (a burst of frames, one check-in's answer), in arrival order. Returns once all
     * are durably recorded; an agent records them in one write. By default, {@link #command} for each.
     *
     * @param commands the commands, in arrival order
     * @since 1.1
     */
    default void commands(List<Command> commands) {
        for (Command c : commands) command(c);
    }

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

    /** @param ids results the server has stored */
    void acked(Collection<String> ids);

    /** @return results not yet acked, oldest first: re-sent after every (re)connect */
    List<Result> outbox();

    /** @return whether a command is queued or running (one-shot mode waits for these) */
    boolean busy();
}
