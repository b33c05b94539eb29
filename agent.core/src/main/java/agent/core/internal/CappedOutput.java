package agent.core.internal;

import java.nio.charset.StandardCharsets;

import agent.api.Output;

/**
 * A command's output, at most {@code cap} bytes: the first half and the last half are kept, the middle is
 * dropped and marked (PROTOCOL.md §6). Thread-safe. Public (in a package the bundle does not export) for
 * agent.testkit.
 */
public final class CappedOutput implements Output {
    private final byte[] head;
    private final byte[] tail; // ring buffer of the newest bytes once head is full
    private int headLength;
    private long tailWritten;

    /** @param cap bytes kept at most */
    public CappedOutput(int cap) {
        this.head = new byte[cap - cap / 2];
        this.tail = new byte[cap / 2];
    }

    @Override
    public void write(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        write(b, 0, b.length);
    }

    /** @param b bytes @param off start @param len length */
    public synchronized void write(byte[] b, int off, int len) {
        int toHead = Math.min(len, head.length - headLength);
        System.arraycopy(b, off, head, headLength, toHead);
        headLength += toHead;
        for (int i = off + toHead; i < off + len; i++) {
            if (tail.length == 0) break;
            tail[(int) (tailWritten % tail.length)] = b[i];
            tailWritten++;
        }
    }

    /** @return whether the middle was dropped */
    public synchronized boolean truncated() { return tailWritten > tail.length; }

    /** @return the kept text, with a line marking what was dropped */
    public synchronized String text() {
        StringBuilder sb = new StringBuilder(new String(head, 0, headLength, StandardCharsets.UTF_8));
        if (tailWritten == 0) return sb.toString();
        int kept = (int) Math.min(tailWritten, tail.length);
        byte[] last = new byte[kept];
        int start = (int) ((tailWritten - kept) % Math.max(1, tail.length));
        for (int i = 0; i < kept; i++) last[i] = tail[(start + i) % tail.length];
        if (truncated()) {
            sb.append("\n[... ").append(tailWritten - kept).append(" bytes of output omitted ...]\n");
        }
        return sb.append(new String(last, StandardCharsets.UTF_8)).toString();
    }
}
