package plugin.package_.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import agent.api.ErrorCode;
import agent.api.ProcessResult;

/**
 * dnf and yum, which this Debian machine does not have: the argument arrays built, and the parsers on outputs written
 * in the format dnf 4 and dnf 5 print (LC_ALL=C), column layout, wrapped long names and all.
 */
class DnfTest {
    private static Dnf dnf(Dnf.Flavour f) {
        return new Dnf(new Runner(null, List.of()), new PackageSettings(PackageSettings.Kind.DNF, 60, null, List.of(),
            List.of("install_weak_deps=False")), f);
    }

    @Test
    void argumentArrays() {
        Dnf d = dnf(Dnf.Flavour.DNF4);
        assertThat(d.installArgs(List.of(new Manager.Spec("nginx", null), new Manager.Spec("curl", "7.76.1-26.el9")), false, false))
            .containsExactly("dnf", "-y", "--setopt=exit_on_lock=True", "--setopt=install_weak_deps=False", "install", "nginx",
                "curl-7.76.1-26.el9");
        assertThat(d.installArgs(List.of(new Manager.Spec("nginx", null)), true, false))
            .containsExactly("dnf", "--assumeno", "--setopt=exit_on_lock=True", "--setopt=install_weak_deps=False", "install", "nginx");
        assertThat(d.removeArgs(List.of("nginx"), true, false)).endsWith("remove", "nginx");
        assertThat(d.upgradeArgs(List.of(), true, false)).endsWith("upgrade", "--security");
        assertThat(d.upgradeArgs(List.of(new Manager.Spec("openssl", null)), false, true)).contains("--assumeno").endsWith("upgrade", "openssl");
        assertThat(d.refreshArgs()).containsExactly("dnf", "-q", "--setopt=install_weak_deps=False", "makecache", "--refresh");
        assertThat(d.checkUpdateArgs(true)).containsExactly("dnf", "-q", "--setopt=install_weak_deps=False", "--security", "check-update");
        assertThat(dnf(Dnf.Flavour.DNF5).checkUpdateArgs(true)).containsExactly("dnf", "-q", "--setopt=install_weak_deps=False",
            "check-upgrade", "--security");
        assertThat(dnf(Dnf.Flavour.DNF5).installArgs(List.of(new Manager.Spec("x", null)), false, false)).doesNotContain("--setopt=exit_on_lock=True");
        assertThat(dnf(Dnf.Flavour.YUM).installArgs(List.of(new Manager.Spec("x", null)), false, false))
            .containsExactly("yum", "-y", "--setopt=install_weak_deps=False", "install", "x");
    }

    @Test
    void checkUpdateListsUpgradesAndJoinsWrappedNames() {
        String out = "\n"
            + "kernel.x86_64                           5.14.0-362.18.1.el9_3              baseos\n"
            + "openssl.x86_64                          1:3.0.7-25.el9_3                   baseos\n"
            + "python3-some-very-long-package-name-for-wrapping.noarch\n"
            + "                                        2.1.0-3.el9                        appstream\n"
            + "Obsoleting Packages\n"
            + "grub2-tools.x86_64                      1:2.06-70.el9_3.2                  baseos\n"
            + "    grub2-tools.x86_64                  1:2.06-70.el9_3.1                  @baseos\n";
        assertThat(DnfOutput.checkUpdate(out)).containsExactly(
            new DnfOutput.Available("kernel", "x86_64", "5.14.0-362.18.1.el9_3", "baseos"),
            new DnfOutput.Available("openssl", "x86_64", "1:3.0.7-25.el9_3", "baseos"),
            new DnfOutput.Available("python3-some-very-long-package-name-for-wrapping", "noarch", "2.1.0-3.el9", "appstream"));
        assertThat(DnfOutput.checkUpdate("Last metadata expiration check: 0:10:02 ago on Mon 01 Jan 2024 10:00:00 AM UTC.\n")).isEmpty();
    }

    @Test
    void aDnf4TransactionTableIsThePlan() {
        String out = "Last metadata expiration check: 0:08:16 ago on Wed Jul  6 18:01:05 2022.\n"
            + "Dependencies resolved.\n"
            + "================================================================================\n"
            + " Package               Arch      Version                  Repository      Size\n"
            + "================================================================================\n"
            + "Installing:\n"
            + " nginx                 x86_64    1:1.20.1-14.el9_2.1      appstream       36 k\n"
            + "Upgrading:\n"
            + " curl                  x86_64    7.76.1-26.el9_3.2        baseos         294 k\n"
            + "Installing dependencies:\n"
            + " nginx-filesystem      noarch    1:1.20.1-14.el9_2.1      appstream      8.5 k\n"
            + " python3-some-very-long-package-name-for-wrapping\n"
            + "                       noarch    2.1.0-3.el9              appstream       20 k\n"
            + "Removing dependent packages:\n"
            + " old-plugin            x86_64    0.9-1.el9                @System         10 k\n"
            + "\n"
            + "Transaction Summary\n"
            + "================================================================================\n"
            + "Install  3 Packages\n"
            + "Upgrade  1 Package\n"
            + "Remove   1 Package\n"
            + "\n"
            + "Total download size: 1.2 M\n"
            + "Operation aborted.\n";
        assertThat(DnfOutput.plan(out)).containsExactly(
            new Change("nginx", "x86_64", "installed", null, "1:1.20.1-14.el9_2.1"),
            new Change("curl", "x86_64", "upgraded", null, "7.76.1-26.el9_3.2"),
            new Change("nginx-filesystem", "noarch", "installed", null, "1:1.20.1-14.el9_2.1"),
            new Change("python3-some-very-long-package-name-for-wrapping", "noarch", "installed", null, "2.1.0-3.el9"),
            new Change("old-plugin", "x86_64", "removed", "0.9-1.el9", null));
        assertThat(dnf(Dnf.Flavour.DNF4).simulationSucceeded(new ProcessResult(1, out))).isTrue();
    }

    @Test
    void aDnf5TransactionNamesWhatAnUpgradeReplaces() {
        String out = "Updating and loading repositories:\n"
            + "Repositories loaded.\n"
            + "Package                 Arch    Version              Repository        Size\n"
            + "Upgrading:\n"
            + " curl                   x86_64  8.6.0-10.fc40        updates      452.9 KiB\n"
            + "   replacing curl       x86_64  8.6.0-8.fc40         updates      452.8 KiB\n"
            + "\n"
            + "Transaction Summary:\n"
            + " Upgrading:          1 package\n"
            + " Replacing:          1 package\n"
            + "Operation aborted by the user.\n";
        assertThat(DnfOutput.plan(out)).containsExactly(new Change("curl", "x86_64", "upgraded", "8.6.0-8.fc40", "8.6.0-10.fc40"));
    }

    @Test
    void failuresAreToldApart() {
        Dnf d = dnf(Dnf.Flavour.DNF4);
        Manager.Failure nf = d.failure(new ProcessResult(1, "Last metadata expiration check: 0:01:02 ago.\nNo match for argument: nosuch\n"
            + "Error: Unable to find a match: nosuch\n"), "installing nosuch");
        assertThat(nf.code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(nf.message()).isEqualTo("installing nosuch: no package matches 'nosuch' (check the name and version, or refresh)."
            + " Nothing was changed.");
        assertThat(d.simulationSucceeded(new ProcessResult(1, "No match for argument: nosuch\nError: Unable to find a match: nosuch\n"))).isFalse();
        Manager.Failure busy = d.failure(new ProcessResult(200, "Error: metadata already locked by 4242\n"), "x");
        assertThat(busy.code()).isEqualTo(ErrorCode.BUSY);
        assertThat(busy.message()).contains("metadata already locked by 4242");
        Manager.Failure rpmLock = d.failure(new ProcessResult(1, "error: can't create transaction lock on /var/lib/rpm/.rpm.lock"
            + " (Resource temporarily unavailable)\n"), "x");
        assertThat(rpmLock.code()).isEqualTo(ErrorCode.BUSY);
        Manager.Failure other = d.failure(new ProcessResult(1, "Error: Transaction test error:\n  file /x conflicts\n"), "installing x");
        assertThat(other.code()).isEqualTo(ErrorCode.FAILED);
        assertThat(other.message()).isEqualTo("installing x failed with exit code 1: Transaction test error:");
    }

    @Test
    void rpmListsTheInstalledSetWithEpochsAndWithoutKeys() {
        String out = "bash\t5.1.8-6.el9_1\tx86_64\n"
            + "openssl\t1:3.0.7-25.el9_3\tx86_64\n"
            + "gpg-pubkey\t8483c65d-5ccc5b19\t(none)\n"
            + "tzdata\t2024a-1.el9\tnoarch\n";
        assertThat(RpmOutput.installed(out)).containsExactly(new Pkg("bash", "5.1.8-6.el9_1", "x86_64", null),
            new Pkg("openssl", "1:3.0.7-25.el9_3", "x86_64", null), new Pkg("tzdata", "2024a-1.el9", "noarch", null));
    }
}
