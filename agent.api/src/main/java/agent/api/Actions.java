package agent.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@link CommandHandler#ACTIONS}: write
 * {@code @Actions({"disk.list", "disk.extend"})} on a handler component.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface Actions {
    /** Prefix of the generated property name, giving {@code outpost.actions}. */
    String PREFIX_ = "outpost.";

    /** @return the action names the handler serves */
    String[] value();
}
