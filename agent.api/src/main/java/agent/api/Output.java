package agent.api;

import org.osgi.annotation.versioning.ProviderType;

/** The capped output sink of a command. Thread-safe. */
@ProviderType
public interface Output {
    /** @param text appended as is */
    void write(String text);

    /** @param line appended followed by a newline */
    default void println(String line) { write(line + "\n"); }
}
