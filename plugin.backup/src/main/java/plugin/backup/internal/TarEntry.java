package plugin.backup.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * One line of GNU tar's verbose listing ({@code -v}, {@code --quoting-style=c}), as {@code tar --list} and
 * {@code --index-file} print it: {@code -rw-r--r-- root/root 1234 2026-11-30 18:13 "name"}, with
 * {@code -> "target"} for a symbolic link and {@code link to "target"} for a hard link. The c quoting makes the line
 * unambiguous whatever a name holds (spaces, arrows, newlines, bytes that are not UTF-8).
 *
 * @param type       tar's type letter: {@code -} file, {@code d} directory, {@code l} symbolic link, {@code h} hard
 *                   link, {@code c}/{@code b} devices, {@code p} fifo, others rare
 * @param name       the member name as stored
 * @param size       the size column (0 for devices, which show major,minor there)
 * @param link       a link's target as stored, or null
 * @param validUtf8  whether the name and target are valid UTF-8 (else they hold replacement characters)
 */
record TarEntry(char type, String name, long size, String link, boolean validUtf8) {

    /**
     * @param line a listing line
     * @return the entry, or null for a line that is not one (tar's {@code x:}/{@code a:} lines under an entry)
     * @throws IllegalArgumentException if it looks like an entry but cannot be read
     */
    static TarEntry parse(String line) {
        if (line.isEmpty() || line.charAt(0) == ' ') return null;
        int quote = line.indexOf('"');
        if (quote < 0) throw new IllegalArgumentException("no quoted name in tar's listing line " + line);
        String[] cols = line.substring(0, quote).trim().split("\\s+");
        if (cols.length < 4 || cols[0].length() < 10) throw new IllegalArgumentException("unexpected tar listing line " + line);
        char type = cols[0].charAt(0);
        long size = 0;
        if (type != 'c' && type != 'b') {
            try {
                size = Long.parseLong(cols[2]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("no size in tar's listing line " + line);
            }
        }
        boolean[] valid = {true};
        int[] at = {quote};
        String name = quoted(line, at, valid);
        String link = null;
        String rest = line.substring(at[0]);
        if (rest.startsWith(" -> \"") || rest.startsWith(" link to \"")) {
            at[0] += rest.indexOf('"');
            link = quoted(line, at, valid);
            rest = line.substring(at[0]);
        }
        if (!rest.isEmpty()) throw new IllegalArgumentException("unexpected text after the name in tar's listing line " + line);
        return new TarEntry(type, name, size, link, valid[0]);
    }

    /** Reads a c-quoted string starting at {@code at[0]} (the opening quote) and leaves {@code at[0]} after it. */
    private static String quoted(String line, int[] at, boolean[] valid) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int i = at[0] + 1;
        while (true) {
            if (i >= line.length()) throw new IllegalArgumentException("unterminated name in tar's listing line " + line);
            char c = line.charAt(i++);
            if (c == '"') break;
            if (c != '\\') {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
                continue;
            }
            if (i >= line.length()) throw new IllegalArgumentException("unterminated escape in tar's listing line " + line);
            char e = line.charAt(i++);
            if (e >= '0' && e <= '7') {
                int v = e - '0';
                for (int k = 0; k < 2 && i < line.length() && line.charAt(i) >= '0' && line.charAt(i) <= '7'; k++) {
                    v = v * 8 + (line.charAt(i++) - '0');
                }
                bytes.write(v);
                continue;
            }
            bytes.write(switch (e) {
                case 'n' -> '\n';
                case 't' -> '\t';
                case 'r' -> '\r';
                case 'a' -> 7;
                case 'b' -> '\b';
                case 'f' -> '\f';
                case 'v' -> 11;
                default -> e; // \\ \" \? and the like
            });
        }
        at[0] = i;
        byte[] raw = bytes.toByteArray();
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException x) {
            valid[0] = false;
            return new String(raw, StandardCharsets.UTF_8);
        }
    }

    /** @return whether this is a regular file's content (a hard link carries none) */
    boolean isFile() { return type == '-' || type == 'C'; }

    boolean isDirectory() { return type == 'd'; }

    boolean isSymlink() { return type == 'l'; }

    boolean isHardLink() { return type == 'h'; }

    boolean isDevice() { return type == 'c' || type == 'b'; }

    boolean isFifo() { return type == 'p'; }

    /** @return what this kind of entry is called in messages */
    String kind() {
        return switch (type) {
            case '-', 'C' -> "file";
            case 'd' -> "directory";
            case 'l' -> "symbolic link";
            case 'h' -> "hard link";
            case 'c' -> "character device";
            case 'b' -> "block device";
            case 'p' -> "fifo";
            case 'V' -> "volume label";
            case 'M' -> "multi-volume continuation";
            case 'D' -> "incremental dump directory";
            default -> "entry of type '" + type + "'";
        };
    }
}
