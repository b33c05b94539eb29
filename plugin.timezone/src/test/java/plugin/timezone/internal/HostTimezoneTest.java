package plugin.timezone.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.ZoneId;
import java.util.Map;

import org.junit.jupiter.api.Test;

import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** timezone.get on the machine running the test, with no settings (root /): it must agree with the host, and read only. */
class HostTimezoneTest {
    private static final Path LOCALTIME = Path.of("/etc/localtime");
    private static final Path ETC_TIMEZONE = Path.of("/etc/timezone");

    @Test
    @SuppressWarnings("unchecked")
    void getOnThisHostAgreesWithItsFilesAndChangesNothing() throws Exception {
        FileTime before = modified(LOCALTIME);
        FileTime etcBefore = modified(ETC_TIMEZONE);

        Outcome o = TestContext.forAction("timezone.get").run(new TimezoneReader());

        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        Map<String, Object> data = o.dataAsMap();
        Map<String, Object> lt = (Map<String, Object>) data.get("localtime");
        assertThat(data).containsEntry("root", "/").containsEntry("jvm", ZoneId.systemDefault().getId());
        if (Files.isSymbolicLink(LOCALTIME)) {
            String target = Files.readSymbolicLink(LOCALTIME).toString();
            assertThat(lt).containsEntry("type", "link").containsEntry("target", target);
            if (target.contains("zoneinfo/")) {
                String zone = target.substring(target.lastIndexOf("zoneinfo/") + 9).replaceFirst("^posix/", "");
                assertThat(lt).containsEntry("zone", zone);
                assertThat(data).containsEntry("zone", zone).containsEntry("source", "/etc/localtime");
            }
        } else {
            assertThat(lt.get("type")).isEqualTo(Files.exists(LOCALTIME) ? "file" : "missing");
        }
        if (Files.isRegularFile(ETC_TIMEZONE)) {
            assertThat(data).containsEntry("etcTimezone", Files.readAllLines(ETC_TIMEZONE).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).findFirst().orElse(null));
        } else {
            assertThat(data).containsEntry("etcTimezone", null);
        }
        assertThat(o.wireData()).isInstanceOf(Map.class);
        assertThat(modified(LOCALTIME)).isEqualTo(before);
        assertThat(modified(ETC_TIMEZONE)).isEqualTo(etcBefore);
    }

    private static FileTime modified(Path p) throws Exception {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS) : null;
    }
}
