package server.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

import com.google.gson.JsonElement;

/** One HTTP request and its response, with the few things the APIs need: bounded bodies, JSON, errors. */
public final class Exchange {
    private final Request request;
    private final Response response;
    private final Callback callback;
    private final String path;
    private Fields query;
    /** Authorised by a console session (and its CSRF token) rather than a bearer token. */
    private boolean bySession;

    Exchange(Request request, Response response, Callback callback) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.path = Request.getPathInContext(request);
    }

    /** Marks the request as authorised by a console session, checked by the caller (server.console.Console). */
    void authorisedBySession() {
        bySession = true;
    }

    /** Whether a console session authorised this request (then no bearer token is asked for). */
    public boolean bySession() {
        return bySession;
    }

    public Request request() {
        return request;
    }

    public Response response() {
        return response;
    }

    /** Completes the response: the handler is done with it (a stream ends, a written body is sent). */
    public Callback callback() {
        return callback;
    }

    /** A request header by name, or null. */
    public String header(String name) {
        return request.getHeaders().get(name);
    }

    public String method() {
        return request.getMethod();
    }

    public String path() {
        return path;
    }

    /** The client's address (null if Jetty cannot tell). */
    public java.net.InetAddress remoteAddress() {
        java.net.SocketAddress a = request.getConnectionMetaData().getRemoteSocketAddress();
        return a instanceof java.net.InetSocketAddress isa ? isa.getAddress() : null;
    }

    public String header(HttpHeader h) {
        return request.getHeaders().get(h);
    }

    /** A query parameter, or null. */
    public String query(String name) {
        if (query == null) query = Request.extractQueryParameters(request);
        Fields.Field f = query.get(name);
        return f == null ? null : f.getValue();
    }

    /** Where to finish a response that waited for something (Jetty's thread pool). */
    public java.util.concurrent.Executor executor() {
        return request.getComponents().getExecutor();
    }

    /** Runs {@code listener} if the request fails while it waits, e.g. when the client goes away. */
    public void onFailure(java.util.function.Consumer<Throwable> listener) {
        request.addFailureListener(listener);
    }

    public void requireMethod(String... allowed) {
        for (String m : allowed) if (m.equals(method())) return;
        throw new ApiException(405, method() + " is not allowed on " + path + " (allowed: " + String.join(", ", allowed) + ")");
    }

    /** The body as bytes, refusing more than {@code limit} bytes with 413. */
    public byte[] body(long limit) {
        long declared = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declared > limit) throw tooLarge(limit);
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            if (b.length > limit) throw tooLarge(limit);
            return b;
        } catch (IOException e) {
            throw ApiException.badRequest("cannot read the request body: " + e.getMessage());
        }
    }

    /** Streams the body to {@code out}, refusing more than {@code limit} bytes with 413; returns the size. */
    public long bodyTo(OutputStream out, long limit) throws IOException {
        long declared = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declared > limit) throw tooLarge(limit);
        long total = 0;
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > limit) throw tooLarge(limit);
                out.write(buf, 0, n);
            }
        }
        return total;
    }

    /** The body as a stream, for a handler that bounds and checks what it reads itself. */
    public InputStream bodyStream() {
        return Content.Source.asInputStream(request);
    }

    private static ApiException tooLarge(long limit) {
        return new ApiException(413, "the request body is larger than the limit of " + limit + " bytes");
    }

    public String bodyString(long limit) {
        return new String(body(limit), StandardCharsets.UTF_8);
    }

    public com.google.gson.JsonObject jsonBody(long limit) {
        String text = bodyString(limit);
        if (text.isBlank()) throw ApiException.badRequest("the request body is empty: a JSON object is expected");
        return Json.parseObject(text, "the request body");
    }

    public void json(int status, JsonElement body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        Content.Sink.write(response, true, Json.GSON.toJson(body), callback);
    }

    /** A response of headers only. */
    public void empty(int status, List<HttpField> headers) {
        response.setStatus(status);
        for (HttpField f : headers) response.getHeaders().put(f);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 0L);
        response.write(true, null, callback);
    }

    public void bytes(int status, String contentType, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    /**
     * Streams {@code length} bytes of a file from {@code offset} (a data set, a range of one), without reading it into
     * memory; {@code headOnly} sends the headers alone.
     */
    public void file(int status, String contentType, java.nio.file.Path file, long offset, long length, List<HttpField> headers,
                     boolean headOnly) {
        response.setStatus(status);
        for (HttpField f : headers) response.getHeaders().put(f);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
        if (headOnly) response.write(true, null, callback);
        else Content.copy(Content.Source.from(file, offset, length), response, callback);
    }

    public void error(int status, String message, List<HttpField> extraHeaders) {
        if (response.isCommitted()) {
            callback.failed(new IOException(message));
            return;
        }
        response.reset();
        for (HttpField f : extraHeaders) response.getHeaders().put(f);
        // a body the handler did not read (it refused the request first) is read and dropped before the answer:
        // left unread, Jetty closes the connection after answering, and a client that sends its next request on
        // it gets no answer ("header parser received no bytes"). A body too big to drain closes it, saying so.
        // A body declared bigger than that is not read at all (a refused 64 GiB upload is answered at once).
        long declared = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declared > DRAIN_LIMIT || !drainBody(DRAIN_LIMIT)) response.getHeaders().put(HttpHeader.CONNECTION, "close");
        json(status, Json.error(message));
    }

    /**
     * An error answered without reading the body at all (an upload refused for its declared size: the client must not
     * have to send it first); the connection is closed after.
     */
    public void errorUnread(int status, String message, List<HttpField> extraHeaders) {
        if (response.isCommitted()) {
            callback.failed(new IOException(message));
            return;
        }
        response.reset();
        for (HttpField f : extraHeaders) response.getHeaders().put(f);
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        json(status, Json.error(message));
    }

    private static final long DRAIN_LIMIT = 1 << 20;

    /**
     * Reads and drops a request body the handler answers without reading (up to 1 MiB, else the connection is closed
     * after the answer), so that a client still sending it gets the answer and keeps its connection.
     */
    public void discardBody() {
        long declared = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
        if (declared > DRAIN_LIMIT || !drainBody(DRAIN_LIMIT)) response.getHeaders().put(HttpHeader.CONNECTION, "close");
    }

    /** @return whether the request body ended within {@code limit} bytes (read and dropped) */
    private boolean drainBody(long limit) {
        try (InputStream in = Content.Source.asInputStream(request)) {
            byte[] buf = new byte[8192];
            long total = 0;
            for (int n; (n = in.read(buf)) >= 0; ) {
                total += n;
                if (total > limit) return false;
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
