package agent.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@link CommandHandler#DRY_RUN}: {@code @DryRun} on a handler component says that
 * every action it serves supports dry runs. Such a handler, when {@link CommandContext#dryRun()} is true, changes
 * nothing and returns what it would do, with {@code "changed"} in its data saying whether anything would change.
 * A dry run of an action whose handler does not say so is {@code rejected} with
 * {@link ErrorCode#DRY_RUN_UNSUPPORTED} and never reaches the handler.
 *
 * @since 1.2
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface DryRun {
    /** Prefix of the generated property name, giving {@code outpost.dry.run}. */
    String PREFIX_ = "outpost.";
}
