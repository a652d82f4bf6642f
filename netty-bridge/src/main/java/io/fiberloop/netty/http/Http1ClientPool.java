package io.fiberloop.netty.http;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.netty.MessageConnection;
import io.fiberloop.netty.Tcp;
import io.fiberloop.netty.TcpOptions;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@link HttpClient}'s HTTP/1.1 connections: fiberloop's own message connections
 * ({@link Tcp#connectMessages}, with Netty's client codec and aggregator in front), kept alive
 * and reused per scheme, host and port, each carrying one request at a time. The most recently
 * used idle connection goes first; one the server closed meanwhile is dropped, and a request whose
 * reused connection turns out closed before the response began is sent again, once, on a fresh
 * one. A connection that ALPN turned from HTTP/2 into HTTP/1.1 joins the pool
 * ({@link #adopt}). A request that fails, times out or is cancelled closes its connection: its
 * state is unknown.
 *
 * <p>Threading: fibers of the client's loop.
 */
final class Http1ClientPool {
    /** A connection to one server. */
    private record Conn(String key, MessageConnection<HttpObject, Object> io) {
    }

    private final HttpClient client;
    private final Map<String, ArrayDeque<Conn>> idle = new HashMap<>();
    private final Set<Conn> all = new LinkedHashSet<>();

    Http1ClientPool(HttpClient client) {
        this.client = client;
    }

    /**
     * Sends {@code request} to the server {@code key} names on a pooled or new connection, and
     * reads the whole response.
     *
     * @param key scheme, host and port ({@code http://host:port})
     * @return the response
     * @throws IOException if the connection fails or closes before the response is complete
     */
    HttpClient.Response send(String key, String host, int port, boolean secure, HttpClient.Request request, int maxResponseSize,
            Duration connectTimeout) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Conn c = takeIdle(key);
            boolean reused = c != null;
            if (c == null) {
                c = connect(key, host, port, secure, maxResponseSize, connectTimeout);
            }
            try {
                return exchange(c, host, port, secure, request);
            } catch (StaleConnection e) {
                if (!reused || attempt > 0) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        }
    }

    private HttpClient.Response exchange(Conn c, String host, int port, boolean secure, HttpClient.Request request) throws IOException {
        URI uri = request.uri();
        String target = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        byte[] body = request.bodyBytes();
        String method = request.method();
        DefaultFullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), target,
                body == null ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        HttpHeaders hs = r.headers();
        boolean defaultPort = port == (secure ? 443 : 80);
        hs.set(HttpHeaderNames.HOST, defaultPort ? host : host + ":" + port);
        List<String> headers = request.headerList();
        for (int i = 0; i < headers.size(); i += 2) {
            hs.add(headers.get(i), headers.get(i + 1));
        }
        if (body != null || method.equals("POST") || method.equals("PUT")) {
            hs.set(HttpHeaderNames.CONTENT_LENGTH, body == null ? 0 : body.length);
        }
        HttpClient.Response res;
        boolean ok = false;
        try {
            c.io().write(r);
            Duration timeout = request.timeoutOrNull();
            res = timeout == null ? receive(c) : Fibers.withTimeout(timeout, () -> receive(c));
            ok = true;
        } finally {
            if (!ok) {
                discard(c); // a failure, timeout or cancellation: the connection is in an unknown state
            }
        }
        if (res.keepAlive() && c.io().isOpen() && !client.closed()) {
            idle.computeIfAbsent(c.key(), k -> new ArrayDeque<>()).addLast(c);
        } else {
            discard(c);
        }
        return res;
    }

    /** Reads the response to the request just written. */
    private static HttpClient.Response receive(Conn c) throws IOException {
        HttpObject msg = c.io().read();
        if (msg == null) {
            throw new StaleConnection("the server closed the connection before responding", null);
        }
        if (!(msg instanceof FullHttpResponse full)) {
            ReferenceCountUtil.release(msg);
            throw new IOException("unexpected message from the server: " + msg.getClass().getSimpleName());
        }
        try {
            if (!full.decoderResult().isSuccess()) {
                throw new IOException("malformed response: " + full.decoderResult().cause(), full.decoderResult().cause());
            }
            return new HttpClient.Response(full.status().code(), full.headers().entries(), ByteBufUtil.getBytes(full.content()),
                    HttpUtil.isKeepAlive(full), HttpUtil.getCharset(full, StandardCharsets.UTF_8), "HTTP/1.1");
        } finally {
            full.release();
        }
    }

    private Conn takeIdle(String key) {
        ArrayDeque<Conn> q = idle.get(key);
        if (q == null) {
            return null;
        }
        Conn c;
        while ((c = q.pollLast()) != null) {
            if (c.io().isOpen()) {
                return c;
            }
            discard(c);
        }
        return null;
    }

    private void discard(Conn c) {
        all.remove(c);
        c.io().close();
    }

    /** An HTTP/2 connection that ALPN turned into HTTP/1.1: kept for the HTTP/1.1 exchanges. */
    @SuppressWarnings("unchecked")
    void adopt(String key, MessageConnection<?, ?> io) {
        Conn c = new Conn(key, (MessageConnection<HttpObject, Object>) io);
        all.add(c);
        idle.computeIfAbsent(key, k -> new ArrayDeque<>()).addLast(c);
    }

    /** Connects, with TLS when {@code secure} (then returns once the handshake succeeded). */
    private Conn connect(String key, String host, int port, boolean secure, int maxResponseSize, Duration connectTimeout)
            throws IOException {
        TcpOptions options = TcpOptions.defaults();
        if (secure) {
            options = options.withTls(client.tlsContext());
        }
        MessageConnection<HttpObject, Object> io = Tcp.connectMessages(host, port, connectTimeout, options,
                p -> p.addLast(new HttpClientCodec(), new HttpObjectAggregator(maxResponseSize)));
        Conn c = new Conn(key, io);
        all.add(c);
        return c;
    }

    /** Closes every connection, idle or in use. */
    void close() {
        for (Conn c : List.copyOf(all)) {
            discard(c);
        }
        idle.clear();
    }

    /** A connection closed before the response began: retried once on a fresh connection. */
    private static final class StaleConnection extends IOException {
        private static final long serialVersionUID = 1L;

        StaleConnection(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
