package plugin.files.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import agent.api.AgentPaths;
import agent.api.CommandRefusedException;
import agent.api.InvalidParamException;

/**
 * Which paths the {@code file.*} actions may touch: under an allowed prefix, under no denied one, and never the
 * agent's own files. A path is checked twice: as asked (lexically, before anything is opened) and as it really is
 * once every symlink on the way was resolved ({@link SecureTree} does that without following a link in the kernel).
 */
final class PathPolicy {
    /** Longer than any path a Linux syscall takes (PATH_MAX). */
    static final int MAX_PATH = 4096;
    /** The agent's config directory and, inside it, config.json, the only place the config path is known (see README). */
    static final Path AGENT_CONFIG_DIR = Path.of("/etc/outpost");
    /** The control socket's directory (docs: /run/outpost/control.sock) when the data dir is the default one. */
    static final Path AGENT_RUN_DIR = Path.of("/run/outpost");
    /** The agent's installation: its jar and bundles. */
    static final Path AGENT_HOME = Path.of("/opt/outpost");

    private final List<Path> allow;
    private final List<Path> deny;
    /** Always refused, whatever the settings say: path → what it is. */
    private final Map<Path, String> agentOwn;

    PathPolicy(List<Path> allow, List<Path> deny, Map<Path, String> agentOwn) {
        this.allow = List.copyOf(allow);
        this.deny = List.copyOf(deny);
        this.agentOwn = new LinkedHashMap<>(agentOwn);
    }

    /**
     * @param settings the plugin's settings
     * @param paths    the agent's directories
     * @param env      the agent's environment ({@code OUTPOST_CONFIG} names a config file elsewhere)
     * @return the policy
     */
    static PathPolicy of(FileSettings settings, AgentPaths paths, Map<String, String> env) {
        Map<Path, String> own = new LinkedHashMap<>();
        own.put(paths.dataDir().toAbsolutePath().normalize(), "the agent's data directory (its store and credentials)");
        own.put(paths.scriptsDir().toAbsolutePath().normalize(), "the agent's scripts directory");
        own.put(AGENT_CONFIG_DIR, "the agent's config directory");
        String configured = env.get("OUTPOST_CONFIG");
        if (configured != null && configured.startsWith("/")) own.put(Path.of(configured).normalize(), "the agent's config file");
        own.put(AGENT_RUN_DIR, "the agent's control socket directory");
        // a run_dir of the config (a packaged agent's own, or <data_dir>/run) as well as the default
        own.putIfAbsent(paths.runDir().toAbsolutePath().normalize(), "the agent's control socket directory");
        own.put(AGENT_HOME, "the agent's installation");
        List<Path> allow = new ArrayList<>();
        for (String a : settings.allow()) allow.add(Path.of(a));
        List<Path> deny = new ArrayList<>();
        for (String d : settings.deny()) deny.add(Path.of(d));
        return new PathPolicy(allow, deny, own);
    }

    /**
     * @param path a path as a command or the config gives it
     * @return what is wrong with it lexically (to follow "param 'path' "), or null: it must be absolute, without
     *         {@code .} or {@code ..} segments, empty segments or control characters
     */
    static String lexicalProblem(String path) {
        if (path == null || path.isEmpty()) return "must be an absolute path, got ''";
        if (path.length() > MAX_PATH) return "is longer than " + MAX_PATH + " characters";
        for (int i = 0; i < path.length(); i++) {
            if (Character.isISOControl(path.charAt(i))) return "must not contain control characters, got '" + escape(path) + "'";
        }
        if (!path.startsWith("/")) return "must be an absolute path, got '" + escape(path) + "'";
        if (path.equals("/")) return null;
        String body = path.endsWith("/") ? path.substring(1, path.length() - 1) : path.substring(1);
        for (String segment : body.split("/", -1)) {
            if (segment.isEmpty()) return "must not contain empty segments ('//'), got '" + escape(path) + "'";
            if (segment.equals(".") || segment.equals("..")) {
                return "must not contain '.' or '..' segments, got '" + escape(path) + "'";
            }
        }
        return null;
    }

    /**
     * Checks a param before anything is opened: lexically sound, not a directory name ending in '/', allowed as written.
     *
     * @param param the param's name, for the message
     * @param path  its value
     * @return the path
     * @throws InvalidParamException if it is not a sound absolute file path
     * @throws CommandRefusedException if the policy refuses it as written
     */
    Path checkRequested(String param, String path) throws CommandRefusedException {
        String problem = lexicalProblem(path);
        if (problem != null) throw new InvalidParamException(param, problem);
        if (path.equals("/") || path.endsWith("/")) {
            throw new InvalidParamException(param, "must name a file, not a directory, got '" + escape(path) + "'");
        }
        Path p = Path.of(path);
        check(param, p, p);
        return p;
    }

    /**
     * @param param     the param's name, for the message
     * @param requested the path as asked
     * @param real      where it really is, every symlink on the way resolved
     * @throws CommandRefusedException if either is outside the allowed prefixes, or under a denied one or the agent's
     *                                 own files
     */
    void check(String param, Path requested, Path real) throws CommandRefusedException {
        String why = refusal(real);
        if (why == null && !real.equals(requested)) why = refusal(requested);
        if (why == null) return;
        String via = real.equals(requested) ? "" : " (it resolves to " + escape(real.toString()) + " through a symlink)";
        throw new CommandRefusedException("param '" + param + "': " + escape(requested.toString()) + via + " is refused: " + why);
    }

    private String refusal(Path p) {
        for (Map.Entry<Path, String> own : agentOwn.entrySet()) {
            if (under(p, own.getKey()) || under(p, real(own.getKey()))) {
                return "it is " + (p.equals(own.getKey()) ? "" : "inside ") + own.getKey() + ", " + own.getValue()
                    + ", which the file actions never touch";
            }
        }
        for (Path d : deny) {
            if (under(p, d) || under(p, real(d))) return "it is under " + d + ", denied by plugins.settings.file.deny";
        }
        for (Path a : allow) {
            if (under(p, a) || under(p, real(a))) return null;
        }
        return "it is not under an allowed prefix (plugins.settings.file.allow: " + (allow.isEmpty() ? "none" : allow.toString()) + ")";
    }

    private static boolean under(Path p, Path prefix) { return p.startsWith(prefix); }

    /** A prefix as it really is (a configured /opt may be a link to /data/opt); as written if it does not exist. */
    private static Path real(Path prefix) {
        try {
            return prefix.toRealPath();
        } catch (IOException e) {
            return prefix;
        }
    }

    /** @return the text with control characters shown as \\uXXXX, so a message never carries a raw one */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c)) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }
}
