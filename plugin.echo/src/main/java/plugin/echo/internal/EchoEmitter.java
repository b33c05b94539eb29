package plugin.echo.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.Event;
import agent.api.Events;
import agent.api.SettingsType;

/**
 * {@code echo.emit}: emits {@code count} events (default 1) of {@code kind} (default the settings' kind) with
 * {@code data} and its number, after {@code delayMs} (default 0), through the agent's {@link Events}; answers their ids. How an operator's plugin sends
 * events, and what the tests use to send them from a plugin installed at runtime.
 */
@Component
@Actions("echo.emit")
@SettingsType(EchoSettings.class)
public final class EchoEmitter implements CommandHandler {
    @Reference
    Events events;

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        String kind = ctx.params().optionalString("kind").orElse(ctx.settings(EchoSettings.class).kind());
        long count = ctx.params().integer("count", 1, 100_000, 1);
        long delayMs = ctx.params().integer("delayMs", 0, 600_000, 0);
        if (delayMs > 0) Thread.sleep(delayMs); // emitted later: while the server is away, say
        Map<String, Object> data = ctx.params().object("data");
        List<String> ids = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            Map<String, Object> d = new LinkedHashMap<>(data);
            d.put("n", i);
            Event e = events.emit(kind, d);
            ids.add(e.id());
        }
        return Map.of("ids", ids);
    }
}
