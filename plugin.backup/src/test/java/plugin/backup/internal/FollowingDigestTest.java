package plugin.backup.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FollowingDigestTest {
    @TempDir
    Path tmp;

    @Test
    void theDigestOfAFileReadWhileItGrowsIsTheDigestOfTheWholeFile() throws Exception {
        Path f = Files.createFile(tmp.resolve("growing"));
        FollowingDigest d = FollowingDigest.follow(f);
        byte[] chunk = new byte[300_000];
        Random r = new Random(7);
        try (OutputStream out = Files.newOutputStream(f)) {
            for (int i = 0; i < 20; i++) {
                r.nextBytes(chunk);
                out.write(chunk);
                out.flush();
                if (i % 5 == 0) Thread.sleep(60); // let the follower catch up with the end and wait there
            }
        }
        assertThat(d.finish()).isEqualTo(Destination.sha256(f, false));
    }

    @Test
    void anEmptyFileHasTheEmptyDigest() throws Exception {
        Path f = Files.createFile(tmp.resolve("empty"));
        FollowingDigest d = FollowingDigest.follow(f);
        assertThat(d.finish()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
