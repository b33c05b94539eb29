package agent.transport;

/**
 * A protocol document (a task file, a report, params typed in a shell) that is not what docs/protocol.md says; the
 * message names the document, the field and, for bad JSON, the line and column.
 *
 * @since 2.0
 */
public class DocumentException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong, and where */
    public DocumentException(String message) { super(message); }
}
