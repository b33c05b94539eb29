package packager;

import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/**
 * The packager config (docs/packaging.md): one JSON object, read and checked as a whole before anything is built.
 * Every error names the key ({@code plugins.com.acme.hello.sha256}), the file, the value and what was expected.
 *
 * @param file      the config file, absolute; relative paths in it are taken from its folder
 * @param name      the distribution's name: file names and the Debian package name
 * @param version   its version
 * @param output    where the archives are written
 * @param formats   what is written
 * @param runtime   the Java runtime the distribution runs on
 * @param jdk       the JDK whose tools (jdeps, jlink) and modules make the private runtime and check the build
 * @param maintainer the .deb's Maintainer field
 * @param plugins   the plugin choices by bundle symbolic name, in file order
 * @param agent     the agent's default config
 */
public record PackagerConfig(Path file, String name, String version, Path output, List<Format> formats, RuntimeKind runtime,
        Path jdk, String maintainer, Map<String, PluginChoice> plugins, Agent agent) {

    /** An archive the packager writes. */
    public enum Format {
        /** {@code NAME-VERSION.tar.gz}: what install.sh installs from. */
        TAR_GZ("tar.gz"),
        /** {@code NAME_VERSION_ARCH.deb}: what apt installs. */
        DEB("deb");

        final String key;

        Format(String key) { this.key = key; }
    }

    /** Which Java the distribution runs on. */
    public enum RuntimeKind {
        /** The host's Java 17 or later. */
        SYSTEM("system"),
        /** A private runtime made with jlink, in {@code jre/}: the host needs no Java. */
        JLINK("jlink");

        final String key;

        RuntimeKind(String key) { this.key = key; }
    }

    /** What to do with one plugin. */
    public sealed interface PluginChoice permits Builtin, LeftOut, FromFile, FromMaven, FromUrl {}

    /** A plugin of this Outpost build ({@code plugin.*} in the checkout), by name. */
    public record Builtin() implements PluginChoice {}

    /** {@code "none"}: a plugin of the default runtime left out. */
    public record LeftOut() implements PluginChoice {}

    /** @param jar a local jar @param sha256 its expected sha256, or null */
    public record FromFile(Path jar, String sha256) implements PluginChoice {}

    /** @param groupId @param artifactId @param version a Maven coordinate @param sha256 expected, or null */
    public record FromMaven(String groupId, String artifactId, String version, String sha256) implements PluginChoice {}

    /** @param url an https URL @param sha256 the jar's sha256, required */
    public record FromUrl(URI url, String sha256) implements PluginChoice {}

    /**
     * The agent's default config, written as the distribution's {@code config.json}.
     *
     * @param serverUrl       {@code server_url}
     * @param serverCa        the CA file on this machine (shipped as /etc/outpost/server-ca.pem), or null
     * @param transport       {@code transport}
     * @param checkInInterval {@code check_in_interval}
     * @param plugins         {@code plugins}: the policy section, or null
     */
    public record Agent(String serverUrl, Path serverCa, String transport, int checkInInterval, JsonObject plugins) {
        /** Where install.sh and the .deb put the CA file on the host. */
        public static final String CA_ON_HOST = "/etc/outpost/server-ca.pem";

        /**
         * The default config. server_url comes first, then server_ca, then the rest, one top-level key per line:
         * install.sh and the .deb's postinst add the enrolment token after the first line and rely on that shape.
         *
         * @return the JSON object, in that order
         */
        public JsonObject defaultConfig() {
            JsonObject o = new JsonObject();
            o.addProperty("server_url", serverUrl);
            if (serverCa != null) o.addProperty("server_ca", CA_ON_HOST);
            o.addProperty("transport", transport);
            o.addProperty("check_in_interval", checkInInterval);
            if (plugins != null) o.add("plugins", plugins);
            return o;
        }
    }

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9+.-]{1,62}");
    private static final Pattern VERSION = Pattern.compile("[0-9][A-Za-z0-9.+~]{0,63}");
    /** A bundle symbolic name, as the plugin keys are. */
    static final Pattern BSN = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern MAVEN_PART = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Pattern SERVER_URL = Pattern.compile("https://[A-Za-z0-9.:\\[\\]-]+(/[^\\s\"\\\\]*)?");
    private static final Set<String> TOP = Set.of("name", "version", "output", "formats", "runtime", "jdk", "maintainer", "plugins", "agent");
    private static final Set<String> AGENT = Set.of("server_url", "server_ca", "transport", "check_in_interval", "plugins");
    private static final Set<String> POLICY = Set.of("require_signed", "trust_store", "allow", "deny", "settings");

    /**
     * @param file the config file
     * @return the checked config
     * @throws PackagerException naming the key and the problem
     */
    public static PackagerConfig read(Path file) throws PackagerException {
        Path abs = file.toAbsolutePath().normalize();
        if (!Files.isRegularFile(abs)) throw PackagerException.config("config file " + file + " does not exist");
        JsonElement e;
        try (Reader r = Files.newBufferedReader(abs, StandardCharsets.UTF_8)) {
            e = StrictJson.parse(r, "config file " + abs);
        } catch (IOException ex) {
            throw PackagerException.config("cannot read config file " + abs + ": " + ex.getMessage());
        }
        if (!e.isJsonObject()) throw PackagerException.config("config file " + abs + " must hold one JSON object, got " + e);
        return new Reading(abs).config(e.getAsJsonObject());
    }

    /** The checks, with the file for messages and relative paths. */
    private static final class Reading {
        private final Path file;
        private final Path base;

        Reading(Path file) {
            this.file = file;
            this.base = file.getParent();
        }

        private PackagerException bad(String key, String problem) {
            return PackagerException.config("config key '" + key + "' in " + file + " " + problem);
        }

        private void known(JsonObject o, String prefix, Set<String> keys) throws PackagerException {
            for (String k : o.keySet()) {
                if (!keys.contains(k)) throw bad(prefix + k, "is unknown (known: " + String.join(", ", new TreeSet<>(keys)) + ")");
            }
        }

        private String string(JsonObject o, String key, String where) throws PackagerException {
            JsonElement v = o.get(key);
            if (v == null) return null;
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString() || v.getAsString().isEmpty()) {
                throw bad(where, "must be a non-empty string, got " + v);
            }
            return v.getAsString();
        }

        private String matching(JsonObject o, String key, String where, Pattern p, String expected) throws PackagerException {
            String s = string(o, key, where);
            if (s != null && !p.matcher(s).matches()) throw bad(where, "must be " + expected + ", got '" + s + "'");
            return s;
        }

        private Path path(String value) { return base.resolve(value).normalize(); }

        PackagerConfig config(JsonObject o) throws PackagerException {
            known(o, "", TOP);
            String name = matching(o, "name", "name", NAME, "a package name: 2-63 lower-case letters, digits, '+', '-', '.'");
            if (name == null) throw bad("name", "is required (the distribution's name, e.g. \"outpost-acme\")");
            String version = matching(o, "version", "version", VERSION, "a version: a digit, then letters, digits, '.', '+', '~'");
            if (version == null) throw bad("version", "is required (e.g. \"1.0.0\")");
            String out = string(o, "output", "output");
            Path output = path(out == null ? "dist" : out);
            List<Format> formats = formats(o.get("formats"));
            RuntimeKind runtime = RuntimeKind.SYSTEM;
            String rt = string(o, "runtime", "runtime");
            if (rt != null) {
                runtime = null;
                for (RuntimeKind k : RuntimeKind.values()) if (k.key.equals(rt)) runtime = k;
                if (runtime == null) throw bad("runtime", "must be \"system\" (the host's Java 17+) or \"jlink\" (a private runtime), got '" + rt + "'");
            }
            Path jdk = null;
            String j = string(o, "jdk", "jdk");
            if (j != null) {
                jdk = path(j);
                if (!Files.isExecutable(jdk.resolve("bin/java")) || !Files.isRegularFile(jdk.resolve("release"))) {
                    throw bad("jdk", "must be a JDK's folder (with bin/java and release), got '" + j + "'");
                }
            }
            String maintainer = string(o, "maintainer", "maintainer");
            if (maintainer != null && !maintainer.matches("[^<>\\n]+ <[^<>\\s]+@[^<>\\s]+>")) {
                throw bad("maintainer", "must be 'Name <email>', got '" + maintainer + "'");
            }
            Map<String, PluginChoice> plugins = plugins(o.get("plugins"));
            JsonElement a = o.get("agent");
            if (a == null) throw bad("agent", "is required: the agent's default config, at least {\"server_url\": \"https://...\"}");
            if (!a.isJsonObject()) throw bad("agent", "must be a JSON object, got " + a);
            Agent agent = agent(a.getAsJsonObject());
            return new PackagerConfig(file, name, version, output, formats, runtime, jdk,
                maintainer == null ? "Outpost operator <root@localhost>" : maintainer, plugins, agent);
        }

        private List<Format> formats(JsonElement v) throws PackagerException {
            if (v == null) return List.of(Format.TAR_GZ);
            if (!v.isJsonArray() || v.getAsJsonArray().isEmpty()) throw bad("formats", "must be a non-empty list of \"tar.gz\", \"deb\", got " + v);
            List<Format> out = new ArrayList<>();
            for (JsonElement f : v.getAsJsonArray()) {
                Format found = null;
                for (Format k : Format.values()) {
                    if (f.isJsonPrimitive() && k.key.equals(f.getAsString())) found = k;
                }
                if (found == null) throw bad("formats", "holds " + f + ": the formats are \"tar.gz\" and \"deb\"");
                if (out.contains(found)) throw bad("formats", "names " + f + " twice");
                out.add(found);
            }
            return List.copyOf(out);
        }

        private Map<String, PluginChoice> plugins(JsonElement v) throws PackagerException {
            Map<String, PluginChoice> out = new LinkedHashMap<>();
            if (v == null) return out;
            if (!v.isJsonObject()) throw bad("plugins", "must be a JSON object of plugins by bundle symbolic name, got " + v);
            for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
                String bsn = e.getKey();
                String key = "plugins." + bsn;
                if (!BSN.matcher(bsn).matches()) throw bad(key, "is not a bundle symbolic name (letters, digits, '_', '.', '-')");
                out.put(bsn, choice(key, e.getValue()));
            }
            return out;
        }

        private PluginChoice choice(String key, JsonElement v) throws PackagerException {
            String forms = "\"builtin\", \"none\", {\"file\": JAR}, {\"maven\": \"GROUP:ARTIFACT:VERSION\"} or {\"url\": \"https://...\", \"sha256\": HEX}";
            if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
                switch (v.getAsString()) {
                    case "builtin": return new Builtin();
                    case "none": return new LeftOut();
                    default: throw bad(key, "must be " + forms + ", got '" + v.getAsString() + "'");
                }
            }
            if (!v.isJsonObject()) throw bad(key, "must be " + forms + ", got " + v);
            JsonObject o = v.getAsJsonObject();
            known(o, key + ".", Set.of("file", "maven", "url", "sha256"));
            List<String> sources = new ArrayList<>();
            for (String s : List.of("file", "maven", "url")) if (o.has(s)) sources.add(s);
            if (sources.size() != 1) throw bad(key, "must name exactly one of 'file', 'maven', 'url', got " + (sources.isEmpty() ? "none" : sources));
            String sha = matching(o, "sha256", key + ".sha256", SHA256, "64 lower-case hex digits (the jar's sha256)");
            switch (sources.get(0)) {
                case "file": {
                    Path jar = path(string(o, "file", key + ".file"));
                    if (!Files.isRegularFile(jar)) throw bad(key + ".file", "names a jar that does not exist: " + jar);
                    return new FromFile(jar, sha);
                }
                case "maven": {
                    String coord = string(o, "maven", key + ".maven");
                    String[] p = coord.split(":", -1);
                    if (p.length != 3 || !MAVEN_PART.matcher(p[0]).matches() || !MAVEN_PART.matcher(p[1]).matches()
                        || !MAVEN_PART.matcher(p[2]).matches()) {
                        throw bad(key + ".maven", "must be 'GROUP:ARTIFACT:VERSION', got '" + coord + "'");
                    }
                    return new FromMaven(p[0], p[1], p[2], sha);
                }
                default: {
                    String u = string(o, "url", key + ".url");
                    URI url;
                    try {
                        url = new URI(u);
                    } catch (URISyntaxException ex) {
                        throw bad(key + ".url", "is not a URL: '" + u + "'");
                    }
                    if (!"https".equals(url.getScheme()) || url.getHost() == null) {
                        throw bad(key + ".url", "must be an https:// URL, got '" + u + "'");
                    }
                    if (sha == null) throw bad(key + ".sha256", "is required with 'url': the jar's sha256, checked before it is used");
                    return new FromUrl(url, sha);
                }
            }
        }

        private Agent agent(JsonObject o) throws PackagerException {
            known(o, "agent.", AGENT);
            String url = matching(o, "server_url", "agent.server_url", SERVER_URL, "an https:// URL like https://host:port");
            if (url == null) throw bad("agent.server_url", "is required: the server the packaged agents join");
            Path ca = null;
            String caName = string(o, "server_ca", "agent.server_ca");
            if (caName != null) {
                ca = path(caName);
                String text;
                try {
                    text = Files.readString(ca, StandardCharsets.UTF_8);
                } catch (IOException ex) {
                    throw bad("agent.server_ca", "names a file that cannot be read: " + ca);
                }
                if (!text.contains("-----BEGIN CERTIFICATE-----")) throw bad("agent.server_ca", "names a file with no PEM certificate: " + ca);
            }
            String transport = string(o, "transport", "agent.transport");
            if (transport == null) transport = "websocket";
            if (!transport.equals("websocket") && !transport.equals("poll")) {
                throw bad("agent.transport", "must be \"websocket\" or \"poll\", got '" + transport + "'");
            }
            int interval = 30;
            JsonElement i = o.get("check_in_interval");
            if (i != null) {
                if (!i.isJsonPrimitive() || !i.getAsJsonPrimitive().isNumber() || i.getAsDouble() != Math.rint(i.getAsDouble())
                    || i.getAsDouble() < 5 || i.getAsDouble() > 86400) {
                    throw bad("agent.check_in_interval", "must be an integer of seconds, 5..86400, got " + i);
                }
                interval = i.getAsInt();
            }
            JsonObject policy = null;
            JsonElement p = o.get("plugins");
            if (p != null) {
                if (!p.isJsonObject()) throw bad("agent.plugins", "must be a JSON object (require_signed, trust_store, allow, deny, settings), got " + p);
                policy = p.getAsJsonObject();
                policy(policy);
            }
            return new Agent(url, ca, transport, interval, policy);
        }

        private void policy(JsonObject p) throws PackagerException {
            known(p, "agent.plugins.", POLICY);
            JsonElement signed = p.get("require_signed");
            if (signed != null && !(signed.isJsonPrimitive() && signed.getAsJsonPrimitive().isBoolean())) {
                throw bad("agent.plugins.require_signed", "must be true or false, got " + signed);
            }
            String store = string(p, "trust_store", "agent.plugins.trust_store");
            if (store != null && !store.startsWith("/")) {
                throw bad("agent.plugins.trust_store", "must be an absolute path on the host, got '" + store + "'");
            }
            if (signed != null && signed.getAsBoolean() && store == null) {
                throw bad("agent.plugins.require_signed", "is true but 'agent.plugins.trust_store' is not set (the PEM file plugin jars must be signed with)");
            }
            for (String list : List.of("allow", "deny")) {
                JsonElement l = p.get(list);
                if (l == null) continue;
                if (!l.isJsonArray()) throw bad("agent.plugins." + list, "must be a list of symbolic-name patterns, got " + l);
                for (JsonElement x : (JsonArray) l) {
                    if (!x.isJsonPrimitive() || !((JsonPrimitive) x).isString() || x.getAsString().isEmpty()) {
                        throw bad("agent.plugins." + list, "must hold non-empty strings, got " + x);
                    }
                }
            }
            JsonElement s = p.get("settings");
            if (s != null && !s.isJsonObject()) throw bad("agent.plugins.settings", "must be a JSON object of sections by action prefix, got " + s);
        }
    }
}
