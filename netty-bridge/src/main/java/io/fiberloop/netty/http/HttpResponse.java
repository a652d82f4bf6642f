package io.fiberloop.netty.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a handler returns: a status, headers and a body, which is empty, a byte array, a string
 * (UTF-8) or a {@linkplain #stream(Body) stream} written chunk by chunk.
 * {@snippet :
 * HttpResponse.text("Hello, World!");                       // 200, text/plain; charset=UTF-8
 * HttpResponse.json("{\"message\":\"Hello, World!\"}");     // 200, application/json
 * HttpResponse.status(201).header("Location", "/users/7");  // 201, empty body
 * HttpResponse.ok().contentType("text/csv").stream(out -> { ... });
 * }
 * The server adds {@code Date}, {@code Content-Length} (or chunked encoding for a stream without
 * one) and {@code Connection} itself. A response is a mutable builder used by one fiber; after
 * filters may change it before it is sent.
 */
public final class HttpResponse {
    /** Writes a streamed body. */
    @FunctionalInterface
    public interface Body {
        /**
         * Writes the body; the server ends it when this returns.
         * <p>Threading: the request's fiber, after the status and headers were sent.
         *
         * @param out the writer
         * @throws Exception anything; after the head went out the server can only drop the connection
         */
        void writeTo(BodyWriter out) throws Exception;
    }

    /**
     * Writes a server-sent event stream (see {@link HttpResponse#events}).
     */
    @FunctionalInterface
    public interface Events {
        /**
         * Sends the events; the stream ends when this returns.
         * <p>Threading: the request's fiber, after the status and headers were sent.
         *
         * @param sink where the events go
         * @throws Exception anything; after the head went out the server can only drop the connection
         */
        void send(EventSink sink) throws Exception;
    }

    private static final String[] NO_HEADERS = {};

    private int status;
    /** The headers: name, value, name, value... in {@code [0, headerEnd)}; an array made by the first header. */
    private String[] headers = NO_HEADERS;
    private int headerEnd;
    private byte[] body;
    private Body stream;
    /** A value the server serialises as JSON when it sends the response. */
    private Object jsonValue;
    /** The connection switched protocols (a WebSocket upgrade): nothing more is written. */
    private boolean switched;

    private HttpResponse(int status) {
        status(status, this);
    }

    private static void status(int status, HttpResponse r) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status must be a three-digit code, was " + status);
        }
        r.status = status;
    }

    /** {@return a new {@code 200 OK} with no body} */
    public static HttpResponse ok() {
        return new HttpResponse(200);
    }

    /**
     * {@return a new response with that status and no body}
     *
     * @param status the status code
     */
    public static HttpResponse status(int status) {
        return new HttpResponse(status);
    }

    /**
     * {@return a {@code 200} with {@code Content-Type: text/plain; charset=UTF-8}}
     *
     * @param text the body, sent in UTF-8
     */
    public static HttpResponse text(String text) {
        return ok().contentType("text/plain; charset=UTF-8").body(text);
    }

    /**
     * {@return a {@code 200} with {@code Content-Type: application/json}}
     *
     * @param json the body (already serialised), sent in UTF-8
     */
    public static HttpResponse json(String json) {
        return ok().contentType("application/json").body(json);
    }

    /**
     * A value serialised as JSON by the server's {@link JsonCodec} ({@code fiberloop-jackson})
     * when the response is sent: {@code HttpResponse.json(user)}. A {@code String} argument is
     * taken as JSON text already (see {@link #json(String)}).
     *
     * @param value the value
     * @return a {@code 200} with {@code Content-Type: application/json}
     */
    public static HttpResponse json(Object value) {
        if (value instanceof String s) {
            return json(s);
        }
        HttpResponse r = ok().contentType("application/json");
        r.jsonValue = Objects.requireNonNull(value, "value");
        return r;
    }

    /**
     * A JSON array streamed element by element as {@code elements} yields them (chunked, with
     * backpressure): a large result is never held whole.
     * {@snippet :
     * return HttpResponse.jsonArray(store.scan().iterator());
     * }
     *
     * @param elements the elements, serialised by the server's {@link JsonCodec}
     * @return a {@code 200} with {@code Content-Type: application/json}
     */
    public static HttpResponse jsonArray(java.util.Iterator<?> elements) {
        Objects.requireNonNull(elements, "elements");
        return ok().contentType("application/json").stream(out -> {
            if (!(out instanceof ExchangeWriter w)) {
                throw new IllegalStateException("jsonArray needs the server's body writer");
            }
            JsonBodies.writeArray(w, elements);
        });
    }

    /**
     * A file as the body: {@code 200} with the content type of its extension and its length,
     * sent from the page cache to the socket without copying on plain TCP ({@code FileRegion}).
     * For a directory of files with caching and ranges, use {@link StaticFiles}.
     * <p>Threading: any thread (the file is read when the response is sent).
     *
     * @param path a regular file
     * @return the response
     * @throws IOException if the file cannot be read (e.g. {@link java.nio.file.NoSuchFileException})
     */
    public static HttpResponse file(java.nio.file.Path path) throws IOException {
        if (!java.nio.file.Files.isRegularFile(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString(), null, "not a regular file");
        }
        long size = java.nio.file.Files.size(path);
        return ok().contentType(ContentTypes.of(path.getFileName().toString())).fileBody(path, 0, size);
    }

    /** Sets a part of a file as the body, with its {@code Content-Length}. */
    HttpResponse fileBody(java.nio.file.Path path, long offset, long length) {
        setHeader("Content-Length", length);
        return stream(out -> FileBodies.send(out, path, offset, length));
    }

    /**
     * A server-sent event stream ({@code text/event-stream}, for a browser's {@code EventSource}):
     * {@code events} runs in the request's fiber and sends events through an {@link EventSink}
     * until it returns or the client goes away.
     * {@snippet :
     * .get("/events", req -> HttpResponse.events(sink -> {
     *     for (int i = 1; i <= 10; i++) {
     *         sink.event("count", Integer.toString(i), Integer.toString(i));   // name, data, id
     *         Fibers.sleep(Duration.ofSeconds(1));
     *     }
     * }))
     * }
     * The response carries {@code Cache-Control: no-cache} and is never compressed; each event is
     * flushed as it is sent.
     *
     * @param events sends the events
     * @return a {@code 200} with {@code Content-Type: text/event-stream}
     */
    public static HttpResponse events(Events events) {
        Objects.requireNonNull(events, "events");
        return ok().contentType("text/event-stream; charset=UTF-8").header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no")
                .stream(out -> {
                    String last = out instanceof ExchangeWriter w ? w.request().header("Last-Event-ID") : null;
                    events.send(new SseWriter(out, last));
                });
    }

    /**
     * {@return a response with that status and a {@code text/plain} body}
     *
     * @param status an error status
     * @param message the plain-text body
     */
    public static HttpResponse error(int status, String message) {
        return status(status).contentType("text/plain; charset=UTF-8").body(message);
    }

    /** {@return the status code} */
    public int status() {
        return status;
    }

    /**
     * Changes the status.
     *
     * @param status the status code
     * @return this
     */
    public HttpResponse withStatus(int status) {
        status(status, this);
        return this;
    }

    /**
     * Adds a header (a second value of the same name adds a second line).
     *
     * @param name the header name
     * @param value its value (validated when sent: no CR/LF)
     * @return this
     */
    public HttpResponse header(String name, Object value) {
        Objects.requireNonNull(name, "name");
        String v = String.valueOf(Objects.requireNonNull(value, "value"));
        String[] h = headers;
        int end = headerEnd;
        if (end == h.length) {
            headers = h = Arrays.copyOf(h, end == 0 ? 4 : end * 2); // two headers, the usual at most, before it grows
        }
        h[end] = name;
        h[end + 1] = v;
        headerEnd = end + 2;
        return this;
    }

    /**
     * Replaces every header named {@code name} with one value.
     *
     * @param name the header name (case-insensitive)
     * @param value its value
     * @return this
     */
    public HttpResponse setHeader(String name, Object value) {
        removeHeader(name);
        return header(name, value);
    }

    /**
     * Removes every header named {@code name}.
     *
     * @param name the header name (case-insensitive)
     * @return this
     */
    public HttpResponse removeHeader(String name) {
        String[] h = headers;
        int kept = 0;
        for (int i = 0; i < headerEnd; i += 2) {
            if (!h[i].equalsIgnoreCase(name)) {
                h[kept] = h[i];
                h[kept + 1] = h[i + 1];
                kept += 2;
            }
        }
        Arrays.fill(h, kept, headerEnd, null);
        headerEnd = kept;
        return this;
    }

    /**
     * {@return its first value, or {@code null}}
     *
     * @param name the header name (case-insensitive)
     */
    public String headerOrNull(String name) {
        for (int i = 0; i < headerEnd; i += 2) {
            if (headers[i].equalsIgnoreCase(name)) {
                return headers[i + 1];
            }
        }
        return null;
    }

    /** {@return the headers in order, as (name, value) entries} */
    public List<Map.Entry<String, String>> headers() {
        List<Map.Entry<String, String>> out = new ArrayList<>(headerEnd / 2);
        for (int i = 0; i < headerEnd; i += 2) {
            out.add(Map.entry(headers[i], headers[i + 1]));
        }
        return out;
    }

    /**
     * Sets {@code Content-Type}.
     *
     * @param contentType e.g. {@code text/html; charset=UTF-8}
     * @return this
     */
    public HttpResponse contentType(String contentType) {
        return setHeader("Content-Type", contentType);
    }

    /**
     * Sets the body to {@code text} in UTF-8.
     *
     * @param text the body
     * @return this
     */
    public HttpResponse body(String text) {
        return body(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sets the body (not copied: do not change the array afterwards).
     *
     * @param bytes the body
     * @return this
     */
    public HttpResponse body(byte[] bytes) {
        this.body = Objects.requireNonNull(bytes, "bytes");
        this.stream = null;
        this.jsonValue = null;
        return this;
    }

    /**
     * Streams the body: {@code body} runs in the request's fiber once the status and headers are
     * sent. Without a {@code Content-Length} header the body is sent chunked.
     *
     * @param body writes the body
     * @return this
     */
    public HttpResponse stream(Body body) {
        this.stream = Objects.requireNonNull(body, "body");
        this.body = null;
        this.jsonValue = null;
        return this;
    }

    /** What a WebSocket route's handler returns: its {@code 101} was sent, and the connection is the WebSocket's now. */
    static HttpResponse switched() {
        HttpResponse r = new HttpResponse(101);
        r.switched = true;
        return r;
    }

    /** {@return whether the connection switched protocols and nothing is to be written} */
    boolean isSwitched() {
        return switched;
    }

    /** {@return the value to serialise as JSON, or {@code null}} */
    Object jsonValue() {
        return jsonValue;
    }

    /** {@return the body bytes, or {@code null} when there is none or it is streamed} */
    public byte[] bodyBytes() {
        return body;
    }

    /** {@return the body writer of a streamed response, or {@code null}} */
    public Body streamBody() {
        return stream;
    }

    /** {@return the headers as they are kept: name, value, name, value... up to {@link #headerEnd()}; not to be changed} */
    String[] rawHeaders() {
        return headers;
    }

    /** {@return where the headers end in {@link #rawHeaders()}: twice their number} */
    int headerEnd() {
        return headerEnd;
    }

    /** {@return the headers as a list: name, value, name, value... (a view, for reading)} */
    List<String> rawHeaderList() {
        return Arrays.asList(headers).subList(0, headerEnd);
    }

    @Override
    public String toString() {
        return "HttpResponse[" + status + (body != null ? ", " + body.length + " bytes" : stream != null ? ", streamed" : "") + "]";
    }
}
