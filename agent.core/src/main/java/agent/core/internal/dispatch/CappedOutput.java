package agent.core.internal.dispatch;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import agent.api.Output;

/**
 * A command's output, at most {@code cap} bytes: the first half and the last half are kept, the middle is
 * dropped and marked (PROTOCOL.md §6). Memory grows with what is written, not with the cap: most commands
 * write a few bytes, and a buffer of the whole cap per command made the agent's heap churn under load.
 * Thread-safe. Public (in a package the bundle does not export) for agent.testkit.
 */
public final class CappedOutput implements Output {
    private static final byte[] NONE = new byte[0];

    private final int headCap;
    private final int tailCap;
    private byte[] head = NONE;
    private int headLength;
    /** Ring buffer of the newest bytes once the head is full; allocated then. */
    private byte[] tail;
    private long tailWritten;

    /** @param cap bytes kept at most */
    public CappedOutput(int cap) {
        this.headCap = cap - cap / 2;
        this.tailCap = cap / 2;
    }

    @Override
    public void write(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        write(b, 0, b.length);
    }

    /** @param b bytes @param off start @param len length */
    public synchronized void write(byte[] b, int off, int len) {
        int toHead = Math.min(len, headCap - headLength);
        if (toHead > 0) {
            if (headLength + toHead > head.length) {
                head = Arrays.copyOf(head, Math.min(headCap, Math.max(headLength + toHead, Math.max(256, head.length * 2))));
            }
            System.arraycopy(b, off, head, headLength, toHead);
            headLength += toHead;
        }
        int rest = len - toHead;
        if (rest == 0) return;
        if (tailCap == 0) { // a cap of 1: nothing more is kept, but the drop is still counted and marked
            tailWritten += rest;
            return;
        }
        if (tail == null) tail = new byte[tailCap];
        int skip = Math.max(0, rest - tailCap); // bytes the ring would overwrite within this same write
        tailWritten += skip;
        int from = off + toHead + skip;
        int n = rest - skip;
        while (n > 0) {
            int pos = (int) (tailWritten % tailCap);
            int chunk = Math.min(n, tailCap - pos);
            System.arraycopy(b, from, tail, pos, chunk);
            from += chunk;
            n -= chunk;
            tailWritten += chunk;
        }
    }

    /** @return whether the middle was dropped */
    public synchronized boolean truncated() { return tailWritten > tailCap; }

    /** @return the kept text, with a line marking what was dropped */
    public synchronized String text() {
        String first = new String(head, 0, headLength, StandardCharsets.UTF_8);
        if (tailWritten == 0) return first;
        int kept = (int) Math.min(tailWritten, tailCap);
        byte[] last = new byte[kept];
        if (kept > 0) {
            int start = (int) ((tailWritten - kept) % tailCap);
            int firstChunk = Math.min(kept, tailCap - start);
            System.arraycopy(tail, start, last, 0, firstChunk);
            System.arraycopy(tail, 0, last, firstChunk, kept - firstChunk);
        }
        StringBuilder sb = new StringBuilder(first);
        if (truncated()) {
            sb.append("\n[... ").append(tailWritten - kept).append(" bytes of output omitted ...]\n");
        }
        return sb.append(new String(last, StandardCharsets.UTF_8)).toString();
    }
}
