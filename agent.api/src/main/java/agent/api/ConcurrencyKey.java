package agent.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@link CommandHandler#CONCURRENCY_KEY}: {@code @ConcurrencyKey("disk")}
 * makes every command of the handler run one at a time with every other command of key {@code disk}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface ConcurrencyKey {
    /** Prefix of the generated property name, giving {@code outpost.concurrency.key}. */
    String PREFIX_ = "outpost.";

    /** @return the key */
    String value();
}
