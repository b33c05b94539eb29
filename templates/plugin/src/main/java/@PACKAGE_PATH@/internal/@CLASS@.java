package @PACKAGE@.internal;

import java.util.Map;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandException;
import agent.api.CommandHandler;
import agent.api.InvalidParamException;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;

/**
 * {@code @PREFIX@.greet} (param {@code name}): greets by name from this host. An example to replace; it shows a
 * param checked with an error naming it, a process run from an argument array, output, and structured data.
 */
@Component
@Actions("@PREFIX@.greet")
public final class @CLASS@ implements CommandHandler {
    private static final Pattern NAME = Pattern.compile("\\p{L}[\\p{L} .'-]{0,63}");

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        String name = ctx.params().string("name"); // absent or not a string: rejected, naming 'name'
        if (!NAME.matcher(name).matches()) {
            throw new InvalidParamException("name", "must be 1 to 64 letters, spaces, '.', ''' or '-', got '"
                + name.replaceAll("\\p{Cntrl}", "?") + "'");
        }
        // an argument array, never a shell; cancelling the command kills the process
        ProcessResult uname = ctx.exec(ProcessSpec.of("uname", "-n").capture());
        if (uname.exitCode() != 0) {
            throw new CommandException("uname -n failed with exit code " + uname.exitCode() + ": " + uname.output().strip());
        }
        String host = uname.output().strip();
        String greeting = "Hello, " + name + ", from " + host;
        ctx.output().println(greeting); // the result's output
        return Map.of("greeting", greeting, "host", host); // the result's data
    }
}
