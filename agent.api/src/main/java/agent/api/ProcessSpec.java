package agent.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A process to run through {@link CommandContext#exec(ProcessSpec)}: an argument array, never a shell line.
 */
public final class ProcessSpec {
    private final List<String> command;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private Path directory;
    private boolean capture;
    private boolean clearEnvironment;
    private String stdin;

    private ProcessSpec(List<String> command) {
        if (command.isEmpty()) throw new IllegalArgumentException("a process needs at least the program");
        this.command = List.copyOf(command);
    }

    /** @param argv program and arguments @return a spec */
    public static ProcessSpec of(String... argv) { return new ProcessSpec(List.of(argv)); }

    /** @param argv program and arguments @return a spec */
    public static ProcessSpec of(List<String> argv) { return new ProcessSpec(new ArrayList<>(argv)); }

    /** @param name variable @param value value @return this */
    public ProcessSpec env(String name, String value) { environment.put(name, value); return this; }

    /** @param dir working directory @return this */
    public ProcessSpec directory(Path dir) { this.directory = dir; return this; }

    /** Capture the output into {@link ProcessResult#output()} instead of the command's output. @return this */
    public ProcessSpec capture() { this.capture = true; return this; }

    /**
     * Starts the process with only the variables given by {@link #env} (and none of the agent's own): what a
     * script run for an operator should see.
     *
     * @return this
     * @since 1.2
     */
    public ProcessSpec clearEnvironment() { this.clearEnvironment = true; return this; }

    /**
     * @param text written to the process's standard input (UTF-8), which is then closed; without it the input is
     *             {@code /dev/null}
     * @return this
     * @since 1.2
     */
    public ProcessSpec stdin(String text) { this.stdin = text; return this; }

    /** @return program and arguments */
    public List<String> command() { return command; }

    /** @return extra environment variables */
    public Map<String, String> environment() { return Collections.unmodifiableMap(environment); }

    /** @return working directory, or null */
    public Path directory() { return directory; }

    /** @return whether the output is captured */
    public boolean captures() { return capture; }

    /** @return whether the agent's environment is left out @since 1.2 */
    public boolean clearsEnvironment() { return clearEnvironment; }

    /** @return the standard input text, or null for {@code /dev/null} @since 1.2 */
    public String stdin() { return stdin; }
}
