package plugin.backup.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import agent.api.ErrorCode;
import agent.api.Status;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/**
 * Hostile archives, made with Python's tarfile (the agent's tar would not write them): each is refused whole, and
 * nothing is written, inside the target or outside it.
 */
class RestoreSafetyTest {
    /** Writes CASE.tar into DIR: ok.txt, then the hostile entries of the case. */
    private static final String MAKER = String.join("\n",
        "import io, sys, tarfile",
        "out, case, outside = sys.argv[1], sys.argv[2], sys.argv[3]",
        "def add(t, name, typ=tarfile.REGTYPE, link=None, data=b'x'):",
        "    ti = tarfile.TarInfo(name); ti.type = typ; ti.mode = 0o644",
        "    if link is not None: ti.linkname = link",
        "    if typ == tarfile.REGTYPE:",
        "        ti.size = len(data); t.addfile(ti, io.BytesIO(data))",
        "    else:",
        "        t.addfile(ti)",
        "with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:",
        "    add(t, 'ok.txt')",
        "    if case == 'dotdot': add(t, '../escape.txt')",
        "    if case == 'dotdot-inside': add(t, 'a/../../escape.txt')",
        "    if case == 'absolute': add(t, outside + '/absolute.txt')",
        "    if case == 'symlink-then-file':",
        "        add(t, 'lnk', tarfile.SYMTYPE, link=outside)",
        "        add(t, 'lnk/through.txt')",
        "    if case == 'symlink-inside-then-file':",
        "        add(t, 'here', tarfile.SYMTYPE, link='.')",
        "        add(t, 'here/through.txt')",
        "    if case == 'hardlink-dotdot': add(t, 'hl', tarfile.LNKTYPE, link='../../../../../etc/passwd')",
        "    if case == 'hardlink-absolute': add(t, 'hl', tarfile.LNKTYPE, link='/etc/hostname')",
        "    if case == 'hardlink-through-symlink':",
        "        add(t, 'out', tarfile.SYMTYPE, link='/etc')",
        "        add(t, 'hl', tarfile.LNKTYPE, link='out/hostname')",
        "    if case == 'device': add(t, 'null2', tarfile.CHRTYPE)",
        "    if case == 'symlink-only': add(t, 'etc-link', tarfile.SYMTYPE, link='/etc')",
        "    if case == 'under-existing-link': add(t, 'sub/file.txt')",
        "");

    @TempDir
    Path tmp;
    Path outside;
    Path target;
    BackupRestorer restorer;

    @BeforeEach
    void setUp() throws Exception {
        restorer = new BackupRestorer();
        restorer.paths = new TestPaths(tmp.resolve("data"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        target = tmp.resolve("target");
    }

    private Path archive(String c) throws Exception {
        Path maker = Files.writeString(tmp.resolve("maker.py"), MAKER);
        Path out = tmp.resolve(c + ".tar");
        Trees.run(Trees.python(), maker.toString(), out.toString(), c, outside.toString());
        return out;
    }

    private Outcome restore(Path archive, Object... more) {
        TestContext t = TestContext.forAction("backup.restore").param("archive", archive.toString())
            .param("target", target.toString());
        for (int i = 0; i < more.length; i += 2) t.param((String) more[i], more[i + 1]);
        return t.run(restorer);
    }

    private static List<Path> contents(Path dir) throws Exception {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).toList();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "dotdot                   | the member name '../escape.txt' has '..'",
        "dotdot-inside            | the member name 'a/../../escape.txt' has '..'",
        "absolute                 | /absolute.txt' is absolute",
        "symlink-then-file        | 'lnk/through.txt' would be written through 'lnk', a symbolic link of the archive itself",
        "symlink-inside-then-file | 'here/through.txt' would be written through 'here', a symbolic link of the archive itself",
        "hardlink-dotdot          | the hard link target of 'hl' '../../../../../etc/passwd' has '..'",
        "hardlink-absolute        | the hard link target of 'hl' '/etc/hostname' is absolute",
        "hardlink-through-symlink | 'hl' would be written through 'out', a symbolic link of the archive itself",
        "device                   | 'null2' is a character device (restoring device nodes needs devices: true)",
    })
    void aHostileArchiveIsRefusedAndNothingIsWritten(String c, String says) throws Exception {
        Outcome o = restore(archive(c));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.REJECTED);
        assertThat(o.errorCode()).isEqualTo(ErrorCode.REFUSED);
        assertThat(o.error()).contains("is refused, nothing was written").contains(says);
        assertThat(contents(target)).as("the target").isEmpty();
        assertThat(contents(outside)).as("outside the target").isEmpty();
        assertThat(tmp.resolve("escape.txt")).doesNotExist();
        assertThat(o.executed()).noneMatch(argv -> argv.contains("--extract"));
    }

    @Test
    void theSameArchivesAreRefusedInADryRun() throws Exception {
        Outcome o = TestContext.forAction("backup.restore").param("archive", archive("symlink-then-file").toString())
            .param("target", target.toString()).dryRun(true).run(restorer);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(contents(outside)).isEmpty();
    }

    @Test
    void anExistingLinkInTheTargetThatLeadsOutIsNotWrittenThrough() throws Exception {
        Files.createDirectory(target);
        Files.createSymbolicLink(target.resolve("sub"), outside);
        Outcome o = restore(archive("under-existing-link"));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).contains("'sub/file.txt' would be written through " + target.resolve("sub")
            + ", an existing symbolic link to " + outside + ", outside the target");
        assertThat(contents(outside)).isEmpty();
        assertThat(target.resolve("ok.txt")).doesNotExist();
    }

    @Test
    void anExistingLinkThatStaysInsideTheTargetIsFollowedAsTarDoes() throws Exception {
        Files.createDirectories(target.resolve("real"));
        Files.createSymbolicLink(target.resolve("sub"), Path.of("real"));
        Outcome o = restore(archive("under-existing-link"));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(target.resolve("real/file.txt")).hasContent("x");
    }

    @Test
    void aSymbolicLinkToAnywhereIsRestoredAsALink() throws Exception {
        Outcome o = restore(archive("symlink-only"));
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(Files.readSymbolicLink(target.resolve("etc-link"))).isEqualTo(Path.of("/etc"));
    }

    @Test
    void deviceNodesAreRestoredWhenAskedFor() throws Exception {
        Outcome o = restore(archive("device"), "devices", true);
        assertThat(o.status()).as(o.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat((Integer) Files.getAttribute(target.resolve("null2"), "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS) & 0170000)
            .isEqualTo(0020000);
    }

    @Test
    void existingFilesAreNotOverwrittenUnlessAsked() throws Exception {
        Path a = archive("symlink-only");
        Files.createDirectories(target);
        Files.writeString(target.resolve("ok.txt"), "mine");
        Outcome o = restore(a);
        assertThat(o.status()).isEqualTo(Status.REJECTED);
        assertThat(o.error()).isEqualTo("1 of the archive's entries already exist in " + target + " and overwrite is false: "
            + target.resolve("ok.txt") + ". Nothing was written.");
        assertThat(target.resolve("ok.txt")).hasContent("mine");
        assertThat(target.resolve("etc-link")).doesNotExist();

        Outcome dry = TestContext.forAction("backup.restore").param("archive", a.toString()).param("target", target.toString())
            .param("overwrite", true).dryRun(true).run(restorer);
        assertThat(dry.status()).as(dry.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(dry.dataAsMap()).containsEntry("changed", true).containsEntry("files", 2L)
            .containsEntry("wouldOverwrite", List.of(target.resolve("ok.txt").toString()));
        assertThat(target.resolve("ok.txt")).hasContent("mine");

        Outcome over = restore(a, "overwrite", true);
        assertThat(over.status()).as(over.toString()).isEqualTo(Status.SUCCEEDED);
        assertThat(target.resolve("ok.txt")).hasContent("x");
    }

    @Test
    void anArchiveTarCannotReadIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path junk = Files.write(tmp.resolve("junk.tar.gz"), new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7});
        Outcome o = restore(junk);
        assertThat(o.status()).isEqualTo(Status.FAILED);
        assertThat(o.error()).contains("tar cannot read " + junk).endsWith("Nothing was written.");
        assertThat(target).doesNotExist();
    }
}
