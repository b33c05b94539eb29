package agent.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The SPI a plugin implements: a service that runs the actions named in its
 * {@link #ACTIONS} service property. Register it as a Declarative Services component
 * annotated with {@link Actions} (and optionally {@link ConcurrencyKey}); the agent routes
 * to it as soon as the service appears and stops routing when it goes.
 *
 * <p>How a run ends:
 * <ul>
 * <li>return normally: {@code succeeded}, with the returned value as the result's {@code data};</li>
 * <li>throw {@link CommandRefusedException} (or {@link InvalidParamException}) before changing anything:
 * {@code rejected}, with its message;</li>
 * <li>throw {@link CommandException}: {@code failed}, with its message (and its {@link ErrorCode});</li>
 * <li>the command is cancelled or times out: {@code cancelled} / {@code timed_out}, whatever the handler does;</li>
 * <li>a {@link CommandException} with {@link ErrorCode#TIMED_OUT} (a limit the handler enforces itself):
 *     {@code timed_out};</li>
 * <li>any other exception: {@code failed}, naming the exception.</li>
 * </ul>
 */
@ConsumerType
public interface CommandHandler {

    /** Service property: the action names (String or String[]) this handler serves, e.g. {@code disk.list}. */
    String ACTIONS = "outpost.actions";

    /**
     * Service property: commands of handlers with the same key run one at a time, in arrival order
     * (all disk actions share one). Without it, commands run independently.
     */
    String CONCURRENCY_KEY = "outpost.concurrency.key";

    /**
     * Service property: {@code true} if every action of this handler supports dry runs ({@link DryRun}).
     *
     * @since 1.2
     */
    String DRY_RUN = "outpost.dry.run";

    /**
     * Service property: the class name of the type the handler's config section maps onto ({@link SettingsType}).
     *
     * @since 1.2
     */
    String SETTINGS_TYPE = "outpost.settings.type";

    /**
     * Runs one command.
     *
     * @param context the command, its params, output, progress, cancellation and process helper
     * @return structured data of a success: null, String, Number, Boolean, List or Map of those
     * @throws Exception to fail the command; see the class description for how it is reported
     */
    Object handle(CommandContext context) throws Exception;
}
