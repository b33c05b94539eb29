package plugin.package_.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

import agent.api.ErrorCode;
import agent.api.InvalidParamException;
import agent.api.ProcessResult;

/**
 * zypper, which this Debian machine does not have: the argument arrays built, and the parsers on {@code --xmlout}
 * documents in the shape zypper's sources write them (Summary::dumpAsXmlTo, the update lists).
 */
class ZypperTest {
    private final Runner runner = new Runner(null, List.of());
    private final Zypper z = new Zypper(runner, new PackageSettings(PackageSettings.Kind.ZYPPER, 45, null, List.of(), List.of()));

    @Test
    void argumentArrays() throws Exception {
        assertThat(z.installArgs(List.of(new Manager.Spec("nginx", null), new Manager.Spec("curl", "8.0.1-150400.5.41.1")), false, false))
            .containsExactly("zypper", "--non-interactive", "--no-color", "--xmlout", "install", "--auto-agree-with-licenses", "nginx",
                "curl=8.0.1-150400.5.41.1");
        assertThat(z.installArgs(List.of(new Manager.Spec("nginx", "1.0")), true, true))
            .containsExactly("zypper", "--non-interactive", "--no-color", "--xmlout", "install", "--auto-agree-with-licenses",
                "--oldpackage", "--dry-run", "nginx=1.0");
        assertThat(z.removeArgs(List.of("nginx"), false, true)).endsWith("remove", "--dry-run", "nginx");
        assertThat(z.upgradeArgs(List.of(), true, false)).endsWith("patch", "--category", "security", "--auto-agree-with-licenses");
        assertThat(z.upgradeArgs(List.of(new Manager.Spec("curl", null)), false, true)).endsWith("update", "--auto-agree-with-licenses", "curl", "--dry-run");
        assertThatThrownBy(() -> z.upgradeArgs(List.of(new Manager.Spec("curl", null)), true, false))
            .isInstanceOf(InvalidParamException.class).hasMessageStartingWith("param 'names' cannot be combined with securityOnly on zypper");
        assertThat(runner.environment()).containsEntry("ZYPP_LOCK_TIMEOUT", "45");
    }

    @Test
    void anInstallSummaryIsThePlan() {
        String xml = "<?xml version='1.0'?>\n<stream>\n"
            + "<message type=\"info\">Loading repository data...</message>\n"
            + "<install-summary download-size=\"1234\" space-usage-diff=\"5678\">\n"
            + "<to-upgrade>\n"
            + "<solvable type=\"package\" name=\"curl\" edition=\"8.0.1-150400.5.41.1\" arch=\"x86_64\" edition-old=\"8.0.1-150400.5.36.1\" arch-old=\"x86_64\" summary=\"A Tool for Transferring Data from URLs\"/>\n"
            + "</to-upgrade>\n"
            + "<to-install>\n"
            + "<solvable type=\"package\" name=\"nginx\" edition=\"1.21.5-150400.3.3.1\" arch=\"x86_64\" summary=\"A HTTP server\">\n<description>nginx [engine x]</description></solvable>\n"
            + "<solvable type=\"patch\" name=\"SUSE-2024-123\" edition=\"1\" arch=\"noarch\"/>\n"
            + "</to-install>\n"
            + "<to-remove>\n"
            + "<solvable type=\"package\" name=\"apache2\" edition=\"2.4.51-150400.6.3.1\" arch=\"x86_64\"/>\n"
            + "</to-remove>\n"
            + "</install-summary>\n</stream>\n";
        assertThat(ZypperOutput.plan(xml)).containsExactly(
            new Change("nginx", "x86_64", "installed", null, "1.21.5-150400.3.3.1"),
            new Change("curl", "x86_64", "upgraded", "8.0.1-150400.5.36.1", "8.0.1-150400.5.41.1"),
            new Change("apache2", "x86_64", "removed", "2.4.51-150400.6.3.1", null));
    }

    @Test
    void updatesAndSecurityPatchesAreListed() {
        String updates = "<?xml version='1.0'?>\n<stream>\n<update-status version=\"0.6\">\n<update-list>\n"
            + "<update kind=\"package\" name=\"curl\" edition=\"8.0.1-150400.5.41.1\" arch=\"x86_64\" edition-old=\"8.0.1-150400.5.36.1\">"
            + "<summary>A Tool</summary><description>d</description><license></license>"
            + "<source url=\"https://updates.suse.com/SUSE/Updates/x86_64\" alias=\"Update\"/></update>\n"
            + "</update-list>\n</update-status>\n</stream>\n";
        assertThat(ZypperOutput.updates(updates)).containsExactly(new Manager.Update("curl", "x86_64", "8.0.1-150400.5.36.1",
            "8.0.1-150400.5.41.1", null, null, List.of("Update")));
        String patches = "<?xml version='1.0'?>\n<stream>\n<update-status version=\"0.6\">\n<update-list>\n"
            + "<update kind=\"patch\" name=\"SUSE-SLE-Module-Basesystem-15-SP4-2024-123\" edition=\"1\" arch=\"noarch\" status=\"needed\""
            + " category=\"security\" severity=\"important\" pkgmanager=\"false\" restart=\"false\" interactive=\"false\">"
            + "<summary>Security update for curl</summary></update>\n"
            + "</update-list>\n</update-status>\n</stream>\n";
        assertThat(ZypperOutput.patches(patches)).containsExactly(new ZypperOutput.Patch("SUSE-SLE-Module-Basesystem-15-SP4-2024-123",
            "security", "important", "needed"));
    }

    @Test
    void anXmlDocumentWithADoctypeIsNotParsed() {
        String evil = "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><stream><install-summary><to-install>"
            + "<solvable type=\"package\" name=\"&e;\" edition=\"1\" arch=\"x\"/></to-install></install-summary></stream>";
        assertThat(ZypperOutput.plan(evil)).isEmpty();
    }

    @Test
    void exitCodesAreToldApart() {
        assertThat(z.failure(new ProcessResult(0, ""), "x")).isNull();
        assertThat(z.failure(new ProcessResult(103, ""), "x")).as("restart of zypper needed: informational").isNull();
        Manager.Failure nf = z.failure(new ProcessResult(104, "<stream><message type=\"error\">Package 'nosuch' not found.</message></stream>"
            + "\nPackage 'nosuch' not found.\n"), "installing nosuch");
        assertThat(nf.code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(nf.message()).isEqualTo("installing nosuch: no package matches 'nosuch' (check the name and version, or refresh)."
            + " Nothing was changed.");
        Manager.Failure busy = z.failure(new ProcessResult(7, "System management is locked by the application with pid 4242 (zypper).\n"
            + "Close this application before trying again.\n"), "x");
        assertThat(busy.code()).isEqualTo(ErrorCode.BUSY);
        assertThat(busy.message()).isEqualTo("the package manager is busy: System management is locked by the application with pid 4242"
            + " (zypper). Nothing was changed.");
        Manager.Failure other = z.failure(new ProcessResult(8, "<stream><message type=\"error\">Problem retrieving files</message></stream>"), "x");
        assertThat(other.code()).isEqualTo(ErrorCode.FAILED);
        assertThat(other.message()).isEqualTo("x failed with exit code 8: Problem retrieving files");
    }
}
