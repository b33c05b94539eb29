package plugin.script.internal;

import java.nio.file.Files;
import java.nio.file.Path;

import agent.api.CommandException;

/** The programs the plugin runs, found in the standard places: a systemd service's PATH may lack the sbin ones. */
final class Tools {
    private static final String[] DIRS = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"};

    /** The PATH scripts get in their clean environment. */
    static final String PATH = String.join(":", DIRS);

    private Tools() {}

    /**
     * @param name    a program name
     * @param pkg     the package that provides it, for the message
     * @return its absolute path
     * @throws CommandException naming the program and the package if it is not installed
     */
    static Path find(String name, String pkg) throws CommandException {
        for (String d : DIRS) {
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        throw new CommandException(name + " is not installed (looked in " + String.join(", ", DIRS) + "); install "
            + pkg + ". Nothing was run.");
    }
}
