package plugin.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** dataset.install, list and remove against the HTTPS test server, with archives made by the real tar, gzip and zstd. */
class DatasetInstallTest extends DatasetTestBase {
    private int trees;

    /** A tree with what real data sets hold: nested files, a link inside, a name past ustar's 100 bytes, an executable. */
    private Path sourceTree() throws Exception {
        Path src = Files.createDirectories(root.resolve("build/src" + trees++));
        Files.createDirectories(src.resolve("sub/deeper"));
        Files.writeString(src.resolve("README"), "GeoIP test data\n");
        Files.write(src.resolve("sub/data.bin"), random(300_000, 1));
        Files.writeString(src.resolve("sub/deeper/" + "n".repeat(120) + ".csv"), "a,b\n1,2\n");
        Path tool = Files.writeString(src.resolve("update.sh"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(src.resolve("README"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(src.resolve("sub/data.bin"), PosixFilePermissions.fromString("rw-r-----"));
        Files.setPosixFilePermissions(src.resolve("sub/deeper/" + "n".repeat(120) + ".csv"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.createSymbolicLink(src.resolve("current.bin"), Path.of("sub/data.bin"));
        return src;
    }

    private byte[] archive(Path src, String name, String... tarArgs) throws Exception {
        Path out = root.resolve("build").resolve(name);
        String[] cmd = new String[tarArgs.length + 5];
        cmd[0] = "tar";
        System.arraycopy(tarArgs, 0, cmd, 1, tarArgs.length);
        cmd[tarArgs.length + 1] = out.toString();
        cmd[tarArgs.length + 2] = "-C";
        cmd[tarArgs.length + 3] = src.toString();
        cmd[tarArgs.length + 4] = ".";
        tool(root, cmd);
        return Files.readAllBytes(out);
    }

    @Test
    void aTarGzMadeByGnuTarIsInstalledAsItWasPacked() throws Exception {
        Path src = sourceTree();
        byte[] tgz = archive(src, "geo.tar.gz", "-czf");
        Path target = target("geo");
        Outcome o = run(install("geo", "2024.05", "/sets/geo.tar.gz", tgz, target));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        Map<String, Object> d = data(o);
        assertThat(d).containsEntry("name", "geo").containsEntry("version", "2024.05").containsEntry("changed", true)
            .containsEntry("format", "tar.gz").containsEntry("sha256", sha256(tgz)).containsEntry("sizeBytes", (long) tgz.length)
            .containsEntry("target", target.toString()).containsEntry("path", target.resolveSibling(".geo.outpost/2024.05").toString());
        assertThat(Files.readSymbolicLink(target)).isEqualTo(Path.of(".geo.outpost/2024.05"));
        assertThat(tree(target.toRealPath())).isEqualTo(tree(src));
        assertThat(names(target.getParent())).containsExactly(".geo.outpost", "geo");
        assertThat(names(target.resolveSibling(".geo.outpost"))).as("no download or staging left").containsExactly("2024.05");
        assertThat(o.output()).contains("$ GET " + server.url("/sets/geo.tar.gz")).contains("sha256 " + sha256(tgz) + " as expected")
            .contains(target + " -> .geo.outpost/2024.05");
        assertThat(o.progress()).isNotNull();

        Map<String, Object> listed = data(list());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> sets = (List<Map<String, Object>>) listed.get("datasets");
        assertThat(sets).singleElement().satisfies(s -> assertThat(s).containsEntry("name", "geo").containsEntry("version", "2024.05")
            .containsEntry("present", true).containsEntry("sha256", sha256(tgz)).containsEntry("path", d.get("path"))
            .containsKey("installedAt").containsEntry("sizeBytes", (long) tgz.length));
    }

    @Test
    void installingTheInstalledVersionAgainChangesNothingAndDownloadsNothing() throws Exception {
        byte[] tgz = archive(sourceTree(), "geo.tgz", "-czf");
        Path target = target("geo");
        assertThat(run(install("geo", "1", "/geo.tgz", tgz, target)).status()).isEqualTo(Status.SUCCEEDED);
        int requests = server.requests.size();
        Outcome again = run(install("geo", "1", "/geo.tgz", tgz, target));
        assertThat(again.status()).as(again.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(data(again)).containsEntry("changed", false).containsEntry("version", "1");
        assertThat(server.requests).as("no request for an installed version").hasSize(requests);
        assertThat(again.output()).contains("nothing to do");

        byte[] other = archive(sourceTree(), "geo2.tgz", "-cf");
        Outcome sameVersionOtherContent = run(install("geo", "1", "/geo2.tgz", other, target));
        assertThat(sameVersionOtherContent.status()).isEqualTo(Status.REJECTED);
        assertThat(sameVersionOtherContent.error()).contains("the same version with another sha256 (" + sha256(other) + ") is refused");
        assertThat(server.requests).hasSize(requests);
    }

    @Test
    void aNewVersionSwitchesTheTargetAndRemovesTheOldOneAfterOrKeepsItWhenAsked() throws Exception {
        Path target = target("models");
        byte[] v1 = new TarBuilder().file("model.txt", "one\n", 0644).tarGz();
        byte[] v2 = new TarBuilder().file("model.txt", "two\n", 0644).tarGz();
        byte[] v3 = new TarBuilder().file("model.txt", "three\n", 0644).tarGz();
        assertThat(run(install("models", "1", "/m1.tar.gz", v1, target)).status()).isEqualTo(Status.SUCCEEDED);
        Outcome o2 = run(install("models", "2", "/m2.tar.gz", v2, target));
        assertThat(o2.status()).as(o2.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(Files.readString(target.resolve("model.txt"))).isEqualTo("two\n");
        assertThat(names(target.resolveSibling(".models.outpost"))).containsExactly("2");
        assertThat(data(o2)).containsEntry("previousVersion", "1").containsEntry("previousKept", false);
        assertThat(o2.output()).contains("removed version 1");

        Outcome o3 = run(install("models", "3", "/m3.tar.gz", v3, target).param("keepPrevious", true));
        assertThat(o3.status()).as(o3.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(Files.readString(target.resolve("model.txt"))).isEqualTo("three\n");
        assertThat(names(target.resolveSibling(".models.outpost"))).containsExactly("2", "3");
        assertThat(data(o3)).containsEntry("previousKept", true).containsEntry("previousPath", target.resolveSibling(".models.outpost/2").toString());

        Outcome o1 = run(install("models", "1", "/m1.tar.gz", v1, target));
        assertThat(o1.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(names(target.resolveSibling(".models.outpost"))).as("3 was the previous one (removed), 2 an older kept one (removed)")
            .containsExactly("1");
    }

    @Test
    void aDryRunChangesNothingAndMakesNoRequest() throws Exception {
        Path target = target("geo");
        byte[] tgz = new TarBuilder().file("a", "a\n", 0644).tarGz();
        Outcome o = run(install("geo", "1", "/geo.tar.gz", tgz, target).dryRun(true));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(data(o)).containsEntry("changed", true).containsEntry("format", "tar.gz").containsEntry("path",
            target.resolveSibling(".geo.outpost/1").toString());
        assertThat(o.output()).contains("would download " + server.url("/geo.tar.gz")).contains("would switch " + target);
        assertThat(server.requests).isEmpty();
        assertThat(Files.exists(target.getParent())).isFalse();
        assertThat(names(dataDir.resolve("plugins-data/dataset/installed"))).isEmpty();

        assertThat(run(install("geo", "1", "/geo.tar.gz", tgz, target)).status()).isEqualTo(Status.SUCCEEDED);
        Outcome same = run(install("geo", "1", "/geo.tar.gz", tgz, target).dryRun(true));
        assertThat(data(same)).containsEntry("changed", false);
        Outcome newer = run(install("geo", "2", "/geo2.tar.gz", new TarBuilder().file("a", "b\n", 0644).tarGz(), target).dryRun(true));
        assertThat(data(newer)).containsEntry("changed", true).containsEntry("previousVersion", "1");
        assertThat(newer.output()).contains("would then remove version 1");
        assertThat(Files.readString(target.resolve("a"))).isEqualTo("a\n");

        Outcome dryRemove = remove("geo", true);
        assertThat(dryRemove.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(dryRemove.output()).contains("would remove " + target);
        assertThat(Files.readString(target.resolve("a"))).isEqualTo("a\n");
    }

    @Test
    void removeTakesTheTargetTheStoreAndTheRecord() throws Exception {
        Path target = target("geo");
        assertThat(run(install("geo", "1", "/g.tgz", new TarBuilder().file("a", "a\n", 0644).tarGz(), target)).status()).isEqualTo(Status.SUCCEEDED);
        Outcome r = remove("geo", false);
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(data(r)).containsEntry("changed", true).containsEntry("removed", List.of(target.toString(), target.resolveSibling(".geo.outpost").toString()));
        assertThat(names(target.getParent())).isEmpty();
        assertThat(data(list())).containsEntry("datasets", List.of());
        Outcome missing = remove("geo", false);
        assertThat(missing.status()).isEqualTo(Status.REJECTED);
        assertThat(missing.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(missing.error()).isEqualTo("no data set 'geo' is installed. Nothing was changed.");
    }

    @Test
    void zipTarPaxTarZstAndPlainFilesAreInstalledToo() throws Exception {
        Path src = sourceTree(); // its 120-character name takes a pax path record (or a GNU long name)
        byte[] pax = archive(src, "s.tar", "--format=pax", "-cf");
        Outcome o = run(install("pax", "1", "/s.tar", pax, target("pax")));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(tree(target("pax").toRealPath())).isEqualTo(tree(src));

        byte[] gnu = archive(src, "g.tar", "--format=gnu", "-cf");
        assertThat(run(install("gnu", "1", "/g.tar", gnu, target("gnu"))).status()).isEqualTo(Status.SUCCEEDED);
        assertThat(tree(target("gnu").toRealPath())).isEqualTo(tree(src));

        byte[] zst = archive(src, "s.tar.zst", "--zstd", "-cf");
        Outcome z = run(install("zst", "1", "/s.tar.zst", zst, target("zst")));
        assertThat(z.status()).as(z.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(z.output()).contains("zstd -d");
        assertThat(tree(target("zst").toRealPath())).isEqualTo(tree(src));
        assertThat(names(target("zst").resolveSibling(".zst.outpost"))).containsExactly("1");

        java.io.ByteArrayOutputStream zb = new java.io.ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(zb)) {
            zip.putNextEntry(new ZipEntry("docs/"));
            zip.putNextEntry(new ZipEntry("docs/readme.txt"));
            zip.write("zipped\n".getBytes(StandardCharsets.UTF_8));
            zip.putNextEntry(new ZipEntry("top.bin"));
            zip.write(random(5000, 7));
        }
        // served without a telling name: the format comes from the content
        Outcome zo = run(install("zip", "1", "/download?id=7", zb.toByteArray(), target("zip")));
        assertThat(zo.status()).as(zo.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(data(zo)).containsEntry("format", "zip").containsEntry("url", server.url("/download") + "?…");
        assertThat(Files.readString(target("zip").resolve("docs/readme.txt"))).isEqualTo("zipped\n");
        assertThat(Files.readAllBytes(target("zip").resolve("top.bin"))).isEqualTo(random(5000, 7));

        byte[] mmdb = random(100_000, 3);
        Outcome f = run(install("city", "7", "/GeoLite2-City.mmdb", mmdb, target("GeoLite2-City.mmdb")));
        assertThat(f.status()).as(f.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(data(f)).containsEntry("format", "file");
        assertThat(Files.readSymbolicLink(target("GeoLite2-City.mmdb"))).isEqualTo(Path.of(".GeoLite2-City.mmdb.outpost/7/GeoLite2-City.mmdb"));
        assertThat(Files.readAllBytes(target("GeoLite2-City.mmdb"))).isEqualTo(mmdb);
        Outcome f2 = run(install("city", "8", "/GeoLite2-City.mmdb", random(100_000, 4), target("GeoLite2-City.mmdb")));
        assertThat(f2.status()).isEqualTo(Status.SUCCEEDED);
        assertThat(Files.readAllBytes(target("GeoLite2-City.mmdb"))).isEqualTo(random(100_000, 4));
        assertThat(names(target("x").resolveSibling(".GeoLite2-City.mmdb.outpost"))).containsExactly("8");
    }

    @Test
    void nonAsciiNamesComeThroughPaxRecords() throws Exception {
        assertThat(System.getProperty("sun.jnu.encoding")).as("file names other than ASCII need the JVM in a UTF-8 locale (LANG=C.UTF-8)")
            .isEqualTo("UTF-8");
        Path src = Files.createDirectories(root.resolve("build/utf"));
        Files.writeString(src.resolve("données-été.txt"), "utf-8 name\n");
        Files.createDirectories(src.resolve("日本"));
        Files.writeString(src.resolve("日本/データ.csv"), "x\n");
        byte[] pax = archive(src, "u.tar", "--format=pax", "-cf");
        Outcome o = run(install("utf", "1", "/u.tar", pax, target("utf")));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(tree(target("utf").toRealPath())).isEqualTo(tree(src));
    }

    @Test
    void setuidBitsAreDroppedAndOwnersAreNotRestored() throws Exception {
        byte[] t = new TarBuilder().file("suid", "x", 04755).file("sgid", "y", 02750).tarGz();
        Outcome o = run(install("bits", "1", "/b.tgz", t, target("bits")));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target("bits").resolve("suid")))).isEqualTo("rwxr-xr-x");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target("bits").resolve("sgid")))).isEqualTo("rwxr-x---");
        assertThat(Files.getAttribute(target("bits").resolve("suid"), "unix:mode")).isEqualTo(0100755);
    }

    @Test
    void badParamsAreRejectedNamingTheParamAndNothingIsTouched() throws Exception {
        String sha = "a".repeat(64);
        Object[][] cases = {
            {"name", "../etc", "param 'name' '../etc' is not a data set name"},
            {"version", "1/2", "param 'version' '1/2' is not a version"},
            {"sha256", "abc", "param 'sha256' 'abc' is not a sha256: 64 hexadecimal digits"},
            {"target", "srv/data", "param 'target' 'srv/data' must be an absolute path"},
            {"target", "/srv", "param 'target' '/srv' is / or a top-level directory"},
            {"target", "/srv/data/../etc", "param 'target' '/srv/data/../etc' must be a plain path"},
            {"target", "/proc/sys/x", "is under /proc, a kernel filesystem"},
            {"format", "rar", "param 'format'"},
            {"url", "agent/v1/datasets/abc", "is neither an https URL nor a path on the agent's server (starting with '/')"},
            {"url", "http://127.0.0.1/x.tgz", "is plain http; data sets are downloaded over https"},
            {"url", "ftp://127.0.0.1/x.tgz", "is not an https URL"},
            {"url", "https://user:secret@127.0.0.1/x.tgz", "the url holds credentials"},
        };
        for (Object[] c : cases) {
            TestContext t = TestContext.forAction("dataset.install").param("name", "geo").param("version", "1").param("url", server.url("/x.tgz"))
                .param("sha256", sha).param("target", target("geo").toString()).settings(settings(TestTls.get().caPem.toString()))
                .param((String) c[0], c[1]);
            Outcome o = run(t);
            assertThat(o.status()).as("%s=%s: %s", c[0], c[1], o).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).isEqualTo(ErrorCode.INVALID_PARAM);
            assertThat(o.error()).as("%s", c[1]).contains((String) c[2]);
            assertThat(o.error()).doesNotContain("secret");
        }
        assertThat(server.requests).isEmpty();
        assertThat(Files.exists(root.resolve("srv"))).isFalse();
    }

    @Test
    void aPathOnTheAgentsServerIsRefusedWhenTheAgentHasNoServer() throws Exception {
        // relative URLs go through the agent's ServerFiles, which an offline agent does not offer
        TestContext t = TestContext.forAction("dataset.install").param("name", "geo").param("version", "1")
            .param("url", "/agent/v1/datasets/" + "a".repeat(64) + "/geo.tgz").param("sha256", "a".repeat(64))
            .param("target", target("geo").toString()).settings(settings(TestTls.get().caPem.toString()));
        Outcome o = run(t);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).contains("is a path on the agent's server, and this agent runs without one (offline mode)");
        assertThat(server.requests).isEmpty();
        assertThat(Files.exists(target("geo"))).isFalse();
    }

    @Test
    void aTargetThatIsNotOursIsLeftAlone() throws Exception {
        Path target = Files.createDirectories(target("geo"));
        Files.writeString(target.resolve("precious"), "keep me");
        Outcome o = run(install("geo", "1", "/g.tgz", new TarBuilder().file("a", "a", 0644).tarGz(), target));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).isEqualTo("target " + target + " exists and is not a data set installed by this agent (it is a directory);"
            + " move it away or choose another target. Nothing was changed.");
        assertThat(Files.readString(target.resolve("precious"))).isEqualTo("keep me");
        assertThat(server.requests).isEmpty();

        assertThat(run(install("other", "1", "/o.tgz", new TarBuilder().file("b", "b", 0644).tarGz(), target("other"))).status())
            .isEqualTo(Status.SUCCEEDED);
        Outcome taken = run(install("third", "1", "/t.tgz", new TarBuilder().file("c", "c", 0644).tarGz(), target("other")));
        assertThat(taken.status()).isEqualTo(Status.REJECTED);
        assertThat(taken.error()).contains("holds data set 'other'");
    }

    @Test
    void badSettingsAreRefusedNamingTheKey() throws Exception {
        Object[][] cases = {
            {Map.of("max_entries", 0), "key 'max_entries' must be at least 1, got 0"},
            {Map.of("ca_file", "ca.pem"), "key 'ca_file' must be an absolute path"},
            {Map.of("stall_seconds", 0), "key 'stall_seconds' must be 1 to 3600"},
            {Map.of("mirror", "x"), "config key 'plugins.settings.dataset.mirror'"},
        };
        for (Object[] c : cases) {
            @SuppressWarnings("unchecked")
            Map<String, Object> s = (Map<String, Object>) c[0];
            Outcome o = run(install("geo", "1", "/g.tgz", new TarBuilder().file("a", "a", 0644).tarGz(), target("geo")).settings(s));
            assertThat(o.status()).as("%s: %s", s, o).isEqualTo(Status.REJECTED);
            assertThat(o.errorCode()).isEqualTo(ErrorCode.INVALID_SETTINGS);
            assertThat(o.error()).contains((String) c[1]);
        }
        Path notPem = Files.writeString(root.resolve("not.pem"), "hello");
        Outcome o = run(install("geo", "1", "/g.tgz", new TarBuilder().file("a", "a", 0644).tarGz(), target("geo")).setting("ca_file", notPem.toString()));
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).contains("config key 'plugins.settings.dataset.ca_file' names '" + notPem + "'");
        assertThat(server.requests).isEmpty();
    }
}
