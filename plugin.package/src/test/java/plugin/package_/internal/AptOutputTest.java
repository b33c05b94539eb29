package plugin.package_.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** apt's outputs as this machine's apt 2.6 and dpkg 1.21 print them (LC_ALL=C), parsed. */
class AptOutputTest {
    @Test
    void dpkgQueryListsInstalledPackagesAndSkipsRemovedOnes() {
        String out = "acl\t2.3.1-3\tamd64\tii \n"
            + "adduser\t3.134\tall\tii \n"
            + "oldpkg\t1.0\tamd64\trc \n"
            + "broken\t2.0\tamd64\tiF \n"
            + "libc6\t2.36-9+deb12u4\ti386\tii \n";
        assertThat(AptOutput.installed(out)).containsExactly(
            new Pkg("acl", "2.3.1-3", "amd64", null),
            new Pkg("adduser", "3.134", "all", null),
            new Pkg("broken", "2.0", "amd64", "half-configured"),
            new Pkg("libc6", "2.36-9+deb12u4", "i386", null));
    }

    @Test
    void aSimulationGivesEachChangeWithItsVersions() {
        String out = "Reading package lists...\n"
            + "Building dependency tree...\n"
            + "The following packages will be upgraded:\n  libc6 outpost-test-hello\n"
            + "Inst libc6 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian:12.5/stable, Debian-Security:12/stable-security [amd64]) []\n"
            + "Inst outpost-test-hello (1.0 Outpost-Test:outpost-test [all])\n"
            + "Inst old-tool [2.0] (1.5 Outpost-Test:outpost-test [all])\n"
            + "Inst libfoo:i386 (3.1-1 Debian:12.5/stable [i386])\n"
            + "Conf libc6 (2.36-9+deb12u4 Debian:12.5/stable, Debian-Security:12/stable-security [amd64])\n"
            + "Remv nano [7.2-1]\n"
            + "Purg vim-tiny [2:9.0.1378-2]\n";
        assertThat(AptOutput.plan(out)).containsExactly(
            new Change("libc6", "amd64", "upgraded", "2.36-9+deb12u3", "2.36-9+deb12u4"),
            new Change("outpost-test-hello", "all", "installed", null, "1.0"),
            new Change("old-tool", "all", "downgraded", "2.0", "1.5"),
            new Change("libfoo", "i386", "installed", null, "3.1-1"),
            new Change("nano", null, "removed", "7.2-1", null),
            new Change("vim-tiny", null, "removed", "2:9.0.1378-2", null));
        assertThat(AptOutput.upgradable(out)).extracting(AptOutput.Upgradable::name).containsExactly("libc6", "old-tool");
        assertThat(AptOutput.upgradable(out).get(0).release()).isEqualTo("Debian:12.5/stable, Debian-Security:12/stable-security");
    }

    @Test
    void policyGivesEachVersionsSourcesAndTheReleasesTellSecurity() {
        String perPackage = "outpost-proto:\n"
            + "  Installed: 1.0\n"
            + "  Candidate: 2.0\n"
            + "  Version table:\n"
            + "     2.0 500\n"
            + "        500 file:/tmp/aptproto/repo outpost-proto-security/main amd64 Packages\n"
            + " *** 1.0 500\n"
            + "        500 file:/tmp/aptproto/repo outpost-proto/main amd64 Packages\n"
            + "        100 /var/lib/dpkg/status\n"
            + "bash:\n"
            + "  Installed: 5.2.15-2+b8\n"
            + "  Candidate: 5.2.15-2+b8\n"
            + "  Version table:\n"
            + " *** 5.2.15-2+b8 100\n"
            + "        100 /var/lib/dpkg/status\n";
        Map<String, AptOutput.Policy> p = AptOutput.policies(perPackage);
        assertThat(p.get("outpost-proto").installed()).isEqualTo("1.0");
        assertThat(p.get("outpost-proto").candidate()).isEqualTo("2.0");
        assertThat(p.get("outpost-proto").sources()).containsExactly(
            Map.entry("2.0", List.of("file:/tmp/aptproto/repo outpost-proto-security/main amd64 Packages")),
            Map.entry("1.0", List.of("file:/tmp/aptproto/repo outpost-proto/main amd64 Packages", "/var/lib/dpkg/status")));
        assertThat(p.get("bash").sources()).containsOnlyKeys("5.2.15-2+b8");

        String global = "Package files:\n"
            + " 100 /var/lib/dpkg/status\n"
            + "     release a=now\n"
            + " 500 file:/tmp/aptproto/repo outpost-proto-security/main amd64 Packages\n"
            + "     release o=Outpost,a=outpost-proto-security,n=outpost-proto-security,l=Outpost-Proto-Security,c=main,b=amd64\n"
            + " 500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"
            + "     release v=12,o=Debian,a=stable-security,n=bookworm-security,l=Debian-Security,c=main,b=amd64\n"
            + "     origin deb.debian.org\n"
            + " 500 http://deb.debian.org/debian bookworm/main amd64 Packages\n"
            + "     release v=12.5,o=Debian,a=stable,n=bookworm,l=Debian,c=main,b=amd64\n"
            + "     origin deb.debian.org\n"
            + "Pinned packages:\n";
        Map<String, Map<String, String>> r = AptOutput.releases(global);
        assertThat(r).hasSize(4);
        assertThat(AptOutput.isSecurity(r.get("file:/tmp/aptproto/repo outpost-proto-security/main amd64 Packages"))).isTrue();
        assertThat(AptOutput.isSecurity(r.get("http://deb.debian.org/debian-security bookworm-security/main amd64 Packages"))).isTrue();
        assertThat(AptOutput.isSecurity(r.get("http://deb.debian.org/debian bookworm/main amd64 Packages"))).isFalse();
        assertThat(AptOutput.isSecurity(r.get("/var/lib/dpkg/status"))).isFalse();
        assertThat(AptOutput.originName("x", r.get("http://deb.debian.org/debian-security bookworm-security/main amd64 Packages")))
            .isEqualTo("Debian-Security:stable-security");
        // Ubuntu labels its security pocket "Ubuntu": the suite tells
        assertThat(AptOutput.isSecurity(Map.of("o", "Ubuntu", "a", "jammy-security", "l", "Ubuntu"))).isTrue();
    }

    @Test
    void aptConfigShellGivesTheDirectories() {
        assertThat(AptOutput.shell("STATUS='/var/lib/dpkg/status'\nLISTS='/tmp/it'\\''s/lists/'\nARCHIVES='/var/cache/apt/archives/'\n"))
            .containsEntry("STATUS", "/var/lib/dpkg/status").containsEntry("LISTS", "/tmp/it's/lists/")
            .containsEntry("ARCHIVES", "/var/cache/apt/archives/");
    }

    @Test
    void failuresAreToldApart() {
        Apt apt = new Apt(new Runner(null, List.of()), PackageSettings.defaults());
        Manager.Failure missing = apt.failure(new agent.api.ProcessResult(100, "Reading package lists...\n"
            + "E: Unable to locate package nonexistent-pkg\nE: Version '9.9' for 'outpost-proto' was not found\n"), "installing x");
        assertThat(missing.code()).isEqualTo(agent.api.ErrorCode.NOT_FOUND);
        assertThat(missing.message()).isEqualTo("installing x: package 'nonexistent-pkg' is not known to apt; version '9.9' of package"
            + " 'outpost-proto' is not available (refresh the package lists, or check the name). Nothing was changed.");
        Manager.Failure busy = apt.failure(new agent.api.ProcessResult(100, "E: Could not get lock /var/lib/dpkg/lock-frontend. It is"
            + " held by process 950 (java)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another"
            + " process using it?\n"), "installing x");
        assertThat(busy.code()).isEqualTo(agent.api.ErrorCode.BUSY);
        assertThat(busy.message()).contains("It is held by process 950 (java)");
        Manager.Failure other = apt.failure(new agent.api.ProcessResult(100, "E: Sub-process /usr/bin/dpkg returned an error code (1)\n"), "installing x");
        assertThat(other.code()).isEqualTo(agent.api.ErrorCode.FAILED);
        assertThat(other.message()).isEqualTo("installing x failed with exit code 100: Sub-process /usr/bin/dpkg returned an error code (1)");
        assertThat(apt.failure(new agent.api.ProcessResult(0, "ok"), "x")).isNull();
    }

    @Test
    void theArgumentArraysAreTheNonInteractiveOnes() {
        Apt apt = new Apt(new Runner(null, List.of()), new PackageSettings(PackageSettings.Kind.APT, 30, null,
            List.of("Acquire::Retries=3"), List.of()));
        assertThat(apt.installArgs(List.of(new Manager.Spec("nginx", null), new Manager.Spec("curl", "7.88.1-10+deb12u5")), false, false))
            .containsExactly("apt-get", "-q", "-y", "-o", "DPkg::Lock::Timeout=30", "-o", "Dpkg::Options::=--force-confdef",
                "-o", "Dpkg::Options::=--force-confold", "-o", "Acquire::Retries=3", "install", "--no-remove", "nginx",
                "curl=7.88.1-10+deb12u5");
        assertThat(apt.installArgs(List.of(new Manager.Spec("nginx", "1.0")), true, true))
            .containsExactly("apt-get", "-q", "-s", "-o", "Acquire::Retries=3", "install", "--no-remove", "--allow-downgrades", "nginx=1.0");
        assertThat(apt.removeArgs(List.of("nginx"), true, false)).endsWith("purge", "nginx");
        assertThat(apt.upgradeArgs(List.of(), false, false)).endsWith("upgrade", "--with-new-pkgs");
        assertThat(apt.upgradeArgs(List.of(new Manager.Spec("libc6", "2.36-9+deb12u4")), true, true))
            .endsWith("install", "--only-upgrade", "--no-remove", "libc6=2.36-9+deb12u4");
        assertThat(apt.refreshArgs()).containsExactly("apt-get", "-q", "-o", "Acquire::Retries=3", "update");
        Runner r = new Runner(null, List.of());
        new Apt(r, new PackageSettings(PackageSettings.Kind.APT, 30, java.nio.file.Path.of("/tmp/apt.conf"), List.of(), List.of()));
        assertThat(r.environment()).containsEntry("DEBIAN_FRONTEND", "noninteractive").containsEntry("NEEDRESTART_MODE", "l")
            .containsEntry("APT_LISTCHANGES_FRONTEND", "none").containsEntry("UCF_FORCE_CONFFOLD", "1")
            .containsEntry("APT_CONFIG", "/tmp/apt.conf").containsEntry("LC_ALL", "C");
    }
}
