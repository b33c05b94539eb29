package agent.core.internal.config;

/** Bad configuration or usage: the agent refuses to start, prints the message and exits 2. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message the problem, naming the key or option */
    public ConfigException(String message) { super(message); }
}
