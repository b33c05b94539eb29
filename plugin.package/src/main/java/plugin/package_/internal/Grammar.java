package plugin.package_.internal;

import java.util.regex.Pattern;

import agent.api.InvalidParamException;

/**
 * Package names and versions as each package manager's format defines them, checked before any process runs: a
 * value that passes cannot be read as an option (none starts with '-') nor carry a shell or glob character.
 * Debian: policy §5.6.1 (names) and §5.6.12 (versions); RPM: the name, epoch, version and release of a header.
 */
enum Grammar {
    /** dpkg and apt. */
    DEBIAN,
    /** rpm, with dnf, yum and zypper in front. */
    RPM;

    static final int MAX_LENGTH = 200;
    /** Lower case letters, digits, '+', '-', '.'; two characters at least, starting alphanumeric. */
    private static final Pattern DEB_NAME = Pattern.compile("[a-z0-9][a-z0-9+.-]+");
    /** apt's architecture qualifier, {@code name:i386}. */
    private static final Pattern DEB_ARCH = Pattern.compile("[a-z0-9][a-z0-9-]*");
    private static final Pattern DEB_UPSTREAM = Pattern.compile("[0-9][A-Za-z0-9.+~:-]*");
    private static final Pattern DEB_REVISION = Pattern.compile("[A-Za-z0-9+.~]+");
    private static final Pattern RPM_NAME = Pattern.compile("[A-Za-z0-9_+][A-Za-z0-9._+-]*");
    /** A version or a release: no '-' (it separates them) and no ':' (the epoch's). */
    private static final Pattern RPM_PART = Pattern.compile("[A-Za-z0-9._+~^]+");
    private static final Pattern EPOCH = Pattern.compile("[0-9]{1,10}");
    /** A filter of package.list: a name with '*' and '?' wildcards. */
    private static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9_+*?][A-Za-z0-9._+:*?-]*");

    /**
     * @param param the param's name, for the message
     * @param name  a package name
     * @throws InvalidParamException naming the param and quoting the value
     */
    void checkName(String param, String name) throws InvalidParamException {
        String problem = nameProblem(name);
        if (problem != null) throw new InvalidParamException(param, problem);
    }

    /** @return what is wrong with the name, or null */
    String nameProblem(String name) {
        if (name == null || name.isEmpty()) return "must not be empty";
        if (name.length() > MAX_LENGTH) return "is longer than " + MAX_LENGTH + " characters";
        if (this == DEBIAN) {
            int colon = name.indexOf(':');
            String base = colon < 0 ? name : name.substring(0, colon);
            if (DEB_NAME.matcher(base).matches() && (colon < 0 || DEB_ARCH.matcher(name.substring(colon + 1)).matches())) return null;
            return "'" + quote(name) + "' is not a Debian package name (lower-case letters, digits, '+', '-' and '.', at least"
                + " two, starting with a letter or digit; optionally ':arch')";
        }
        if (RPM_NAME.matcher(name).matches()) return null;
        return "'" + quote(name) + "' is not an RPM package name (letters, digits, '.', '_', '+' and '-', not starting with '-' or '.')";
    }

    /**
     * @param param   the param's name, for the message
     * @param version a version as the manager writes it ({@code [epoch:]upstream[-revision]})
     * @throws InvalidParamException naming the param and quoting the value
     */
    void checkVersion(String param, String version) throws InvalidParamException {
        String problem = versionProblem(version);
        if (problem != null) throw new InvalidParamException(param, problem);
    }

    /** @return what is wrong with the version, or null */
    String versionProblem(String v) {
        if (v == null || v.isEmpty()) return "must not be empty";
        if (v.length() > MAX_LENGTH) return "is longer than " + MAX_LENGTH + " characters";
        String rest = v;
        boolean epoch = false;
        int colon = v.indexOf(':');
        if (colon >= 0 && EPOCH.matcher(v.substring(0, colon)).matches()) {
            epoch = true;
            rest = v.substring(colon + 1);
        }
        if (this == DEBIAN) {
            int dash = rest.lastIndexOf('-');
            String upstream = dash < 0 ? rest : rest.substring(0, dash);
            String revision = dash < 0 ? null : rest.substring(dash + 1);
            boolean ok = DEB_UPSTREAM.matcher(upstream).matches() && (revision == null || DEB_REVISION.matcher(revision).matches())
                && (epoch || upstream.indexOf(':') < 0);
            if (ok) return null;
            return "'" + quote(v) + "' is not a Debian version ([epoch:]upstream[-revision]: the upstream part starts with a"
                + " digit and holds letters, digits, '.', '+', '~', '-' and ':')";
        }
        int dash = rest.indexOf('-');
        String version = dash < 0 ? rest : rest.substring(0, dash);
        String release = dash < 0 ? null : rest.substring(dash + 1);
        if (RPM_PART.matcher(version).matches() && (release == null || RPM_PART.matcher(release).matches())) return null;
        return "'" + quote(v) + "' is not an RPM version ([epoch:]version[-release]: letters, digits, '.', '_', '+', '~' and '^')";
    }

    /**
     * @param param   the param's name
     * @param pattern a name or a pattern with '*' and '?'
     * @throws InvalidParamException if it holds anything else
     */
    static void checkPattern(String param, String pattern) throws InvalidParamException {
        if (pattern == null || pattern.isEmpty() || pattern.length() > MAX_LENGTH || !PATTERN.matcher(pattern).matches()) {
            throw new InvalidParamException(param, "'" + quote(pattern == null ? "" : pattern) + "' is not a package name or a"
                + " pattern with '*' and '?' (letters, digits, '.', '_', '+', ':', '-')");
        }
    }

    /** @return a regular expression for a '*' and '?' pattern */
    static Pattern glob(String pattern) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            if (c == '*') re.append(".*");
            else if (c == '?') re.append('.');
            else re.append(Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString());
    }

    /** @return the value with control characters shown as \\uXXXX and at most 80 characters */
    static String quote(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (b.length() >= 80) return b.append("...").toString();
            if (Character.isISOControl(c)) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }
}
