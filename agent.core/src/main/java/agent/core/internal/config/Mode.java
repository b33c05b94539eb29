package agent.core.internal.config;

/** How the agent runs (ARCHITECTURE.md "Execution modes"), or which operator's tool it runs as. */
public enum Mode {
    /** Daemon: server-scheduled, persistent connection. */
    RUN,
    /** One-shot: check in, run, deliver, exit. */
    ONCE,
    /** Task file in, report out, no server. */
    OFFLINE,
    /** Managed mode with an interactive Gogo shell on the terminal. */
    CONSOLE,
    /** The status of an agent that does not answer on its control socket: from its store (read only) and config. */
    STATUS,
    /** Uploads an offline report with the agent's credentials. */
    INJECT,
    /** The preflight: config, data dir, and every step of reaching the server. */
    CHECK;

    /** @return the name on the command line and in hello, e.g. {@code run} */
    public String wireName() { return name().toLowerCase(); }

    /** @return whether this mode talks to a server (if one is configured) */
    public boolean connects() { return this == RUN || this == ONCE || this == CONSOLE; }

    /**
     * @return whether this is an operator's tool run: it runs no commands and starts none of the agent's components,
     *         opens no store for writing, takes no lock, and may run beside the agent
     */
    public boolean isTool() { return this == STATUS || this == INJECT || this == CHECK; }

    /** @return whether the mode needs {@code server_url} */
    public boolean needsServer() { return this == RUN || this == ONCE || this == INJECT || this == CHECK; }
}
