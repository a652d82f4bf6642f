package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One HTTP request, as its handler sees it: method, path, query and path parameters, headers, and
 * the body as bytes, a string, an {@link InputStream} or chunk by chunk.
 * {@snippet :
 * server.post("/upload/{name}", req -> {
 *     long n = 0;
 *     try (InputStream in = req.bodyStream()) {       // streamed: bounded memory
 *         n = in.transferTo(OutputStream.nullOutputStream());
 *     }
 *     return HttpResponse.text(req.pathParam("name") + ": " + n + " bytes");
 * });
 * }
 *
 * <h2>The body</h2>
 * The body is read on demand: the server asks the socket for more only when the handler has taken
 * what arrived (at most one 64 KiB read is buffered), so a large upload to a slow handler is slowed
 * by TCP flow control instead of filling memory. With {@code Expect: 100-continue} the server sends
 * {@code 100 Continue} when the handler first reads the body; a handler that answers without reading
 * it (say, a {@code 401}) never makes the client send it. The body can be read once, by one of
 * {@link #bodyBytes()}, {@link #bodyString()}, {@link #bodyStream()} or {@link #readChunk()}.
 * A body larger than the server's limit raises {@link HttpException} {@code 413}, a malformed one
 * {@code 400}, one that stalls longer than the request timeout {@code 408}; let them propagate and
 * the client gets that status.
 *
 * <p>Threading: the request's fiber (the handler's), or other fibers of the same loop; never
 * another thread.
 */
public final class HttpRequest {
    /** The exchange it belongs to: set once, when the exchange is made of it. */
    Exchange exchange;
    final io.netty.handler.codec.http.HttpRequest head;
    private final String path;
    private final String rawQuery;
    /** Whether the client waits for {@code 100 Continue} before it sends the body. */
    final boolean expectContinue;
    private final boolean keepAlive;
    private Map<String, List<String>> query;
    Map<String, String> pathParams = Map.of();
    String route;
    private Map<String, Object> attributes;

    /** A checked request head's parts ({@link RequestHead}); {@link Exchange} makes it part of an exchange. */
    HttpRequest(io.netty.handler.codec.http.HttpRequest head, String path, String rawQuery, boolean expectContinue, boolean keepAlive) {
        this.head = head;
        this.path = path;
        this.rawQuery = rawQuery;
        this.expectContinue = expectContinue;
        this.keepAlive = keepAlive;
    }

    // ------------------------------------------------------------------ request line and headers

    /** {@return the method, e.g. {@code GET}} */
    public String method() {
        return head.method().name();
    }

    /** {@return the request target as sent, e.g. {@code /users/7?verbose=1}} */
    public String uri() {
        return head.uri();
    }

    /** {@return the decoded path, without the query, e.g. {@code /users/7}} */
    public String path() {
        return path;
    }

    /** {@return the raw query string (after {@code ?}, not decoded), or {@code null}} */
    public String rawQuery() {
        return rawQuery;
    }

    /** {@return the protocol version, e.g. {@code HTTP/1.1}} */
    public String version() {
        return exchange.conn.version(head);
    }

    /**
     * {@return its first value in the query string (decoded), or {@code null}}
     *
     * @param name the parameter name
     */
    public String queryParam(String name) {
        List<String> v = queryParams().get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    /** {@return every query parameter with its values, decoded (unmodifiable)} */
    public Map<String, List<String>> queryParams() {
        if (query == null) {
            query = rawQuery == null ? Map.of() : new QueryStringDecoder(rawQuery, false).parameters();
        }
        return query;
    }

    /**
     * {@return its value in this request's path, or {@code null}}
     *
     * @param name the name in the route, e.g. {@code id} for {@code /users/{id}}
     */
    public String pathParam(String name) {
        return pathParams.get(name);
    }

    /**
     * A path parameter converted to {@code type}: {@code req.pathParam("id", Long.class)}. A value
     * that does not convert is answered {@code 400} (an {@link HttpException} that names the
     * parameter), never {@code 500}. Types: {@code String}, the primitives and their boxes,
     * {@code UUID}, {@code BigInteger}, {@code BigDecimal}, enums (by name, case-insensitive as a
     * fallback) and public classes with a public static {@code valueOf(String)}, {@code of(String)}
     * or {@code parse(CharSequence)} ({@code LocalDate}, {@code Instant}, ...).
     * <p>Threading: the request's fiber (or another fiber of its loop).
     *
     * @param name the name in the route, e.g. {@code id} for {@code /users/{id}}
     * @param type the type wanted
     * @param <T> the type wanted
     * @return the converted value
     * @throws HttpException {@code 400} if the value is not a {@code type}
     * @throws IllegalArgumentException if the matched route has no such parameter, or {@code type}
     *         cannot be converted to (programming errors: fix the route or the type)
     */
    public <T> T pathParam(String name, Class<T> type) {
        String v = pathParams.get(name);
        if (v == null) {
            throw new IllegalArgumentException("route " + route + " has no path parameter '" + name + "': its parameters are "
                    + pathParams.keySet());
        }
        return ParamConverters.convert("path parameter", name, v, type);
    }

    /**
     * The first value of a query parameter converted to {@code type} (the types of
     * {@link #pathParam(String, Class)}), or {@code null} when it is absent.
     * <p>Threading: the request's fiber (or another fiber of its loop).
     *
     * @param name the parameter's name
     * @param type the type wanted; for a primitive type an absent parameter is a {@code 400}
     * @param <T> the type wanted
     * @return the converted value, or {@code null} when absent
     * @throws HttpException {@code 400} if the value is not a {@code type}, or a primitive is absent
     */
    public <T> T queryParam(String name, Class<T> type) {
        String v = queryParam(name);
        if (v == null) {
            if (type.isPrimitive()) {
                throw new HttpException(400, "query parameter '" + name + "' is required");
            }
            return null;
        }
        return ParamConverters.convert("query parameter", name, v, type);
    }

    /**
     * As {@link #queryParam(String, Class)}, with a default for an absent parameter.
     * <p>Threading: the request's fiber (or another fiber of its loop).
     *
     * @param name the parameter's name
     * @param type the type wanted
     * @param defaultValue returned when the parameter is absent
     * @param <T> the type wanted
     * @return the converted value, or {@code defaultValue}
     * @throws HttpException {@code 400} if the value is not a {@code type}
     */
    public <T> T queryParam(String name, Class<T> type, T defaultValue) {
        String v = queryParam(name);
        return v == null ? defaultValue : ParamConverters.convert("query parameter", name, v, type);
    }

    /** {@return the path parameters of the matched route (unmodifiable)} */
    public Map<String, String> pathParams() {
        return pathParams;
    }

    /** {@return the route pattern that matched, e.g. {@code /users/{id}}, or {@code null} (not found)} */
    public String route() {
        return route;
    }

    /**
     * {@return its first value, or {@code null}}
     *
     * @param name a header name (case-insensitive)
     */
    public String header(String name) {
        return head.headers().get(name);
    }

    /**
     * {@return all its values, in order}
     *
     * @param name a header name (case-insensitive)
     */
    public List<String> headers(String name) {
        return head.headers().getAll(name);
    }

    /** {@return all headers in order as (name, value) entries} */
    public List<Map.Entry<String, String>> headers() {
        return head.headers().entries();
    }

    /** {@return the {@code Content-Length}, or {@code -1} when the body is chunked or absent} */
    public long contentLength() {
        return HttpUtil.getContentLength(head, -1L);
    }

    /** {@return whether the connection stays open after this request (keep-alive)} */
    public boolean keepAlive() {
        return keepAlive;
    }

    /** {@return the client's address} */
    public SocketAddress remoteAddress() {
        return exchange.conn.channel().remoteAddress();
    }

    /** {@return the server's address the request came in on} */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) exchange.conn.channel().localAddress();
    }

    /**
     * Stores a value for later filters and the handler (e.g. the authenticated user).
     *
     * @param key the key
     * @param value the value; {@code null} removes it
     */
    public void attribute(String key, Object value) {
        if (attributes == null) {
            attributes = new HashMap<>();
        }
        if (value == null) {
            attributes.remove(key);
        } else {
            attributes.put(key, value);
        }
    }

    /**
     * {@return the value stored by {@link #attribute(String, Object)}, or {@code null}}
     *
     * @param key the key
     */
    public Object attribute(String key) {
        return attributes == null ? null : attributes.get(key);
    }

    // ------------------------------------------------------------------ body

    /**
     * Reads the whole body (at most the server's body limit).
     * <p>Threading: a fiber of the server's loop; suspends it while the body arrives.
     *
     * @return the body, empty when there is none
     * @throws IOException if the client went away
     * @throws HttpException 413, 400 or 408 (see the class comment)
     */
    public byte[] bodyBytes() throws IOException {
        if (head.headers().contains("Content-Encoding")) {
            return bodyStream().readAllBytes();
        }
        exchange.body.take("bodyBytes()");
        return exchange.body.bytes(contentLength());
    }

    /**
     * Reads the whole body as text, in the charset of its {@code Content-Type} (UTF-8 by default).
     *
     * @return the body
     * @throws IOException if the client went away
     */
    public String bodyString() throws IOException {
        Charset cs = HttpUtil.getCharset(head, StandardCharsets.UTF_8);
        return new String(bodyBytes(), cs);
    }

    /**
     * The body as a stream, read on demand. Closing it is optional (the server releases what is
     * left when the handler returns). A body sent with {@code Content-Encoding: gzip} or
     * {@code deflate} is inflated as it is read, bounded by the body limit once inflated
     * ({@code 413}); a corrupt one is a {@code 400}, another coding a {@code 415}. (So are
     * {@link #bodyBytes()}, {@link #bodyString()} and the JSON bindings; {@link #readChunk()} gives
     * the bytes as they arrived.)
     *
     * @return the stream
     * @throws HttpException {@code 415} for a {@code Content-Encoding} other than gzip, deflate or identity
     */
    public InputStream bodyStream() {
        exchange.body.take("bodyStream()");
        return InflatingStream.decode(exchange.body.stream(), header("Content-Encoding"), exchange.conn.config.maxBodySize);
    }

    /**
     * The next piece of the body as it arrived, or {@code null} at its end. <b>The caller owns the
     * buffer and must release it.</b>
     * <p>Threading: a fiber of the server's loop; suspends it until data arrives.
     *
     * @return the next chunk (never empty) or {@code null}
     * @throws IOException if the client went away
     */
    public ByteBuf readChunk() throws IOException {
        if (!exchange.body.taken()) {
            exchange.body.take("readChunk()");
        }
        return exchange.body.next();
    }

    /**
     * Reads the body as JSON into a {@code type}, through the server's {@link JsonCodec}
     * ({@code fiberloop-jackson}): {@code User u = req.body(User.class)}. Malformed JSON, or JSON
     * that does not fit the type, is answered {@code 400} with a short message (an
     * {@link HttpException}), never {@code 500}. The body is parsed as it arrives (bounded by the
     * body limit).
     * <p>Threading: a fiber of the server's loop; suspends it while the body arrives.
     *
     * @param type the type wanted
     * @param <T> the type wanted
     * @return the value
     * @throws IOException if the client went away
     * @throws HttpException {@code 400} for bad JSON; {@code 413}, {@code 408} as {@link #bodyBytes()}
     * @throws IllegalStateException if the server has no JSON codec
     */
    public <T> T body(Class<T> type) throws IOException {
        return body((java.lang.reflect.Type) type);
    }

    /**
     * As {@link #body(Class)}, for a generic type (e.g. a {@code ParameterizedType} for
     * {@code List<User>}).
     *
     * @param type the type wanted
     * @param <T> the type wanted
     * @return the value
     * @throws IOException if the client went away
     */
    public <T> T body(java.lang.reflect.Type type) throws IOException {
        return JsonBodies.read(exchange.conn.config, bodyStream(), type);
    }

    /**
     * Reads a body that is a JSON array element by element, as the bytes arrive: a large upload is
     * never held whole (memory stays at one element and the read-ahead).
     * {@snippet :
     * long n = 0;
     * for (Iterator<Item> it = req.bodyArray(Item.class); it.hasNext(); ) {
     *     store.save(it.next());
     *     n++;
     * }
     * }
     * <p>Threading: a fiber of the server's loop; the iterator suspends it while the body arrives.
     *
     * @param elementType the elements' type
     * @param <T> the elements' type
     * @return the elements; {@code hasNext}/{@code next} throw {@link HttpException} {@code 400} for
     *         bad JSON
     * @throws IOException if the client went away
     */
    public <T> Iterator<T> bodyArray(Class<T> elementType) throws IOException {
        return JsonBodies.readArray(exchange.conn.config, bodyStream(), elementType);
    }

    /**
     * The trailer fields that followed the body (an HTTP/2 request's trailing header block, or
     * the trailer of an HTTP/1.1 chunked body). They arrive after the body, so they are known
     * once the body has been read to its end; before that, and for requests without any, the
     * list is empty.
     * <p>Threading: as the body's readers.
     *
     * @return the trailer fields in order as (name, value) entries
     */
    public List<Map.Entry<String, String>> trailers() {
        return exchange.body.trailers();
    }

    /**
     * {@return its first value once the body has been read to its end, or {@code null}}
     *
     * @param name a trailer field name (case-insensitive)
     * @see #trailers()
     */
    public String trailer(String name) {
        return exchange.body.trailer(name);
    }

    @Override
    public String toString() {
        return "HttpRequest[" + head.method() + " " + head.uri() + "]";
    }
}
