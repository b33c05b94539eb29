package plugin.echo.internal;

import java.util.Map;

import org.osgi.framework.FrameworkUtil;
import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;

/** {@code echo.say}: answers the message, and which plugin version answered. */
@Component
@Actions("echo.say")
public final class EchoHandler implements CommandHandler {
    @Override
    public Object handle(CommandContext ctx) throws Exception {
        String message = ctx.params().string("message");
        ctx.output().println(message);
        var bundle = FrameworkUtil.getBundle(EchoHandler.class);
        return Map.of("message", message, "plugin", bundle.getSymbolicName() + " " + bundle.getVersion());
    }
}
