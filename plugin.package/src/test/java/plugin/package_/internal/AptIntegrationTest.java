package plugin.package_.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/**
 * The package actions against this host's real apt and dpkg, offline: packages built now with dpkg-deb, served from a
 * private {@code file:} repository (two versions of one package, the newer in a security suite) through a private
 * apt configuration. The packages are really installed into the host's dpkg database and purged at the end; the
 * host's own sources, lists and installed set are as they were when the class ends (checked).
 */
class AptIntegrationTest {
    static final String HELLO = "outpost-test-hello";
    static final String ADDON = "outpost-test-addon";
    static final Path DPKG_LOCK = Path.of("/var/lib/dpkg/lock-frontend");

    @TempDir
    static Path dir;
    static AptRepo apt;
    static String hostPackagesBefore;
    static List<String> hostListsBefore;

    @BeforeAll
    static void buildRepository() throws Exception {
        apt = new AptRepo(dir);
        AptRepo.purge(HELLO, ADDON); // left over by an earlier run that was killed
        hostPackagesBefore = AptRepo.hostPackages();
        hostListsBefore = listing(Path.of("/var/lib/apt/lists"));
        apt.suite("outpost-test", "Outpost-Test", new AptRepo.Deb(HELLO, "1.0", null), new AptRepo.Deb(ADDON, "1.0", HELLO));
        apt.suite("outpost-test-security", "Outpost-Test-Security", new AptRepo.Deb(HELLO, "2.0", null));
    }

    @AfterAll
    static void hostIsAsItWas() throws Exception {
        AptRepo.purge(HELLO, ADDON);
        assertThat(AptRepo.hostPackages()).as("the host's installed set").isEqualTo(hostPackagesBefore);
        assertThat(listing(Path.of("/var/lib/apt/lists"))).as("the host's apt lists").isEqualTo(hostListsBefore);
    }

    @AfterEach
    void purge() throws Exception { AptRepo.purge(HELLO, ADDON); }

    private static List<String> listing(Path d) throws Exception {
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString() + " " + p.toFile().lastModified()).sorted().toList();
        }
    }

    private static TestContext ctx(String action, Map<String, ?> params) {
        return TestContext.forAction(action).params(params).setting("manager", "apt").setting("apt_config", apt.aptConf.toString())
            .setting("lock_wait_seconds", 3);
    }

    private static Map<String, Object> ok(Outcome o) {
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        o.json();
        return o.dataAsMap();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Map<String, Object> d, String key) { return (List<Map<String, Object>>) d.get(key); }

    private static Map<String, Object> change(String name, String action, String from, String to) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("name", name);
        m.put("architecture", "all");
        m.put("action", action);
        m.put("from", from);
        m.put("to", to);
        return m;
    }

    @Test
    void installListUpdatesSecurityUpgradeAndRemoveForReal() throws Exception {
        // a dry run before the lists exist cannot know the package; refresh: the first real install fetches them
        Map<String, Object> installed = ok(ctx("package.install", Map.of("names", List.of(HELLO), "versions", Map.of(HELLO, "1.0")))
            .run(new PackageInstaller()));
        assertThat(installed).containsEntry("manager", "apt").containsEntry("changed", true).containsEntry("alreadyInstalled", List.of())
            .containsKey("rebootRequired");
        assertThat(list(installed, "packages")).containsExactly(change(HELLO, "installed", null, "1.0"));
        assertThat(AptRepo.installedVersion(HELLO)).isEqualTo("1.0");

        Map<String, Object> listed = ok(ctx("package.list", Map.of("names", List.of("outpost-test-*"))).run(new PackageLister()));
        assertThat(list(listed, "packages")).containsExactly(Map.of("name", HELLO, "version", "1.0", "architecture", "all"));

        Outcome again = ctx("package.install", Map.of("names", List.of(HELLO), "versions", Map.of(HELLO, "1.0"))).run(new PackageInstaller());
        assertThat(ok(again)).containsEntry("changed", false).containsEntry("alreadyInstalled", List.of(HELLO)).containsEntry("packages", List.of());
        assertThat(again.executed()).as("only the installed set was read").allSatisfy(argv -> assertThat(argv.get(0)).endsWith("dpkg-query"));

        Map<String, Object> updates = ok(ctx("package.updates", Map.of()).run(new PackageUpdates()));
        assertThat(updates).containsEntry("refreshed", true).containsEntry("count", 1).containsEntry("securityCount", 1);
        assertThat(list(updates, "updates")).containsExactly(Map.of("name", HELLO, "architecture", "all", "installed", "1.0",
            "candidate", "2.0", "security", true, "securityVersion", "2.0", "origins", List.of("Outpost-Test-Security:outpost-test-security")));

        Outcome dryUpgrade = ctx("package.upgrade", Map.of("names", List.of(HELLO), "securityOnly", true)).dryRun(true).run(new PackageUpgrader());
        assertThat(ok(dryUpgrade)).containsEntry("changed", true).containsEntry("dryRun", true);
        assertThat(list(dryUpgrade.dataAsMap(), "packages")).containsExactly(change(HELLO, "upgraded", "1.0", "2.0"));
        assertThat(dryUpgrade.executed()).anySatisfy(argv -> assertThat(argv).contains("-s", "--only-upgrade", HELLO + "=2.0"));
        assertThat(AptRepo.installedVersion(HELLO)).as("a dry run changes nothing").isEqualTo("1.0");

        Map<String, Object> upgraded = ok(ctx("package.upgrade", Map.of("names", List.of(HELLO), "securityOnly", true)).run(new PackageUpgrader()));
        assertThat(list(upgraded, "packages")).containsExactly(change(HELLO, "upgraded", "1.0", "2.0"));
        assertThat(AptRepo.installedVersion(HELLO)).isEqualTo("2.0");
        assertThat(list(ok(ctx("package.updates", Map.of("refresh", false)).run(new PackageUpdates())), "updates")).isEmpty();

        ok(ctx("package.install", Map.of("names", List.of(ADDON), "refresh", false)).run(new PackageInstaller()));
        Outcome refused = ctx("package.remove", Map.of("names", List.of(HELLO))).run(new PackageRemover());
        assertThat(refused.status()).isEqualTo(Status.REJECTED);
        assertThat(refused.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(refused.error()).isEqualTo("removing " + HELLO + " would also remove " + ADDON + ", which depend on them; give"
            + " removeDependents: true to remove them too. Nothing was changed.");
        assertThat(AptRepo.installedVersion(ADDON)).isEqualTo("1.0");

        Outcome dryRemove = ctx("package.remove", Map.of("names", List.of(HELLO), "removeDependents", true, "purge", true)).dryRun(true)
            .run(new PackageRemover());
        assertThat(list(ok(dryRemove), "packages")).extracting(m -> m.get("name")).containsExactlyInAnyOrder(HELLO, ADDON);
        assertThat(AptRepo.installedVersion(HELLO)).isEqualTo("2.0");

        Map<String, Object> removed = ok(ctx("package.remove", Map.of("names", List.of(HELLO), "removeDependents", true, "purge", true))
            .run(new PackageRemover()));
        assertThat(list(removed, "packages")).containsExactlyInAnyOrder(change(HELLO, "removed", "2.0", null), change(ADDON, "removed", "1.0", null));
        assertThat(AptRepo.installedVersion(HELLO)).isNull();
        Map<String, Object> twice = ok(ctx("package.remove", Map.of("names", List.of(HELLO))).run(new PackageRemover()));
        assertThat(twice).containsEntry("changed", false).containsEntry("notInstalled", List.of(HELLO));
    }

    @Test
    void aDryRunOfAnInstallSaysWhatWouldComeAndInstallsNothing() throws Exception {
        ok(ctx("package.updates", Map.of()).run(new PackageUpdates())); // fresh lists
        Outcome o = ctx("package.install", Map.of("names", List.of(ADDON))).dryRun(true).run(new PackageInstaller());
        assertThat(list(ok(o), "packages")).containsExactlyInAnyOrder(change(HELLO, "installed", null, "2.0"), change(ADDON, "installed", null, "1.0"));
        assertThat(o.dataAsMap()).containsEntry("changed", true).containsEntry("dryRun", true);
        assertThat(o.output()).contains("(a dry run does not refresh the package lists)");
        assertThat(o.executed()).noneSatisfy(argv -> assertThat(argv).contains("update"));
        assertThat(AptRepo.installedVersion(HELLO)).isNull();
        assertThat(AptRepo.installedVersion(ADDON)).isNull();
    }

    @Test
    void theInventoryChecksumSaysWhenTheSetChanged() throws Exception {
        Map<String, Object> first = ok(ctx("package.inventory", Map.of()).run(new PackageLister()));
        String sum = (String) first.get("checksum");
        assertThat(sum).startsWith("sha256:");
        assertThat(list(first, "packages")).isNotEmpty();
        Map<String, Object> same = ok(ctx("package.inventory", Map.of("ifChanged", sum)).run(new PackageLister()));
        assertThat(same).containsEntry("changed", false).containsEntry("checksum", sum).doesNotContainKey("packages");
        ok(ctx("package.install", Map.of("names", List.of(HELLO))).run(new PackageInstaller()));
        Map<String, Object> after = ok(ctx("package.inventory", Map.of("ifChanged", sum)).run(new PackageLister()));
        assertThat(after).containsEntry("changed", true);
        assertThat(after.get("checksum")).isNotEqualTo(sum);
        assertThat(list(after, "packages")).anySatisfy(p -> assertThat(p).containsEntry("name", HELLO).containsEntry("version", "2.0"));
    }

    @Test
    void namesWithShellCharactersAreRejectedBeforeAnythingRuns() {
        for (Map<String, Object> params : List.<Map<String, Object>>of(
                Map.of("names", List.of(HELLO + "; touch /tmp/pwned")),
                Map.of("names", List.of("$(reboot)")),
                Map.of("names", List.of("-oAPT::Get::Simulate=false")),
                Map.of("names", List.of(HELLO), "versions", Map.of(HELLO, "1.0 && reboot")))) {
            Outcome o = ctx("package.install", params).run(new PackageInstaller());
            assertThat(o.status()).as(params.toString()).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).isEqualTo(ErrorCode.INVALID_PARAM);
            assertThat(o.error()).matches("param '(names|versions)' '.*' is not a Debian (package name|version).*");
            assertThat(o.executed()).as("nothing was run").isEmpty();
        }
        Outcome list = ctx("package.list", Map.of("names", List.of("a b"))).run(new PackageLister());
        assertThat(list.status()).isEqualTo(Status.REJECTED);
        assertThat(list.executed()).isEmpty();
    }

    @Test
    void aPackageThatDoesNotExistFailsNamingIt() throws Exception {
        Outcome o = ctx("package.install", Map.of("names", List.of(HELLO, "outpost-test-nonexistent"))).run(new PackageInstaller());
        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(o.error()).contains("package 'outpost-test-nonexistent' is not known to apt").endsWith("Nothing was changed.");
        assertThat(AptRepo.installedVersion(HELLO)).as("apt installs all or nothing").isNull();
        Outcome version = ctx("package.install", Map.of("names", List.of(HELLO), "versions", Map.of(HELLO, "9.9"), "refresh", false))
            .run(new PackageInstaller());
        assertThat(version.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(version.error()).contains("version '9.9' of package '" + HELLO + "' is not available");
    }

    @Test
    void theAptLockHeldElsewhereIsWaitedForThenReportedNamingItsHolder() throws Exception {
        assertThat(DPKG_LOCK).as("dpkg's frontend lock file").exists();
        Process holder = LockHolder.start(DPKG_LOCK, 60_000);
        Outcome o;
        long t0 = System.nanoTime();
        try {
            o = ctx("package.install", Map.of("names", List.of(HELLO), "refresh", false)).run(new PackageInstaller());
        } finally {
            holder.destroy();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(System.nanoTime() - t0).as("waited lock_wait_seconds (3 s)").isGreaterThan(TimeUnit.SECONDS.toNanos(3));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.BUSY);
        assertThat(o.error()).isEqualTo("the package manager is busy: " + DPKG_LOCK + " is held by pid " + holder.pid() + " (java);"
            + " waited 3 s (plugins.settings.package.lock_wait_seconds). Nothing was changed.");
        assertThat(o.output()).contains("waiting (at most 3 s) for the package manager's lock");
        assertThat(o.executed()).noneSatisfy(argv -> assertThat(argv.get(0)).endsWith("apt-get"));
        assertThat(AptRepo.installedVersion(HELLO)).isNull();
    }

    @Test
    void aLockReleasedWithinTheWaitLetsTheInstallGoOn() throws Exception {
        Process holder = LockHolder.start(DPKG_LOCK, 1_500);
        Outcome o = ctx("package.install", Map.of("names", List.of(HELLO), "refresh", false)).setting("lock_wait_seconds", 60)
            .run(new PackageInstaller());
        holder.waitFor(10, TimeUnit.SECONDS);
        assertThat(ok(o)).containsEntry("changed", true);
        assertThat(o.output()).contains("is held by pid " + holder.pid()).contains("the package manager's lock is free now");
        assertThat(AptRepo.installedVersion(HELLO)).isEqualTo("2.0");
    }

    @Test
    void anOlderVersionIsADowngradeOnlyWhenAskedFor() throws Exception {
        ok(ctx("package.install", Map.of("names", List.of(HELLO))).run(new PackageInstaller()));
        Outcome refused = ctx("package.install", Map.of("names", List.of(HELLO), "versions", Map.of(HELLO, "1.0"), "refresh", false))
            .run(new PackageInstaller());
        assertThat(refused.status()).isEqualTo(Status.REJECTED);
        assertThat(refused.error()).isEqualTo("param 'versions': " + HELLO + " 1.0 is older than the installed 2.0; give allowDowngrade:"
            + " true to downgrade it. Nothing was changed.");
        Map<String, Object> down = ok(ctx("package.install", Map.of("names", List.of(HELLO), "versions", Map.of(HELLO, "1.0"),
            "refresh", false, "allowDowngrade", true)).run(new PackageInstaller()));
        assertThat(list(down, "packages")).containsExactly(change(HELLO, "downgraded", "2.0", "1.0"));
    }
}
