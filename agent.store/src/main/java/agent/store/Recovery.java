package agent.store;

import java.util.List;

import agent.api.Result;

/** What {@link CommandStore#recover} found. */
public final class Recovery {
    private final List<Result> interrupted;
    private final List<CommandRecord> toRun;

    /** @param interrupted results of the commands that were running @param toRun commands still received */
    public Recovery(List<Result> interrupted, List<CommandRecord> toRun) {
        this.interrupted = List.copyOf(interrupted);
        this.toRun = List.copyOf(toRun);
    }

    /** @return the results of commands that were running when the agent died */
    public List<Result> interrupted() { return interrupted; }

    /** @return commands recorded but never started, oldest first */
    public List<CommandRecord> toRun() { return toRun; }
}
