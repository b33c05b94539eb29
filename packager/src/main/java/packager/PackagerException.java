package packager;

/**
 * Why a build stopped, with the exit code it gives: 2 for what the operator must change (the config, a plugin that
 * cannot be had or resolved, a checksum), 1 for a step that failed on this machine (a tool, a download, the disk).
 */
public final class PackagerException extends Exception {
    private static final long serialVersionUID = 1L;
    /** Bad usage or configuration: the message names the key or the plugin. */
    public static final int CONFIG = 2;
    /** A build step failed. */
    public static final int BUILD = 1;

    private final int exitCode;

    private PackagerException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** @param message names the key or plugin, the value and what was expected @return the exception */
    public static PackagerException config(String message) { return new PackagerException(message, CONFIG, null); }

    /** @param message what failed and how to see more @return the exception */
    public static PackagerException build(String message) { return new PackagerException(message, BUILD, null); }

    /** @param message what failed @param cause why @return the exception */
    public static PackagerException build(String message, Throwable cause) { return new PackagerException(message, BUILD, cause); }

    /** @return the process exit code for this failure */
    public int exitCode() { return exitCode; }
}
