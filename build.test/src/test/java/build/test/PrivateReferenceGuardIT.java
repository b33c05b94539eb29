package build.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.jar.JarFile;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * cnf/bundle.bnd makes an exported package that exposes a private type a build error: a fixture bundle, built by Maven
 * with the reactor's parent pom and cnf/bundle.bnd, fails with bnd's message when one exported method returns a type
 * of its private package, and builds without that method.
 */
class PrivateReferenceGuardIT {
    static final Duration LIMIT = Duration.ofMinutes(4);
    static NestedMaven maven;

    @BeforeAll
    static void privateRepository() throws Exception {
        maven = NestedMaven.privateRepository(Fixtures.fresh("privateref-m2"), Fixtures.USER_REPOSITORY);
    }

    private static Path fixture(String name) throws Exception {
        Path project = Fixtures.fresh(name).resolve("fixture.leak");
        return Fixtures.copy(Path.of("src/test/fixtures/leak"), project, Map.of("@OUTPOST_VERSION@", Fixtures.VERSION,
            "@ROOT_POM@", Fixtures.rootPomFrom(project), "@ROOT@", Fixtures.ROOT.toString()));
    }

    @Test
    void anExportedPackageThatExposesAPrivateTypeFailsTheBuild() throws Exception {
        Path project = fixture("privateref-leaking");
        // the leak: the exported interface hands out a type of the private package fixture.internal
        Fixtures.edit(project.resolve("src/main/java/fixture/api/Greeter.java"), "Greeting greet(String name);",
            "Greeting greet(String name);\n\n    default fixture.internal.Secret secret() { return new fixture.internal.Secret(); }");

        NestedMaven.Run run = maven.run(project, LIMIT, "package");

        assertThat(run.exitCode()).as("the build of a leaking export must fail:%n%s", run.output()).isNotZero();
        assertThat(run.output()).as(run.output())
            .containsPattern("\\[ERROR\\] .*Export fixture\\.api, +has 1, +private references \\[fixture\\.internal\\]")
            .contains("BUILD FAILURE");
    }

    @Test
    void theSameBundleWithoutTheLeakBuilds() throws Exception {
        Path project = fixture("privateref-clean");

        NestedMaven.Run run = maven.run(project, LIMIT, "package");

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).doesNotContain("private references");
        try (JarFile jar = new JarFile(project.resolve("target/fixture.leak-" + Fixtures.VERSION + ".jar").toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Export-Package"))
                .startsWith("fixture.api;version=\"1.0.0\"");
        }
    }
}
