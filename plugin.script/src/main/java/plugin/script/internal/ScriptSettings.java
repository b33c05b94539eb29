package plugin.script.internal;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code plugins.settings.script}: the host's own consent for scripts, decided in its config file and never widened
 * by a command.
 *
 * @param scriptsDir          the operator's scripts directory; null for the agent's {@code scripts_dir}
 * @param inline              whether {@code script.run} may run script text sent in a command
 * @param runAs               the users {@code runAs} may name; {@code ["*"]} any user, {@code []} none
 * @param maxSeconds          the longest a script may run, whatever the command asks
 * @param rebootCommand       what exit code 194 runs to reboot the host (an argument array)
 * @param maxReboots          how many reboots one script may ask for in a row (within {@code rebootWindowMinutes})
 * @param rebootWindowMinutes reboot requests of a script further apart than this do not count as "in a row"
 * @param rebootWaitSeconds   how long to wait for the host to go down after the reboot command before failing
 */
record ScriptSettings(Path scriptsDir, boolean inline, List<String> runAs, long maxSeconds, List<String> rebootCommand,
        int maxReboots, long rebootWindowMinutes, long rebootWaitSeconds) {

    /** The agent's {@code max_command_seconds} cap: a script limit above it would never be reached. */
    static final long MAX_SECONDS = 86400;

    ScriptSettings {
        if (scriptsDir != null && !scriptsDir.isAbsolute()) {
            throw new IllegalArgumentException("scripts_dir must be an absolute path, got '" + scriptsDir + "'");
        }
        runAs = List.copyOf(runAs);
        for (String u : runAs) {
            if (!u.equals("*") && !Users.NAME.matcher(u).matches()) {
                throw new IllegalArgumentException("run_as must list user names (or \"*\" for any user), got '" + u + "'");
            }
        }
        if (maxSeconds < 1 || maxSeconds > MAX_SECONDS) {
            throw new IllegalArgumentException("max_seconds must be 1.." + MAX_SECONDS + ", got " + maxSeconds);
        }
        rebootCommand = List.copyOf(rebootCommand);
        if (rebootCommand.isEmpty() || !rebootCommand.get(0).startsWith("/")) {
            throw new IllegalArgumentException("reboot_command must be an argument array starting with an absolute program"
                + " path, like [\"/sbin/reboot\"], got " + rebootCommand);
        }
        if (maxReboots < 0 || maxReboots > 100) {
            throw new IllegalArgumentException("max_reboots must be 0..100, got " + maxReboots);
        }
        if (rebootWindowMinutes < 1 || rebootWindowMinutes > 10080) {
            throw new IllegalArgumentException("reboot_window_minutes must be 1..10080 (a week), got " + rebootWindowMinutes);
        }
        if (rebootWaitSeconds < 1 || rebootWaitSeconds > 3600) {
            throw new IllegalArgumentException("reboot_wait_seconds must be 1..3600, got " + rebootWaitSeconds);
        }
    }

    /** @return what a config file that says nothing gives */
    static ScriptSettings defaults() {
        return new ScriptSettings(null, true, List.of("*"), MAX_SECONDS, List.of("/sbin/reboot"), 3, 60, 300);
    }

    /** @param user a user name @return whether {@code runAs} may name it */
    boolean mayRunAs(String user) { return runAs.contains("*") || runAs.contains(user); }
}
