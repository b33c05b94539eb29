package agent.core.internal.config;

/** How the agent runs (ARCHITECTURE.md "Execution modes"). */
public enum Mode {
    /** Daemon: server-scheduled, persistent connection. */
    RUN,
    /** One-shot: check in, run, deliver, exit. */
    ONCE,
    /** Task file in, report out, no server. */
    OFFLINE,
    /** Managed mode with an interactive Gogo shell on the terminal. */
    CONSOLE;

    /** @return the name on the command line and in hello, e.g. {@code run} */
    public String wireName() { return name().toLowerCase(); }

    /** @return whether this mode talks to a server (if one is configured) */
    public boolean connects() { return this != OFFLINE; }
}
