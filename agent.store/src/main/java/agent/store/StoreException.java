package agent.store;

/** The store could not do what was asked; the message names the command id or the file. */
public class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed */
    public StoreException(String message) { super(message); }

    /** @param message what failed @param cause why */
    public StoreException(String message, Throwable cause) { super(message, cause); }
}
