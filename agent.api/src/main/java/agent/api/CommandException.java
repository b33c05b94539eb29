package agent.api;

/**
 * Thrown by a handler to end a command as {@code failed} with this message (which must name the problem) and an
 * {@link ErrorCode} ({@link ErrorCode#FAILED} unless given).
 */
public class CommandException extends Exception {
    private static final long serialVersionUID = 1L;
    private final ErrorCode errorCode;

    /** @param message what went wrong, naming the thing at fault */
    public CommandException(String message) { this(message, (ErrorCode) null); }

    /** @param message what went wrong @param cause the underlying exception */
    public CommandException(String message, Throwable cause) {
        super(message, cause);
        this.errorCode = null;
    }

    /**
     * @param message   what went wrong, naming the thing at fault
     * @param errorCode the machine-readable reason, or null for the class's default
     * @since 1.2
     */
    public CommandException(String message, ErrorCode errorCode) {
        super(message);
        this.errorCode = errorCode;
    }

    /**
     * @return the machine-readable reason: as given, else {@link ErrorCode#FAILED} ({@link ErrorCode#REFUSED} for
     *         a {@link CommandRefusedException}, {@link ErrorCode#INVALID_PARAM} for an {@link InvalidParamException})
     * @since 1.2
     */
    public ErrorCode errorCode() {
        if (errorCode != null) return errorCode;
        if (this instanceof InvalidParamException) return ErrorCode.INVALID_PARAM;
        return this instanceof CommandRefusedException ? ErrorCode.REFUSED : ErrorCode.FAILED;
    }
}
