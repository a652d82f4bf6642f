package io.fiberloop.netty.http;

import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.FiberTimeoutException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.MessageConnection;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.Tcp;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.SSLException;

/**
 * A small HTTP/1.1 client for fibers: {@link #send(Request)} suspends the calling fiber until the
 * whole response has arrived. Its connections are fiberloop's own message connections
 * ({@link Tcp#connectMessages}, with Netty's client codec), so connecting, TLS, backpressure and
 * closing work as they do for every other connection. Connections are kept alive and reused per scheme, host and port;
 * each carries one request at a time. {@code https://} URIs go through Netty's {@code SslHandler}
 * with the context of {@link #tls(SslContext)}: by default the JDK's trust store, with the server's
 * host name checked against its certificate and sent as SNI.
 * {@snippet :
 * try (EventLoop loop = NettyLoops.newLoop()) {
 *     String body = loop.run(() -> {
 *         try (HttpClient client = HttpClient.create(loop)) {
 *             HttpClient.Response r = client.send(HttpClient.Request.get("http://127.0.0.1:8080/json"));
 *             return r.bodyString();
 *         }
 *     });
 * }
 * }
 * <p>Threading: {@link #send(Request)} and {@link #close()} from fibers of the client's loop only.
 * Responses are read whole, up to {@link #maxResponseSize(int)} bytes.
 */
public final class HttpClient implements AutoCloseable {
    private final EventLoop loop;
    private final Http1ClientPool http1 = new Http1ClientPool(this);
    private final Set<WsConnection> webSockets = new LinkedHashSet<>();
    private int maxResponseSize = 16 * 1024 * 1024;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private SslContext tls;
    private SslContext alpnTls;
    private Version version = Version.HTTP_1_1;
    private Http2ClientPool http2;
    private boolean closed;

    /** The protocol a client asks for. */
    public enum Version {
        /** HTTP/1.1: a connection per request in flight, kept alive and reused (the default). */
        HTTP_1_1,
        /**
         * HTTP/2: one connection per server, shared by every fiber that sends there, each request
         * on its own stream. {@code https://} offers {@code h2} by ALPN and goes on with HTTP/1.1
         * when the server picks that; {@code http://} speaks h2c with prior knowledge (the server
         * must speak HTTP/2 in clear text, as {@link HttpServer} does).
         */
        HTTP_2
    }

    private HttpClient(EventLoop loop) {
        this.loop = loop;
    }

    /**
     * A client whose connections live on {@code loop} (built with {@link NettyLoops}).
     * <p>Threading: any thread.
     *
     * @param loop the loop
     * @return the client
     */
    public static HttpClient create(EventLoop loop) {
        NettyLoops.nettyLoop(loop); // fails early without a Netty driver
        return new HttpClient(loop);
    }

    /**
     * Sets the largest response body accepted; a larger one fails its request.
     *
     * @param bytes the largest response body accepted (default 16 MiB)
     * @return this
     */
    public HttpClient maxResponseSize(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("maxResponseSize must be >= 0, was " + bytes);
        }
        this.maxResponseSize = bytes;
        return this;
    }

    /**
     * Chooses the protocol (default {@link Version#HTTP_1_1}).
     * {@snippet :
     * HttpClient client = HttpClient.create(loop).version(HttpClient.Version.HTTP_2);
     * // many fibers may send at once: their requests share one connection per server
     * }
     * <p>Threading: as {@link #send(Request)}, or any thread before the client is first used.
     *
     * @param version the protocol
     * @return this
     */
    public HttpClient version(Version version) {
        this.version = Objects.requireNonNull(version, "version");
        return this;
    }

    /**
     * Sets how long opening a connection may take (the TLS handshake has its own limit).
     *
     * @param timeout how long a connect may take (default 10 s)
     * @return this
     */
    public HttpClient connectTimeout(Duration timeout) {
        this.connectTimeout = Objects.requireNonNull(timeout, "timeout");
        return this;
    }

    /**
     * The TLS context for {@code https://} URIs, e.g. one that trusts a private certificate
     * authority: {@code SslContextBuilder.forClient().trustManager(caCertificate).build()}. Without
     * it the client builds {@code SslContextBuilder.forClient().build()} on its first
     * {@code https://} request: the JDK's trust store, host names checked. A connection that is
     * kept alive keeps the context it was opened with.
     * <p>Threading: as {@link #send(Request)}, or any thread before the client is first used.
     *
     * @param context a client context
     * @return this
     * @throws IllegalArgumentException if {@code context} is a server context
     */
    public HttpClient tls(SslContext context) {
        Objects.requireNonNull(context, "context");
        if (!context.isClient()) {
            throw new IllegalArgumentException("HttpClient.tls() needs a client context: build it with SslContextBuilder.forClient(), "
                    + "not forServer()");
        }
        this.tls = context;
        return this;
    }

    /**
     * Sends {@code request} and waits for the whole response. A reused connection that the server
     * closed meanwhile is replaced once, transparently.
     * <p>Threading: a fiber of the client's loop; suspends it.
     *
     * @param request the request
     * @return the response
     * @throws IOException if the connection fails or closes before the response is complete
     *         ({@link javax.net.ssl.SSLHandshakeException} if an {@code https://} server's
     *         certificate is not trusted or does not name the host)
     * @throws IllegalArgumentException for a URI that is neither {@code http://} nor {@code https://}
     * @throws FiberTimeoutException if the request's timeout passes first
     */
    public Response send(Request request) throws IOException {
        Objects.requireNonNull(request, "request");
        checkCaller("send");
        URI uri = request.uri;
        boolean secure = "https".equalsIgnoreCase(uri.getScheme());
        if (!secure && !"http".equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("only http:// and https:// URIs are supported, not " + uri);
        }
        String host = uri.getHost();
        int port = uri.getPort() >= 0 ? uri.getPort() : secure ? 443 : 80;
        String key = (secure ? "https://" : "http://") + host + ":" + port;
        if (version == Version.HTTP_2) {
            if (http2 == null) {
                http2 = new Http2ClientPool(this, loop);
            }
            Response r = http2.send(key, host, port, secure, request, maxResponseSize, connectTimeout);
            if (r != null) {
                return r;
            }
            // the server chose HTTP/1.1 by ALPN: its connection waits in the HTTP/1.1 pool
        }
        return http1.send(key, host, port, secure, request, maxResponseSize, connectTimeout);
    }

    /**
     * Checks that a call that suspends comes from a fiber of the client's loop, on an open client.
     *
     * @param method the public method, for the message
     * @throws IllegalStateException if not
     */
    private void checkCaller(String method) {
        if (!loop.inLoop() || Fiber.currentOrNull() == null) {
            throw new IllegalStateException("HttpClient." + method + "() must be called from a fiber of loop '" + loop.name()
                    + "': spawn one with Fibers.spawn(loop, ...)");
        }
        if (closed) {
            throw new IllegalStateException("the HttpClient is closed");
        }
    }

    /** {@return whether {@link #close()} was called} */
    boolean closed() {
        return closed;
    }

    /** An HTTP/2 connection that ALPN turned into HTTP/1.1: kept for the HTTP/1.1 exchanges. */
    void adoptHttp1(String key, MessageConnection<?, ?> io) {
        http1.adopt(key, io);
    }

    /** The TLS context; for HTTP/2 without a context of the user's, the default one offering h2 by ALPN. */
    SslContext tlsContext(boolean alpn) throws IOException {
        if (alpn && tls == null) {
            if (alpnTls == null) {
                try {
                    alpnTls = SslContextBuilder.forClient().applicationProtocolConfig(Http2Options.alpn()).build();
                } catch (SSLException e) {
                    throw new IOException("cannot build the default TLS client context: " + e.getMessage(), e);
                }
            }
            return alpnTls;
        }
        return tlsContext();
    }

    /** The TLS context for {@code https://} and {@code wss://}, built on first use. A fiber of the loop. */
    SslContext tlsContext() throws IOException {
        if (tls == null) {
            try {
                tls = SslContextBuilder.forClient().build();
            } catch (SSLException e) {
                throw new IOException("cannot build the default TLS client context: " + e.getMessage(), e);
            }
        }
        return tls;
    }

    /**
     * Opens a WebSocket to {@code uri} ({@code ws://} or {@code wss://}) with the default
     * {@link WebSocketOptions}: see {@link #webSocket(Request, WebSocketOptions)}.
     *
     * @param uri the endpoint, e.g. {@code ws://127.0.0.1:8080/ws/echo}
     * @return the open WebSocket; close it when done
     * @throws IOException if the connection or the handshake fails
     */
    public WebSocket webSocket(String uri) throws IOException {
        return webSocket(Request.get(uri), WebSocketOptions.defaults());
    }

    /**
     * Opens a WebSocket: connects (with TLS for {@code wss://}, through this client's
     * {@link #tls(SslContext) context}), sends the upgrade request with {@code request}'s headers
     * (e.g. {@code Origin}, {@code Authorization}), and returns once the server accepted it. The
     * subprotocols and permessage-deflate of {@code options} are offered; {@link WebSocket#subprotocol()}
     * and {@link WebSocket#compressed()} tell what was agreed. The WebSocket has its own connection
     * (not pooled); {@link #close()} closes the ones still open.
     * {@snippet :
     * try (WebSocket ws = client.webSocket("ws://127.0.0.1:8080/ws/echo")) {
     *     ws.send("hello");
     *     String echo = ws.receive().text();
     * }
     * }
     * <p>Threading: a fiber of the client's loop; suspends it. The WebSocket belongs to that loop.
     *
     * @param request a {@code GET} request whose URI is {@code ws://}, {@code wss://} (or
     *        {@code http://}, {@code https://}); its timeout bounds the handshake
     * @param options the connection's options
     * @return the open WebSocket
     * @throws IOException if the connection fails, or the server refuses the upgrade (the message
     *         carries its status)
     */
    public WebSocket webSocket(Request request, WebSocketOptions options) throws IOException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(options, "options");
        checkCaller("webSocket");
        Duration limit = request.timeout != null ? request.timeout : connectTimeout;
        WsConnection ws = WsClient.connect(loop, request.uri, request.headers, options, limit, this);
        webSockets.add(ws);
        ws.onEnd = () -> webSockets.remove(ws);
        return ws;
    }

    /** Closes every connection, and the WebSockets still open (with {@code 1001}). Threading: a fiber of the client's loop (idempotent). */
    @Override
    public void close() {
        closed = true;
        for (WsConnection ws : List.copyOf(webSockets)) {
            ws.endSession(WebSocket.GOING_AWAY, "client closing");
        }
        if (http2 != null) {
            http2.close();
        }
        http1.close();
    }

    /** A request to send: method, absolute {@code http://} or {@code https://} URI, headers, optional body and timeout. */
    public static final class Request {
        private final String method;
        private final URI uri;
        private final List<String> headers = new ArrayList<>(4);
        private byte[] body;
        private Duration timeout;

        private Request(String method, URI uri) {
            this.method = Objects.requireNonNull(method, "method").toUpperCase(java.util.Locale.ROOT);
            this.uri = Objects.requireNonNull(uri, "uri");
        }

        /**
         * A request with any method.
         *
         * @param method the method, e.g. {@code PUT}
         * @param uri an {@code http://host:port/path?query} (or {@code https://}) URI
         * @return a request
         */
        public static Request of(String method, String uri) {
            return new Request(method, URI.create(uri));
        }

        /**
         * A {@code GET} request.
         *
         * @param uri the URI
         * @return a {@code GET} request
         */
        public static Request get(String uri) {
            return of("GET", uri);
        }

        /**
         * A {@code POST} request with a text body.
         *
         * @param uri the URI
         * @param body the body (UTF-8)
         * @return a {@code POST} request
         */
        public static Request post(String uri, String body) {
            return of("POST", uri).body(body);
        }

        /**
         * Adds a header (repeatable for several values).
         *
         * @param name the header
         * @param value its value
         * @return this
         */
        public Request header(String name, String value) {
            headers.add(Objects.requireNonNull(name, "name"));
            headers.add(Objects.requireNonNull(value, "value"));
            return this;
        }

        /**
         * Sets the body.
         *
         * @param body the body (not copied)
         * @return this
         */
        public Request body(byte[] body) {
            this.body = Objects.requireNonNull(body, "body");
            return this;
        }

        /**
         * Sets a text body.
         *
         * @param body the body, in UTF-8
         * @return this
         */
        public Request body(String body) {
            return body(body.getBytes(StandardCharsets.UTF_8));
        }

        /**
         * Bounds the wait for the whole response.
         *
         * @param timeout the longest wait for the whole response (none by default)
         * @return this
         */
        public Request timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        String method() {
            return method;
        }

        URI uri() {
            return uri;
        }

        List<String> headerList() {
            return headers;
        }

        byte[] bodyBytes() {
            return body;
        }

        Duration timeoutOrNull() {
            return timeout;
        }

        @Override
        public String toString() {
            return method + " " + uri;
        }
    }

    /** A complete response. Immutable. */
    public static final class Response {
        private final int status;
        private final List<Map.Entry<String, String>> headers;
        private final byte[] body;
        private final boolean keepAlive;
        private final Charset charset;
        private final String version;

        Response(int status, List<Map.Entry<String, String>> headers, byte[] body, boolean keepAlive, Charset charset, String version) {
            this.version = version;
            this.status = status;
            this.headers = List.copyOf(headers);
            this.body = body;
            this.keepAlive = keepAlive;
            this.charset = charset;
        }

        /** {@return whether the server keeps the connection open for another request} */
        boolean keepAlive() {
            return keepAlive;
        }

        /** {@return the protocol that carried it: {@code HTTP/1.1} or {@code HTTP/2.0}} */
        public String version() {
            return version;
        }

        /** {@return the status code} */
        public int status() {
            return status;
        }

        /**
         * {@return the header's first value, or {@code null}}
         *
         * @param name a header (case-insensitive)
         */
        public String header(String name) {
            for (Map.Entry<String, String> e : headers) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue();
                }
            }
            return null;
        }

        /** {@return all headers in order} */
        public List<Map.Entry<String, String>> headers() {
            return headers;
        }

        /** {@return the body (a copy)} */
        public byte[] body() {
            return body.clone();
        }

        /** {@return the body decoded in its {@code Content-Type}'s charset (UTF-8 by default)} */
        public String bodyString() {
            return new String(body, charset);
        }

        @Override
        public String toString() {
            return "Response[" + status + ", " + body.length + " bytes]";
        }
    }
}
