package plugin.package_.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import agent.api.InvalidSettingsException;

/**
 * plugin.package's section of the agent's config, {@code plugins.settings.package}.
 *
 * @param manager          which package manager to drive; {@code auto} finds it (apt-get, then dnf, yum, zypper)
 * @param lockWaitSeconds  how long a lock held by another process is waited for before the command is refused as
 *                         busy (and what apt and zypper are told to wait themselves)
 * @param aptConfig        an apt configuration file given to apt as {@code APT_CONFIG} (its own sources, lists and
 *                         cache, say); null for the system's
 * @param aptOptions       {@code Key=Value} options given to every apt-get as {@code -o Key=Value}
 * @param dnfOptions       {@code key=value} options given to every dnf or yum as {@code --setopt=key=value}
 */
record PackageSettings(Kind manager, int lockWaitSeconds, Path aptConfig, List<String> aptOptions, List<String> dnfOptions) {
    /** The managers the plugin drives. */
    enum Kind { AUTO, APT, DNF, YUM, ZYPPER }

    private static final Pattern APT_OPTION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9:_.-]*=[^\\p{Cntrl}]*");
    private static final Pattern DNF_OPTION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*=[^\\p{Cntrl}]*");

    static PackageSettings defaults() { return new PackageSettings(Kind.AUTO, 120, null, List.of(), List.of()); }

    PackageSettings {
        if (manager == null) manager = Kind.AUTO;
        if (lockWaitSeconds < 0 || lockWaitSeconds > 3600) {
            throw new InvalidSettingsException("plugins.settings.package.lock_wait_seconds",
                "config key 'plugins.settings.package.lock_wait_seconds' must be 0..3600, got " + lockWaitSeconds);
        }
        if (aptConfig != null && !aptConfig.isAbsolute()) {
            throw new InvalidSettingsException("plugins.settings.package.apt_config",
                "config key 'plugins.settings.package.apt_config' must be an absolute path, got '" + aptConfig + "'");
        }
        aptOptions = List.copyOf(aptOptions == null ? List.of() : aptOptions);
        dnfOptions = List.copyOf(dnfOptions == null ? List.of() : dnfOptions);
        check("apt_options", aptOptions, APT_OPTION, "Key::Name=value");
        check("dnf_options", dnfOptions, DNF_OPTION, "key=value");
    }

    private static void check(String key, List<String> values, Pattern p, String shape) {
        for (int i = 0; i < values.size(); i++) {
            if (!p.matcher(values.get(i)).matches()) {
                throw new InvalidSettingsException("plugins.settings.package." + key, "config key 'plugins.settings.package." + key
                    + "[" + i + "]' must look like '" + shape + "', got '" + Grammar.quote(values.get(i)) + "'");
            }
        }
    }
}
