package agent.api;

/**
 * Thrown by a handler that refuses a command before changing anything (a policy forbids it, its input fails a
 * check): the command ends {@code rejected} with this message, which must name the reason.
 *
 * @since 1.1
 */
public class CommandRefusedException extends CommandException {
    private static final long serialVersionUID = 1L;

    /** @param message why the command was refused, naming the thing at fault */
    public CommandRefusedException(String message) { super(message); }

    /**
     * @param message   why the command was refused, naming the thing at fault
     * @param errorCode the machine-readable reason ({@link ErrorCode#NOT_FOUND}, {@link ErrorCode#BUSY}, ...)
     * @since 1.2
     */
    public CommandRefusedException(String message, ErrorCode errorCode) { super(message, errorCode); }
}
