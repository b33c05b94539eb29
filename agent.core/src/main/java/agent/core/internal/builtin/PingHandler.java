package agent.core.internal.builtin;

import java.util.HashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.DryRun;

/**
 * {@code agent.ping}: answers {@code {echo}}; {@code sleepMs} keeps it running (cancellably) that long. Changes
 * nothing, so a dry run is the same run.
 */
@Component(service = CommandHandler.class)
@Actions("agent.ping")
@DryRun
public final class PingHandler implements CommandHandler {
    static final long MAX_SLEEP_MS = 600_000;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        long sleepMs = ctx.params().integer("sleepMs", 0, MAX_SLEEP_MS, 0);
        if (sleepMs > 0) {
            ctx.progress(0, "sleeping " + sleepMs + " ms");
            Thread.sleep(sleepMs); // a cancel or timeout interrupts the sleep
        }
        Map<String, Object> data = new HashMap<>();
        data.put("echo", ctx.params().raw("echo"));
        return data;
    }
}
