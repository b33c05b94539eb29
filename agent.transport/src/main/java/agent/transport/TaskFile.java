package agent.transport;

import java.util.List;

import agent.api.Command;

/**
 * A task file of offline mode: {@code {"commands": [command, ...], "parallel": false}}, the commands as
 * docs/protocol.md §3 shapes them. They run one after another in file order, as an operator reads the file,
 * unless {@code parallel} is true.
 *
 * @since 2.0
 */
public final class TaskFile {
    private final List<Command> commands;
    private final boolean parallel;

    /** @param commands the commands, in file order @param parallel whether they may run at once */
    public TaskFile(List<Command> commands, boolean parallel) {
        this.commands = List.copyOf(commands);
        this.parallel = parallel;
    }

    /** @return the commands, in file order */
    public List<Command> commands() { return commands; }

    /** @return whether they may run at once (else one after another) */
    public boolean parallel() { return parallel; }
}
