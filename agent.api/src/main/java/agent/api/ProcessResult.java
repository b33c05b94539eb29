package agent.api;

/** How a process ended. */
public final class ProcessResult {
    private final int exitCode;
    private final String output;

    /** @param exitCode the exit code @param output captured output, or null if it went to the command's output */
    public ProcessResult(int exitCode, String output) {
        this.exitCode = exitCode;
        this.output = output;
    }

    /** @return the exit code */
    public int exitCode() { return exitCode; }

    /** @return the captured output, or null */
    public String output() { return output; }
}
