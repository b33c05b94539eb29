package agent.core.internal;

/** Bad configuration or usage: the agent refuses to start, prints the message and exits 2. */
final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    ConfigException(String message) { super(message); }
}
