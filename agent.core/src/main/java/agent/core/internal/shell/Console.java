package agent.core.internal.shell;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;

/**
 * A line-by-line Gogo shell on the terminal for {@code outpost console}. Kept in the core rather than loading
 * gogo.shell: the framework storage is shared with the daemon, and a shell bundle left installed there would
 * stop a daemon that has no terminal.
 */
public final class Console {
    static final String PROMPT = "outpost> ";

    private Console() {}

    /** Gogo wraps what a command threw in reflection exceptions; the user needs the innermost message. */
    static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.toString() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** Runs the shell until {@code exit} or end of input. @return 0 */
    public static int run(CommandProcessor processor, InputStream in, PrintStream out) throws java.io.IOException {
        CommandSession session = processor.createSession(in, out, out);
        try {
            out.println("Outpost console: Gogo commands (agent:status, agent:actions, agent:exec ACTION JSON, lb, ...); 'exit' or Ctrl-D ends it");
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            while (true) {
                out.print(PROMPT);
                out.flush();
                String line = reader.readLine();
                if (line == null || line.trim().equals("exit")) return 0;
                if (line.isBlank()) continue;
                try {
                    Object result = session.execute(line);
                    if (result != null) out.println(session.format(result, Converter.INSPECT));
                } catch (Exception e) {
                    out.println("error: " + rootCause(e));
                }
                out.flush();
            }
        } finally {
            session.close();
        }
    }
}
