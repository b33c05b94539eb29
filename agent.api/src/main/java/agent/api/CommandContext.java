package agent.api;

import java.io.IOException;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What a {@link CommandHandler} gets for one run. Implemented by the agent.
 */
@ProviderType
public interface CommandContext {

    /** @return the command being run */
    Command command();

    /** @return typed, validating access to the command's params */
    Params params();

    /**
     * @return the command's output sink; what is written here becomes the result's {@code output},
     *         capped at {@code max_output_bytes} (first and last halves kept)
     */
    Output output();

    /**
     * Reports live progress to the server (never stored).
     *
     * @param percent 0..100, or null if unknown
     * @param message a short human-readable message
     */
    void progress(Integer percent, String message);

    /** @return true once the command was cancelled or timed out; long loops should check it */
    boolean isCancelled();

    /**
     * @throws CommandCancelledException if the command was cancelled or timed out
     */
    void checkCancelled() throws CommandCancelledException;

    /**
     * Runs a process with an argument array (never through a shell) and waits for it. Its output goes
     * to {@link #output()} unless the spec asks to capture it. On cancel or timeout the whole process
     * tree is killed and {@link CommandCancelledException} is thrown.
     *
     * @param spec what to run
     * @return the exit code and, if captured, the output
     * @throws IOException if the program cannot be started (the message names it)
     * @throws CommandCancelledException if the command was cancelled or timed out meanwhile
     */
    ProcessResult exec(ProcessSpec spec) throws IOException, CommandCancelledException;

    /**
     * The section of the agent's config file named after the action's prefix: for {@code disk.extend}, the
     * {@code "disk"} object (e.g. {@code {"fstab": "/etc/fstab"}}). Values are JSON values as Java values.
     *
     * @return the section, empty if the config has none
     */
    java.util.Map<String, Object> settings();

    /**
     * The section of the agent's config named after the action's prefix, mapped onto a type the plugin declares
     * (and names in {@link SettingsType} so the agent checks it early). Keys are the snake_case names of the type's
     * components or elements ({@code max_size} for {@code maxSize()}); a key the file does not set takes the
     * default: an annotation type's {@code default}, or, for a record, the component of the record its public static
     * {@code defaults()} method returns (without one, null, false or 0). Supported component types: String,
     * boolean, int, long, double and their boxes, {@link java.nio.file.Path}, enums (by name, any case),
     * {@code List<String>}, {@code String[]} and {@code Map<String, Object>} (the JSON object as it is). A record's
     * canonical constructor may reject a value with {@link IllegalArgumentException}: its message is reported
     * with the key.
     *
     * @param type a record or an annotation type
     * @param <T>  the type
     * @return the section as that type; the same instance for every command while the config is the same
     * @throws InvalidSettingsException naming the key and the config file: an unknown key, a wrong type, a
     *                                  rejected value (the command ends {@code rejected},
     *                                  {@link ErrorCode#INVALID_SETTINGS})
     * @since 1.2
     */
    <T> T settings(Class<T> type);

    /**
     * @return whether this is a dry run ({@link Command#dryRun()}): change nothing, return what would be done with
     *         {@code "changed"} in the data. Only handlers marked {@link DryRun} ever see true.
     * @since 1.2
     */
    default boolean dryRun() { return command().dryRun(); }

    /**
     * Records, durably and before this returns, how this command is to end if the agent stops while it runs: a
     * command that is about to reboot the host (a script's exit code 194) says here what to report once the agent is
     * back. After such a restart the command is not {@code interrupted} and never runs again: it ends with this
     * status, error text and data. Called again, the later record replaces the earlier one.
     *
     * @param status a terminal status, usually {@link Status#SUCCEEDED}
     * @param error  the error text for a status other than succeeded (its code is then {@link ErrorCode#FAILED}); null
     *               for succeeded (a note goes into the data)
     * @param data   structured data as a handler would return it, may be null
     * @throws IllegalArgumentException if the status is not terminal or the data is not JSON-compatible
     * @throws java.io.UncheckedIOException if it cannot be recorded (the command should then fail rather than reboot)
     * @since 1.2
     */
    void resultOnRestart(Status status, String error, Object data);

    /**
     * Sets the exit code reported in the result (for example a script's).
     *
     * @param exitCode the exit code
     */
    void exitCode(int exitCode);
}
