package server.gateway;

/** Codes of the server's {@code error} frame (docs/protocol.md §3); the server closes the connection after it. */
public enum ErrorCode {
    /** A malformed frame, a frame before hello, or a field of the wrong shape. Close code 4400. */
    PROTOCOL_ERROR(4400),
    /** The hello names a protocol version this server does not speak. Close code 4400. */
    UNSUPPORTED_PROTOCOL(4400),
    /** Missing or unknown agent token. Close code 4401. */
    UNAUTHORIZED(4401),
    /** The same agent connected again; this older connection is closed. Close code 4409. */
    REPLACED(4409),
    /** The server failed to store what the agent sent; the agent reconnects and re-sends. Close code 1011. */
    SERVER_ERROR(1011);

    private final int closeCode;

    ErrorCode(int closeCode) {
        this.closeCode = closeCode;
    }

    public int closeCode() {
        return closeCode;
    }

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
