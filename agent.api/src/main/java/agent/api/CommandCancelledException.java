package agent.api;

/** The command was cancelled or timed out; handlers let it propagate. */
public class CommandCancelledException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message why the command stopped */
    public CommandCancelledException(String message) { super(message); }
}
