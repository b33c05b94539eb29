package packager;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ResolutionTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Unable to resolve plugin.echo [14](R 14.0): missing requirement [plugin.echo [14](R 14.0)] osgi.wiring.package; (osgi.wiring.package=org.example.missing) Unresolved requirements: [[plugin.echo [14](R 14.0)] osgi.wiring.package; (osgi.wiring.package=org.example.missing)]"
            + " | missing requirement osgi.wiring.package; (osgi.wiring.package=org.example.missing)",
        "Unable to resolve com.acme [3](R 3.0): missing requirement [com.acme [3](R 3.0)] osgi.ee; (&(osgi.ee=JavaSE)(version=21)) Unresolved requirements: [[com.acme [3](R 3.0)] osgi.ee; (&(osgi.ee=JavaSE)(version=21))]"
            + " | missing requirement osgi.ee; (&(osgi.ee=JavaSE)(version=21))",
        "the fragment does not attach to its host x | the fragment does not attach to its host x",
    })
    void theMissingRequirementIsTakenFromFelixsMessage(String felix, String shown) {
        assertThat(Resolution.missing(felix)).isEqualTo(shown);
    }
}
