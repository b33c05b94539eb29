package build.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Baselining guards agent.api: a copy of the module, built with the reactor's parent pom, is compared by
 * bnd-baseline-maven-plugin with the released 1.1.0 bundle in cnf/releases (found offline, failOnMissing on). A removed
 * method fails the build with bnd's report; an addition passes with the minor bump and fails without it.
 */
class BaselineGuardIT {
    static final Duration LIMIT = Duration.ofMinutes(4);
    static final Path CONTEXT = Path.of("src/main/java/agent/api/CommandContext.java");
    static final Path PACKAGE_INFO = Path.of("src/main/java/agent/api/package-info.java");
    static NestedMaven maven;

    @BeforeAll
    static void privateRepository() throws Exception {
        assertThat(Fixtures.ROOT.resolve("cnf/releases/io/outpost/agent.api/1.1.0/agent.api-1.1.0.jar"))
            .as("the released agent.api 1.1.0 (cnf/releases/README.md)").isRegularFile();
        maven = NestedMaven.privateRepository(Fixtures.fresh("baseline-m2"), Fixtures.USER_REPOSITORY);
    }

    /** agent.api as it is in the checkout, as a project of its own under the same parent and cnf/. */
    private static Path agentApi(String name) throws Exception {
        Path project = Fixtures.fresh(name).resolve("agent.api");
        Path module = Fixtures.ROOT.resolve("agent.api");
        Fixtures.copy(module.resolve("src/main"), project.resolve("src/main"), Map.of());
        Files.writeString(project.resolve("bnd.bnd"), Files.readString(module.resolve("bnd.bnd"))
            .replace("-include: ../cnf/", "-include: " + Fixtures.ROOT.resolve("cnf") + "/"));
        Fixtures.copy(module.resolve("pom.xml"), project.resolve("pom.xml"), Map.of());
        Fixtures.edit(project.resolve("pom.xml"), "</parent>", "<relativePath>" + Fixtures.rootPomFrom(project)
            + "</relativePath></parent>");
        return project;
    }

    private static void packageVersion(Path project, String version) throws Exception {
        Path info = project.resolve(PACKAGE_INFO);
        String text = Files.readString(info);
        assertThat(text).containsPattern("@Version\\(\"[0-9.]+\"\\)");
        Files.writeString(info, text.replaceAll("@Version\\(\"[0-9.]+\"\\)", "@Version(\"" + version + "\")"));
    }

    /** A public class in agent.api: an addition, which a plugin built against it could use. */
    private static void addAType(Path project) throws Exception {
        Files.writeString(project.resolve("src/main/java/agent/api/BaselineProbe.java"), """
            package agent.api;

            /** Added by BaselineGuardIT: a new type in agent.api. */
            public final class BaselineProbe {
                public static String probe() {
                    return "probe";
                }
            }
            """);
    }

    private static String report(Path project) throws Exception {
        return Files.readString(project.resolve("target/baseline/agent.api-" + Fixtures.VERSION + ".txt"));
    }

    @Test
    void aRemovedMethodFailsTheBaselineAgainstRelease11() throws Exception {
        Path project = agentApi("baseline-removed-method");
        // CommandContext is what every handler calls: a plugin built against 1.1 that reports progress would break
        Fixtures.edit(project.resolve(CONTEXT), "void progress(Integer percent, String message);", "");

        NestedMaven.Run run = maven.run(project, LIMIT, "verify");

        assertThat(run.exitCode()).as("an incompatible agent.api must fail the build:%n%s", run.output()).isNotZero();
        assertThat(run.output()).as(run.output()).contains("The baseline version was found to be 1.1.0")
            .contains("Baseline problems detected");
        // bnd's report: the package needs a major version, and the removed method is named
        String report = report(project);
        assertThat(report).as(report).containsPattern("\\* agent\\.api +PACKAGE +MAJOR +[0-9.]+ +1\\.1\\.0 +2\\.0\\.0")
            .containsPattern("REMOVED +METHOD +progress\\(java\\.lang\\.Integer,java\\.lang\\.String\\)");
    }

    @Test
    void anAdditionWithTheMinorBumpPassesTheBaseline() throws Exception {
        Path project = agentApi("baseline-addition-bumped");
        addAType(project);
        packageVersion(project, "1.2.0"); // released 1.1.0 plus additions

        NestedMaven.Run run = maven.run(project, LIMIT, "verify");

        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("The baseline version was found to be 1.1.0").contains("Baseline check succeeded");
        assertThat(report(project)).containsPattern("  agent\\.api +PACKAGE +MINOR +1\\.2\\.0 +1\\.1\\.0 +ok");
    }

    @Test
    void anAdditionWithoutTheBumpFailsTheBaseline() throws Exception {
        Path project = agentApi("baseline-addition-unbumped");
        addAType(project);
        packageVersion(project, "1.1.0"); // as released: the addition is not announced

        NestedMaven.Run run = maven.run(project, LIMIT, "verify");

        assertThat(run.exitCode()).as(run.output()).isNotZero();
        assertThat(report(project)).containsPattern("\\* agent\\.api +PACKAGE +MINOR +1\\.1\\.0 +1\\.1\\.0 +1\\.2\\.0")
            .containsPattern("ADDED +CLASS +agent\\.api\\.BaselineProbe");
    }
}
