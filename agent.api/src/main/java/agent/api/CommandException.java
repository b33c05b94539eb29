package agent.api;

/** Thrown by a handler to end a command as {@code failed} with this message (which must name the problem). */
public class CommandException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong, naming the thing at fault */
    public CommandException(String message) { super(message); }

    /** @param message what went wrong @param cause the underlying exception */
    public CommandException(String message, Throwable cause) { super(message, cause); }
}
