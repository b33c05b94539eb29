package plugin.echo.internal;

/**
 * plugin.echo's section of the agent's config, {@code plugins.settings.echo}: what {@code echo.emit} sends when
 * the command gives no kind.
 *
 * @param kind the default event kind
 */
record EchoSettings(String kind) {
    static EchoSettings defaults() { return new EchoSettings("echo"); }
}
