package agent.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@link CommandHandler#SETTINGS_TYPE}: {@code @SettingsType(DiskSettings.class)} on a
 * handler declares the type its config section maps onto (see {@link CommandContext#settings(Class)}). The agent
 * then checks the section when it starts (a built-in plugin: a bad section stops the agent with exit 2) and when
 * the plugin is installed or upgraded (a bad section refuses it, nothing changed), not on every command.
 *
 * @since 1.2
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface SettingsType {
    /** Prefix of the generated property name, giving {@code outpost.settings.type}. */
    String PREFIX_ = "outpost.";

    /** @return a record or an annotation type, as {@link CommandContext#settings(Class)} takes it */
    Class<?> value();
}
