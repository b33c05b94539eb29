package plugin.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** Downloads against the HTTPS test server: dropped connections, a killed agent, changed files, wrong bytes, wrong certificates. */
class DatasetDownloadTest extends DatasetTestBase {
    private static final int SIZE = 3_000_000;

    /** A tar of incompressible bytes, so that its size on the wire is what the test counts. */
    private static byte[] bigArchive(long seed) {
        return new TarBuilder().file("blob.bin", random(SIZE, seed)).tar();
    }

    @Test
    void aDownloadCutInTheMiddleIsResumedWithARangeRequestAndNoByteTwice() throws Exception {
        byte[] tar = bigArchive(1);
        server.cutAfter = 1_234_567;
        Outcome o = run(install("big", "1", "/big.tar", tar, target("big")));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(server.requests).hasSize(2);
        assertThat(server.requests.get(0).range()).isNull();
        assertThat(server.requests.get(1).range()).isEqualTo("bytes=1234567-");
        assertThat(server.requests.get(1).ifRange()).as("the resume is tied to the first response's ETag").startsWith("\"v");
        assertThat(server.bodyBytesSent.get()).as("every byte crossed the network once").isEqualTo(tar.length);
        assertThat(o.output()).contains("the connection broke after 1234567 bytes").contains("(Range: bytes=1234567-)");
        assertThat(Files.readAllBytes(target("big").resolve("blob.bin"))).isEqualTo(random(SIZE, 1));
        assertThat(data(o)).containsEntry("requests", 2L);
    }

    @Test
    void progressIsReportedWhileADownloadRuns() throws Exception {
        byte[] tar = bigArchive(6);
        server.holdAfter = 1_500_000;
        DatasetInstaller d = new DatasetInstaller();
        d.paths = paths(dataDir);
        agent.testkit.Running r = install("big", "1", "/big.tar", tar, target("big")).start(d);
        assertThat(server.held.await(30, TimeUnit.SECONDS)).isTrue();
        agent.testkit.Progress want = new agent.testkit.Progress((int) (1_500_000L * 100 / tar.length), "downloaded 1.4 MiB of 2.9 MiB");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!r.progress().contains(want) && System.nanoTime() < deadline) Thread.sleep(20);
        server.release.countDown();
        assertThat(r.progress()).as("reported while the server held the body").contains(want);
        Outcome o = r.await();
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED); // the held body was cut: resumed
        assertThat(server.requests).extracting(TestHttpsServer.Request::range).containsExactly(null, "bytes=1500000-");
    }

    @Test
    void anAgentKilledMidDownloadResumesAfterItsRestart() throws Exception {
        byte[] tar = bigArchive(2);
        server.serve("/big.tar", tar);
        server.holdAfter = 1_000_000;
        Path part = target("big").resolveSibling(".big.outpost/.download-" + sha256(tar) + ".part");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), InstallInAnotherProcess.class.getName(), dataDir.toString(), server.url("/big.tar"),
            sha256(tar), target("big").toString(), TestTls.get().caPem.toString()));
        Process agent = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(root.resolve("child.log").toFile()).start();
        try {
            assertThat(server.held.await(60, TimeUnit.SECONDS)).as("the first agent got its first megabyte; log: %s", log()).isTrue();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while ((!Files.exists(part) || Files.size(part) < 1_000_000) && System.nanoTime() < deadline) Thread.sleep(20);
            assertThat(Files.size(part)).as("what the first agent wrote before it died").isEqualTo(1_000_000);
        } finally {
            agent.destroyForcibly(); // SIGKILL: no cleanup of any kind
            assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
            server.release.countDown();
        }
        assertThat(agent.exitValue()).isEqualTo(137);

        Outcome o = run(install("big", "1", "/big.tar", tar, target("big")));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(server.requests).extracting(TestHttpsServer.Request::range).containsExactly(null, "bytes=1000000-");
        assertThat(server.bodyBytesSent.get()).isEqualTo(tar.length);
        assertThat(data(o)).containsEntry("resumedFrom", 1_000_000L);
        assertThat(Files.readAllBytes(target("big").resolve("blob.bin"))).isEqualTo(random(SIZE, 2));
    }

    private String log() throws Exception {
        Path l = root.resolve("child.log");
        return Files.exists(l) ? Files.readString(l) : "";
    }

    /** A part kept from a file the server has since replaced: If-Range makes the server send the new file whole. */
    @Test
    void aPartOfAnOlderFileIsThrownAwayWhenTheServerSaysTheFileChanged() throws Exception {
        byte[] tar = bigArchive(3);
        Path store = Files.createDirectories(target("big").resolveSibling(".big.outpost"));
        String sha = sha256(tar);
        Files.write(store.resolve(".download-" + sha + ".part"), random(500_000, 99));
        Files.writeString(store.resolve(".download-" + sha + ".properties"), "url=" + server.url("/big.tar") + "\netag=\"old\"\nlength=" + tar.length + "\n");
        Outcome o = run(install("big", "1", "/big.tar", tar, target("big")));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(server.requests).singleElement().satisfies(r -> {
            assertThat(r.range()).isEqualTo("bytes=500000-");
            assertThat(r.ifRange()).isEqualTo("\"old\"");
        });
        assertThat(o.output()).contains("the server sent the whole file");
        assertThat(server.bodyBytesSent.get()).isEqualTo(tar.length);
        assertThat(Files.readAllBytes(target("big").resolve("blob.bin"))).isEqualTo(random(SIZE, 3));
    }

    /** The agent died after the last byte but before the switch: the next run installs without asking the server. */
    @Test
    void aCompleteDownloadLeftByAStoppedAgentIsNotFetchedAgain() throws Exception {
        byte[] tar = bigArchive(4);
        Path store = Files.createDirectories(target("big").resolveSibling(".big.outpost"));
        String sha = sha256(tar);
        Files.write(store.resolve(".download-" + sha + ".part"), tar);
        Files.writeString(store.resolve(".download-" + sha + ".properties"), "url=" + server.url("/big.tar") + "\nlength=" + tar.length + "\n");
        Files.createDirectories(store.resolve(".staging-left-by-a-crash/half"));
        Outcome o = run(install("big", "1", "/big.tar", tar, target("big")));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(server.requests).isEmpty();
        assertThat(names(store)).containsExactly("1");
    }

    @Test
    void aChecksumMismatchChangesNothingAndSaysWhichSha256Came() throws Exception {
        Path target = target("geo");
        byte[] v1 = new TarBuilder().file("a", "one", 0644).tarGz();
        assertThat(run(install("geo", "1", "/v1.tgz", v1, target)).status()).isEqualTo(Status.SUCCEEDED);
        byte[] v2 = new TarBuilder().file("a", "two", 0644).tarGz();
        server.serve("/v2.tgz", v2);
        String expected = "b".repeat(64);
        Outcome o = run(TestContext.forAction("dataset.install").param("name", "geo").param("version", "2").param("url", server.url("/v2.tgz"))
            .param("sha256", expected).param("target", target.toString()).settings(settings(TestTls.get().caPem.toString())));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.FAILED);
        assertThat(o.error()).isEqualTo("sha256 mismatch: expected " + expected + ", the " + v2.length + " bytes downloaded from "
            + server.url("/v2.tgz") + " have sha256 " + sha256(v2) + ". The download was deleted; nothing was changed (" + target
            + " still points at version 1).");
        assertThat(Files.readString(target.resolve("a"))).isEqualTo("one");
        assertThat(names(target.resolveSibling(".geo.outpost"))).containsExactly("1");
        assertThat(data(list()).toString()).contains("version=1");
    }

    @Test
    void aServerWhoseCertificateIsNotTrustedIsNotTalkedTo() throws Exception {
        byte[] t = new TarBuilder().file("a", "a", 0644).tarGz();
        server.serve("/a.tgz", t);
        Outcome untrusted = run(TestContext.forAction("dataset.install").param("name", "a").param("version", "1").param("url", server.url("/a.tgz"))
            .param("sha256", sha256(t)).param("target", target("a").toString()).setting("retry_delay_ms", 10));
        assertThat(untrusted.status()).as(untrusted.toString()).isEqualTo(Status.FAILED);
        assertThat(untrusted.error()).startsWith("TLS handshake with 127.0.0.1 failed: ").contains("plugins.settings.dataset.ca_file");
        assertThat(server.requests).isEmpty();

        // signed by the trusted CA, but for another name: the hostname check is not switched off
        try (TestHttpsServer elsewhere = new TestHttpsServer(TestTls.get().wrongNameKeystore)) {
            elsewhere.serve("/a.tgz", t);
            Outcome wrongName = run(TestContext.forAction("dataset.install").param("name", "a").param("version", "1")
                .param("url", elsewhere.url("/a.tgz")).param("sha256", sha256(t)).param("target", target("a").toString())
                .settings(settings(TestTls.get().caPem.toString())));
            assertThat(wrongName.status()).isEqualTo(Status.FAILED);
            assertThat(wrongName.error()).contains("TLS handshake with 127.0.0.1 failed").contains("127.0.0.1");
            assertThat(elsewhere.requests).isEmpty();
        }
        assertThat(Files.exists(target("a"))).isFalse();
    }

    @Test
    void aMissingFileIsNotFoundAndAServerThatKeepsFailingIsGivenUpOn() throws Exception {
        Outcome missing = run(TestContext.forAction("dataset.install").param("name", "a").param("version", "1").param("url", server.url("/none.tgz"))
            .param("sha256", "c".repeat(64)).param("target", target("a").toString()).settings(settings(TestTls.get().caPem.toString())));
        assertThat(missing.status()).isEqualTo(Status.REJECTED);
        assertThat(missing.errorCode()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(missing.error()).isEqualTo("the server has no data set at " + server.url("/none.tgz") + " (HTTP 404). Nothing was changed.");

        byte[] tar = bigArchive(5);
        server.serve("/big.tar", tar);
        server.close(); // nobody answers any more
        Outcome gone = run(TestContext.forAction("dataset.install").param("name", "big").param("version", "1").param("url", server.url("/big.tar"))
            .param("sha256", sha256(tar)).param("target", target("big").toString()).settings(settings(TestTls.get().caPem.toString()))
            .setting("retries", 2));
        assertThat(gone.status()).isEqualTo(Status.FAILED);
        assertThat(gone.error()).startsWith("downloading " + server.url("/big.tar") + " failed 3 times").endsWith("Nothing was changed.");
    }
}
