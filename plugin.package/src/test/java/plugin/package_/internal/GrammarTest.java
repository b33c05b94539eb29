package plugin.package_.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Names and versions against Debian's and RPM's formats: what passes can be neither an option nor shell syntax. */
class GrammarTest {
    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource(delimiter = '|', value = {
        "DEBIAN | nginx | true",
        "DEBIAN | libstdc++6 | true",
        "DEBIAN | g++-12 | true",
        "DEBIAN | libc6:i386 | true",
        "DEBIAN | x | false",
        "DEBIAN | Nginx | false",
        "DEBIAN | -oDebug::pkgProblemResolver=1 | false",
        "DEBIAN | nginx;reboot | false",
        "DEBIAN | $(reboot) | false",
        "DEBIAN | nginx reboot | false",
        "DEBIAN | nginx* | false",
        "DEBIAN | libc6:i386:x | false",
        "RPM | NetworkManager | true",
        "RPM | perl-Net-SSLeay | true",
        "RPM | python3.11 | true",
        "RPM | gcc-c++ | true",
        "RPM | _underscore | true",
        "RPM | -y | false",
        "RPM | .hidden | false",
        "RPM | kernel`id` | false",
        "RPM | a>b | false",
        "RPM | vim&& | false",
    })
    void names(Grammar g, String name, boolean ok) {
        assertThat(g.nameProblem(name)).as(name).matches(p -> (p == null) == ok);
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource(delimiter = '|', value = {
        "DEBIAN | 1.0 | true",
        "DEBIAN | 2.36-9+deb12u4 | true",
        "DEBIAN | 1:2.3.4-1ubuntu0.1 | true",
        "DEBIAN | 1.0~rc1-1 | true",
        "DEBIAN | 2:1.0-1-1 | true",
        "DEBIAN | 1.0:2 | false",
        "DEBIAN | a1.0 | false",
        "DEBIAN | 1.0-1_2 | false",
        "DEBIAN | 1.0; reboot | false",
        "DEBIAN | -1 | false",
        "RPM | 3.0.7-25.el9_3 | true",
        "RPM | 1:1.12.8-18.el8.1 | true",
        "RPM | 5.14.0 | true",
        "RPM | 1.0~rc1^git1-1 | true",
        "RPM | 1.0-1-1 | false",
        "RPM | 1.0 -1 | false",
        "RPM | $(id) | false",
    })
    void versions(Grammar g, String version, boolean ok) {
        assertThat(g.versionProblem(version)).as(version).matches(p -> (p == null) == ok);
    }
}
