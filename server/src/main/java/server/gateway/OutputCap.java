package server.gateway;

import java.nio.charset.StandardCharsets;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * Caps a result's {@code output} at the server as the agent caps it (docs/protocol.md §6): at most
 * {@code max_output_bytes} of UTF-8 are kept, the first and the last halves, with a line saying how much was dropped,
 * and {@code outputTruncated: true}. An output the agent capped already (its halves and its line) is left alone.
 */
public final class OutputCap {
    /** Room for the agent's own "[... N bytes of output omitted ...]" line and a character split at a cut. */
    static final int SLACK = 128;

    private OutputCap() {}

    /** Caps {@code result}'s output in place; returns whether it cut anything. */
    public static boolean apply(JsonObject result, int maxBytes) {
        JsonElement out = result.get("output");
        if (out == null || !out.isJsonPrimitive() || !out.getAsJsonPrimitive().isString()) return false;
        String text = out.getAsString();
        long limit = (long) maxBytes + SLACK;
        if ((long) text.length() * 3 <= limit) return false; // at most 3 bytes a char: no need to count
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (b.length <= limit) return false;
        int headEnd = maxBytes - maxBytes / 2;
        while (headEnd > 0 && (b[headEnd] & 0xC0) == 0x80) headEnd--; // not inside a character
        int tailStart = b.length - maxBytes / 2;
        while (tailStart < b.length && (b[tailStart] & 0xC0) == 0x80) tailStart++;
        String kept = new String(b, 0, headEnd, StandardCharsets.UTF_8)
            + "\n[... " + (tailStart - headEnd) + " bytes of output omitted ...]\n"
            + new String(b, tailStart, b.length - tailStart, StandardCharsets.UTF_8);
        result.addProperty("output", kept);
        result.addProperty("outputTruncated", true);
        return true;
    }
}
