package agent.testkit;

/**
 * One progress report of a run, as the handler made it with {@code CommandContext.progress}.
 *
 * @param percent 0..100, or null if the handler gave none
 * @param message the message
 */
public record Progress(Integer percent, String message) {
    @Override
    public String toString() { return (percent == null ? "" : percent + "% ") + message; }
}
