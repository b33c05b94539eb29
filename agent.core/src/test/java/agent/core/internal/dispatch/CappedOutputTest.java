package agent.core.internal.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

class CappedOutputTest {

    @Test
    void keepsEverythingUpToTheCap() {
        CappedOutput o = new CappedOutput(10);
        o.write("hello ");
        o.write("dude");
        assertThat(o.text()).isEqualTo("hello dude");
        assertThat(o.truncated()).isFalse();
    }

    @Test
    void keepsTheFirstAndLastHalvesAndSaysHowMuchWasDropped() {
        CappedOutput o = new CappedOutput(8);
        o.write("0123456789abcdef");
        assertThat(o.text()).isEqualTo("0123\n[... 8 bytes of output omitted ...]\ncdef");
        assertThat(o.truncated()).isTrue();
    }

    @Test
    void anOddCapGivesTheExtraByteToTheHead() {
        CappedOutput o = new CappedOutput(5);
        o.write("abcdefgh");
        assertThat(o.text()).isEqualTo("abc\n[... 3 bytes of output omitted ...]\ngh");
    }

    @Test
    void manyWritesOfEverySizeKeepTheSameBytesAsOneBigWrite() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            int cap = 1 + random.nextInt(600);
            CappedOutput o = new CappedOutput(cap);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            int writes = random.nextInt(40);
            for (int i = 0; i < writes; i++) {
                byte[] b = new byte[random.nextInt(3 * cap)];
                for (int j = 0; j < b.length; j++) b[j] = (byte) ('a' + random.nextInt(26));
                int off = b.length == 0 ? 0 : random.nextInt(b.length);
                int len = b.length - off == 0 ? 0 : random.nextInt(b.length - off + 1);
                o.write(b, off, len);
                all.write(b, off, len);
            }
            assertThat(o.text()).as("cap %d after %d writes", cap, writes).isEqualTo(expected(all.toByteArray(), cap));
            assertThat(o.truncated()).isEqualTo(all.size() > cap);
        }
    }

    /** What PROTOCOL.md §6 asks for, computed the obvious way. */
    private static String expected(byte[] all, int cap) {
        if (all.length <= cap) return new String(all, StandardCharsets.US_ASCII);
        int head = cap - cap / 2;
        int tail = cap / 2;
        return new String(all, 0, head, StandardCharsets.US_ASCII) + "\n[... " + (all.length - cap)
            + " bytes of output omitted ...]\n" + new String(all, all.length - tail, tail, StandardCharsets.US_ASCII);
    }
}
