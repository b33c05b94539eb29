package plugin.timezone.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import agent.api.InvalidParamException;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** Both actions through the test kit, on a temp root with copies of real zone files. */
class TimezoneActionsTest {
    private static final String JVM = ZoneId.systemDefault().getId();
    /** Stands in for systemd's timedatectl: records its arguments, then does what set-timezone does. */
    private static final String TIMEDATECTL = "#!/bin/sh\n"
        + "root=$(dirname \"$0\")/../..\n"
        + "echo \"$@\" >> \"$root/timedatectl.args\"\n"
        + "[ \"$1\" = set-timezone ] || exit 1\n"
        + "ln -sfn \"../usr/share/zoneinfo/$2\" \"$root/etc/localtime\"\n";

    @TempDir
    Path tmp;
    FakeRoot host;

    @BeforeEach
    void setUp() throws Exception {
        host = new FakeRoot(tmp.resolve("root"));
    }

    private Outcome get() {
        return TestContext.forAction("timezone.get").setting("root", host.root.toString()).run(new TimezoneReader());
    }

    private Outcome set(Object zone) {
        return TestContext.forAction("timezone.set").param("zone", zone).setting("root", host.root.toString())
            .run(new TimezoneSetter());
    }

    private static Map<String, Object> succeeded(Outcome o) {
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        return o.dataAsMap();
    }

    // ---- timezone.get ----

    @Test
    void getReportsTheLinkEtcTimezoneAndTheJvmAsJson() throws Exception {
        host.link("../usr/share/zoneinfo/Europe/Paris").etcTimezone("Europe/Paris\n");

        Outcome o = get();

        String offset = ZoneId.of("Europe/Paris").getRules().getOffset(Instant.now()).getId();
        assertThat(succeeded(o)).containsEntry("zone", "Europe/Paris").containsEntry("source", "/etc/localtime")
            .containsEntry("utcOffset", offset).containsEntry("etcTimezone", "Europe/Paris").containsEntry("jvm", JVM)
            .containsEntry("consistent", true).containsEntry("root", host.root.toString())
            .containsEntry("localtime", Map.of("type", "link", "target", "../usr/share/zoneinfo/Europe/Paris", "zone", "Europe/Paris"));
        assertThat(o.json().getAsJsonObject("data").getAsJsonObject("localtime").get("zone").getAsString()).isEqualTo("Europe/Paris");
        assertThat(o.output()).startsWith("Europe/Paris (UTC" + offset + ", from /etc/localtime); /etc/localtime -> ../usr");
        assertThat(o.executed()).isEmpty();
    }

    @ParameterizedTest(name = "/etc/localtime -> {0} is {1}")
    @CsvSource({
        "/usr/share/zoneinfo/America/New_York, America/New_York",
        "../usr/share/zoneinfo/posix/Asia/Kolkata, Asia/Kolkata",
        "/usr/share/zoneinfo/UTC, UTC",
        "/var/db/timezone/zoneinfo/Etc/UTC, Etc/UTC"})
    void getReadsTheZoneFromAbsoluteRelativeAndPosixLinks(String target, String zone) throws Exception {
        host.link(target);

        Map<String, Object> data = succeeded(get());

        assertThat(data).containsEntry("zone", zone).containsEntry("source", "/etc/localtime").containsEntry("etcTimezone", null)
            .containsEntry("consistent", true);
    }

    @Test
    void aCopiedLocaltimeIsRecognisedByComparingItWithEtcTimezonesZone() throws Exception {
        host.copy("Asia/Kolkata").etcTimezone("# set by the installer\nAsia/Kolkata\n");

        assertThat(succeeded(get())).containsEntry("zone", "Asia/Kolkata").containsEntry("source", "/etc/localtime")
            .containsEntry("consistent", true)
            .containsEntry("localtime", localtime("file", null, "Asia/Kolkata"));

        host.etcTimezone("America/New_York\n"); // stale: the copy is not New York's
        Map<String, Object> stale = succeeded(get());
        assertThat(stale).containsEntry("zone", "America/New_York").containsEntry("source", "/etc/timezone")
            .containsEntry("consistent", false);
        assertThat(stale.get("localtime")).isEqualTo(localtime("file", null, null));
    }

    @Test
    void withNeitherFileTheJvmsViewIsTheAnswer() throws Exception {
        Map<String, Object> data = succeeded(get());

        assertThat(data).containsEntry("zone", JVM).containsEntry("source", "jvm").containsEntry("consistent", true)
            .containsEntry("localtime", localtime("missing", null, null));
    }

    @Test
    void aLinkAndEtcTimezoneThatDisagreeAreReportedAsInconsistent() throws Exception {
        host.link("../usr/share/zoneinfo/Europe/Paris").etcTimezone("UTC\n");

        Outcome o = get();

        assertThat(succeeded(o)).containsEntry("zone", "Europe/Paris").containsEntry("consistent", false);
        assertThat(o.output()).endsWith("; the host's records disagree\n");
    }

    // ---- timezone.set without systemd ----

    @Test
    void setReplacesTheLinkAndWritesEtcTimezoneThenHasNothingToDo() throws Exception {
        host.link("/usr/share/zoneinfo/Etc/UTC").etcTimezone("Etc/UTC\n");

        Outcome o = set("Europe/Paris");

        assertThat(succeeded(o)).containsEntry("zone", "Europe/Paris").containsEntry("previous", "Etc/UTC")
            .containsEntry("changed", true).containsEntry("method", "symlink")
            .containsEntry("localtime", "../usr/share/zoneinfo/Europe/Paris").containsEntry("etcTimezone", "Europe/Paris");
        assertThat(host.linkTarget()).isEqualTo("../usr/share/zoneinfo/Europe/Paris");
        assertThat(Files.readAllBytes(host.etc.resolve("localtime"))) // the link resolves inside the root
            .isEqualTo(Files.readAllBytes(host.zoneinfo.resolve("Europe/Paris")));
        assertThat(host.etcTimezone()).isEqualTo("Europe/Paris\n");
        assertThat(Files.getPosixFilePermissions(host.etc.resolve("timezone"))).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        try (Stream<Path> s = Files.list(host.etc)) {
            assertThat(s.map(p -> p.getFileName().toString())).as("no temp files left").containsExactlyInAnyOrder("localtime", "timezone");
        }
        assertThat(o.output()).contains("/etc/localtime -> ../usr/share/zoneinfo/Europe/Paris\n", "/etc/timezone: Europe/Paris\n");
        assertThat(o.executed()).as("no program is needed without systemd").isEmpty();

        Outcome again = set("Europe/Paris");
        assertThat(succeeded(again)).containsEntry("changed", false).containsEntry("method", "none")
            .containsEntry("previous", "Europe/Paris");
        assertThat(again.output()).isEqualTo("the time zone is already Europe/Paris; nothing to change\n");

        assertThat(succeeded(get())).containsEntry("zone", "Europe/Paris").containsEntry("consistent", true);
    }

    @Test
    void setTurnsACopiedLocaltimeIntoALinkAndCreatesMissingFiles() throws Exception {
        host.copy("America/New_York");

        Map<String, Object> data = succeeded(set("Asia/Kolkata"));

        assertThat(data).containsEntry("changed", true).containsEntry("previous", null);
        assertThat(Files.isSymbolicLink(host.etc.resolve("localtime"))).isTrue();
        assertThat(host.linkTarget()).isEqualTo("../usr/share/zoneinfo/Asia/Kolkata");
        assertThat(host.etcTimezone()).isEqualTo("Asia/Kolkata\n");

        Files.delete(host.etc.resolve("localtime"));
        Files.delete(host.etc.resolve("timezone"));
        assertThat(succeeded(set("UTC"))).containsEntry("localtime", "../usr/share/zoneinfo/UTC").containsEntry("etcTimezone", "UTC");
    }

    @Test
    void aRightLinkWithAStaleEtcTimezoneIsRepaired() throws Exception {
        host.link("../usr/share/zoneinfo/Europe/Paris").etcTimezone("Etc/UTC\n");

        Map<String, Object> data = succeeded(set("Europe/Paris"));

        assertThat(data).containsEntry("changed", true).containsEntry("method", "symlink");
        assertThat(host.etcTimezone()).isEqualTo("Europe/Paris\n");
    }

    @ParameterizedTest(name = "zone ''{0}''")
    @CsvSource(delimiter = '|', value = {
        "../../etc/passwd|is not a time zone name: a name such as Europe/Paris, with no '.', '..' or leading '/'",
        "/etc/passwd|with no '.', '..' or leading '/'",
        "Europe/../../../etc/passwd|with no '.', '..' or leading '/'",
        "Europe/./Paris|with no '.', '..' or leading '/'",
        "Europe/Paris; reboot|of letters, digits, '_', '+' and '-' separated by '/'",
        "Europe/Paris\\n|of letters, digits",
        "''|is not a time zone name",
        "Europe/Nowhere|is not in the zoneinfo database (/usr/share/zoneinfo); names are like Europe/Paris",
        "europe/paris|is not in the zoneinfo database (/usr/share/zoneinfo); did you mean 'Europe/Paris'?",
        "Europe|is a region of the zoneinfo database, not a zone; pick one of its zones, such as 'Europe/Paris'",
        "zone.tab|of letters, digits, '_', '+' and '-' separated by '/'",
        "Australia/Sydney|the JVM knows it, so this host's tzdata package is missing or older than the JVM's"})
    void badZonesAreRejectedNamingTheParamAndNothingChanges(String zone, String why) throws Exception {
        String value = zone.replace("\\n", "\n");
        host.link("../usr/share/zoneinfo/Etc/UTC").etcTimezone("Etc/UTC\n");

        Outcome o = set(value);

        assertThat(o.status()).as(o.toString()).isEqualTo(Status.REJECTED);
        assertThat(o.exception()).isInstanceOfSatisfying(InvalidParamException.class, e -> assertThat(e.param()).isEqualTo("zone"));
        assertThat(o.error()).startsWith("param 'zone' '" + HostZone.escape(value) + "' ").contains(why)
            .doesNotContain("\n");
        assertThat(host.linkTarget()).isEqualTo("../usr/share/zoneinfo/Etc/UTC");
        assertThat(host.etcTimezone()).isEqualTo("Etc/UTC\n");
    }

    @Test
    void aZoneFileThatIsNotTzifOrLinksOutOfTheDatabaseIsRejected() throws Exception {
        Files.writeString(host.zoneinfo.resolve("leapseconds"), "# not TZif\n");
        Files.writeString(host.root.resolve("secret"), "TZif but outside");
        Files.createSymbolicLink(host.zoneinfo.resolve("Escape"), Path.of("../../../secret"));
        Files.createSymbolicLink(host.zoneinfo.resolve("Zulu"), Path.of("Etc/UTC")); // links inside are fine

        assertThat(set("leapseconds").error()).isEqualTo("param 'zone' 'leapseconds' is not a time zone:"
            + " /usr/share/zoneinfo/leapseconds is not a TZif zone file");
        assertThat(set("Escape").error()).startsWith("param 'zone' 'Escape' resolves to '" + host.root.toRealPath().resolve("secret"))
            .endsWith("', outside the zoneinfo database (/usr/share/zoneinfo)");
        assertThat(Files.exists(host.etc.resolve("localtime"))).isFalse();
        assertThat(succeeded(set("Zulu"))).containsEntry("localtime", "../usr/share/zoneinfo/Zulu");
    }

    @Test
    void aZoneThatIsNotAStringOrMissingIsRejected() {
        Outcome number = set(42);
        assertThat(number.status()).isEqualTo(Status.REJECTED);
        assertThat(number.error()).isEqualTo("param 'zone' must be a string, got 42");

        Outcome missing = TestContext.forAction("timezone.set").setting("root", host.root.toString()).run(new TimezoneSetter());
        assertThat(missing.status()).isEqualTo(Status.REJECTED);
        assertThat(missing.error()).isEqualTo("param 'zone' is required");
    }

    // ---- timezone.set with systemd ----

    @Test
    void withSystemdAsPid1SetRunsTimedatectlAndKeepsEtcTimezone() throws Exception {
        host.link("../usr/share/zoneinfo/Etc/UTC").etcTimezone("Etc/UTC\n").systemd(TIMEDATECTL);

        Outcome o = set("America/New_York");

        assertThat(succeeded(o)).containsEntry("method", "timedatectl").containsEntry("changed", true)
            .containsEntry("localtime", "../usr/share/zoneinfo/America/New_York").containsEntry("etcTimezone", "America/New_York");
        assertThat(o.executed()).containsExactly(List.of(host.root.resolve("usr/bin/timedatectl").toString(), "set-timezone",
            "America/New_York"));
        assertThat(Files.readString(host.root.resolve("timedatectl.args"))).isEqualTo("set-timezone America/New_York\n");
        assertThat(o.output()).startsWith("$ timedatectl set-timezone America/New_York\n");
        assertThat(host.etcTimezone()).isEqualTo("America/New_York\n");
    }

    @Test
    void withSystemdAMissingEtcTimezoneIsNotCreated() throws Exception {
        host.link("../usr/share/zoneinfo/Etc/UTC").systemd(TIMEDATECTL);

        assertThat(succeeded(set("Europe/Paris"))).containsEntry("etcTimezone", null);
        assertThat(Files.exists(host.etc.resolve("timezone"))).isFalse();
        assertThat(succeeded(set("Europe/Paris"))).containsEntry("changed", false);
        assertThat(Files.exists(host.root.resolve("timedatectl.args"))).isTrue();
        assertThat(Files.readAllLines(host.root.resolve("timedatectl.args"))).hasSize(1);
    }

    @Test
    void aFailingTimedatectlFailsWithWhatItSaid() throws Exception {
        host.link("../usr/share/zoneinfo/Etc/UTC").etcTimezone("Etc/UTC\n")
            .systemd("#!/bin/sh\necho 'Failed to set time zone: Access denied' >&2\nexit 1\n");

        Outcome o = set("Europe/Paris");

        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.error()).isEqualTo("timedatectl set-timezone Europe/Paris failed (exit code 1):"
            + " Failed to set time zone: Access denied. Nothing was changed.");
        assertThat(o.output()).contains("Access denied");
        assertThat(host.linkTarget()).isEqualTo("../usr/share/zoneinfo/Etc/UTC");
        assertThat(host.etcTimezone()).isEqualTo("Etc/UTC\n");
    }

    @Test
    void systemdWithoutTimedatectlFailsBeforeChangingAnything() throws Exception {
        host.link("../usr/share/zoneinfo/Etc/UTC").systemd(null);

        Outcome o = set("Europe/Paris");

        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.error()).startsWith("systemd is PID 1, but timedatectl is not installed").endsWith("Nothing was changed.");
        assertThat(host.linkTarget()).isEqualTo("../usr/share/zoneinfo/Etc/UTC");
    }

    @Test
    void timedatectlThatChangesNothingIsCaught() throws Exception {
        host.link("../usr/share/zoneinfo/Etc/UTC").systemd("#!/bin/sh\nexit 0\n");

        Outcome o = set("Europe/Paris");

        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.error()).isEqualTo("timedatectl reported success, but /etc/localtime names Etc/UTC, not Europe/Paris");
    }

    // ---- settings ----

    @Test
    void badSettingsFailNamingTheConfigKey() throws Exception {
        Outcome relative = TestContext.forAction("timezone.get").setting("root", "srv/root").run(new TimezoneReader());
        assertThat(relative.status()).isEqualTo(Status.FAILED);
        assertThat(relative.error()).isEqualTo("config key 'plugins.settings.timezone.root' must be an absolute path, got srv/root");

        Outcome missing = TestContext.forAction("timezone.get").setting("root", tmp.resolve("nope").toString()).run(new TimezoneReader());
        assertThat(missing.error()).isEqualTo("config key 'plugins.settings.timezone.root' names '" + tmp.resolve("nope")
            + "', which is not a directory");

        Outcome typo = TestContext.forAction("timezone.set").param("zone", "UTC").setting("rot", "/").run(new TimezoneSetter());
        assertThat(typo.error()).isEqualTo("unknown setting 'rot' in config key 'plugins.settings.timezone' (known: root)");
    }

    private static Map<String, Object> localtime(String type, String target, String zone) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("type", type);
        m.put("target", target);
        m.put("zone", zone);
        return m;
    }
}
