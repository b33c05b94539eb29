package agent.api;

/**
 * A plugin's section of the agent's config does not fit the type it declared: an unknown key, a wrong type, a
 * value its record refused. The message names the key (e.g. {@code disk.fstab}) and the config file.
 *
 * @since 1.2
 */
public class InvalidSettingsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String key;

    /** @param key the config key at fault, dotted from the top (e.g. {@code plugins.settings.acme.level}) @param message the whole message */
    public InvalidSettingsException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** @return the config key at fault */
    public String key() { return key; }
}
