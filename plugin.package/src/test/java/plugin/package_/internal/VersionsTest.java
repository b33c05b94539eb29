package plugin.package_.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The two version orders, on the cases their tools' documentation and test suites make a point of. */
class VersionsTest {
    @ParameterizedTest(name = "dpkg: {0} vs {1} = {2}")
    @CsvSource({
        "1.0, 1.0, 0",
        "1.0, 1.0-0, 0",
        "1.0-1, 1.0-2, -1",
        "1.10, 1.9, 1",
        "1.0~rc1, 1.0, -1",
        "1.0~~, 1.0~, -1",
        "1.0a, 1.0, 1",
        "1.0+b1, 1.0, 1",
        "1:0.1, 2.0, 1",
        "2.36-9+deb12u4, 2.36-9+deb12u3, 1",
        "6.1.0-21-amd64, 6.1.0-18-amd64, 1",
        "1.001, 1.1, 0",
    })
    void debian(String a, String b, int sign) {
        assertThat(Integer.signum(Versions.debian(a, b))).isEqualTo(sign);
        assertThat(Integer.signum(Versions.debian(b, a))).isEqualTo(-sign);
    }

    @ParameterizedTest(name = "rpm: {0} vs {1} = {2}")
    @CsvSource({
        "1.0-1, 1.0-1, 0",
        "1.0-1, 1.0-2, -1",
        "1.10-1, 1.9-1, 1",
        "1.0~rc1-1, 1.0-1, -1",
        "1.0^git1-1, 1.0-1, 1",
        "1.0^git1-1, 1.0.1-1, -1",
        "1:1.0-1, 2.0-1, 1",
        "5.14.0-362.18.1.el9_3, 5.14.0-362.13.1.el9_3, 1",
        "1.0a-1, 1.0-1, 1",
        "1.0.a-1, 1.0.1-1, -1",
        "2.0-1.el9, 2.0, 0",
    })
    void rpm(String a, String b, int sign) {
        assertThat(Integer.signum(Versions.rpm(a, b))).isEqualTo(sign);
        assertThat(Integer.signum(Versions.rpm(b, a))).isEqualTo(-sign);
    }
}
