package plugin.package_.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An installed package as the system's database has it.
 *
 * @param name    the package name
 * @param version the version as the manager writes it ({@code 1:2.3-4}, {@code 2.3-4.el9})
 * @param arch    the architecture ({@code amd64}, {@code all}, {@code x86_64}, {@code noarch})
 * @param state   null when fully installed; else the manager's word for a half-done state ({@code half-configured})
 */
record Pkg(String name, String version, String arch, String state) {
    /** @return the key a package is known by in a snapshot: one name can be installed for two architectures */
    String key() { return name + ":" + arch; }

    Map<String, Object> toData() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", name);
        d.put("version", version);
        d.put("architecture", arch);
        if (state != null) d.put("state", state);
        return d;
    }
}
