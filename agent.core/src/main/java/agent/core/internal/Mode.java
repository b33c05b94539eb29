package agent.core.internal;

/** How the agent runs (ARCHITECTURE.md "Execution modes"). */
enum Mode {
    /** Daemon: server-scheduled, persistent connection. */
    RUN,
    /** One-shot: check in, run, deliver, exit. */
    ONCE,
    /** Task file in, report out, no server. */
    OFFLINE,
    /** Managed mode with an interactive Gogo shell on the terminal. */
    CONSOLE;

    String wireName() { return name().toLowerCase(); }
}
