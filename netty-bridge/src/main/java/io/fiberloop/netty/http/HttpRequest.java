package io.fiberloop.netty.http;

import io.fiberloop.fiber.Task;
import io.fiberloop.loop.TimerHandle;
import io.fiberloop.loop.spi.WakeTask;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

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
    final ServerConnection conn;
    final io.netty.handler.codec.http.HttpRequest head;
    final long startNanos;
    private final String path;
    private final String rawQuery;
    private Map<String, List<String>> query;
    Map<String, String> pathParams = Map.of();
    String route;
    private Map<String, Object> attributes;
    Task<Void> task;

    // body (carrier only: Netty side offers, the fiber takes)
    /** Body pieces not taken yet; created by the first non-empty piece (a request without a body never needs it). */
    private ArrayDeque<ByteBuf> inbox;
    private long inboxBytes;
    private long bodyReceived;
    boolean bodyEnded;
    private HttpException bodyFailure;
    private final boolean expectContinue;
    private boolean continueSent;
    private boolean bodyTaken;
    private Thread reader;
    private boolean readTimedOut;
    private ByteBuf streamChunk;

    // response
    boolean headSent;
    int status;
    long bytesSent;
    boolean done;

    HttpRequest(ServerConnection conn, io.netty.handler.codec.http.HttpRequest head, String path, String rawQuery, boolean expectContinue) {
        this.conn = conn;
        this.head = head;
        this.path = path;
        this.rawQuery = rawQuery;
        this.expectContinue = expectContinue;
        this.startNanos = conn.server.accessLog ? System.nanoTime() : 0L; // only the access log reads it
    }

    // ------------------------------------------------------------------ request line and headers

    /** @return the method, e.g. {@code GET} */
    public String method() {
        return head.method().name();
    }

    /** @return the request target as sent, e.g. {@code /users/7?verbose=1} */
    public String uri() {
        return head.uri();
    }

    /** @return the decoded path, without the query, e.g. {@code /users/7} */
    public String path() {
        return path;
    }

    /** @return the raw query string (after {@code ?}, not decoded), or {@code null} */
    public String rawQuery() {
        return rawQuery;
    }

    /** @return the protocol version, e.g. {@code HTTP/1.1} */
    public String version() {
        return head.protocolVersion().text();
    }

    /**
     * @param name the parameter name
     * @return its first value in the query string (decoded), or {@code null}
     */
    public String queryParam(String name) {
        List<String> v = queryParams().get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    /** @return every query parameter with its values, decoded (unmodifiable) */
    public Map<String, List<String>> queryParams() {
        if (query == null) {
            query = rawQuery == null ? Map.of() : new QueryStringDecoder(rawQuery, false).parameters();
        }
        return query;
    }

    /**
     * @param name the name in the route, e.g. {@code id} for {@code /users/{id}}
     * @return its value in this request's path, or {@code null}
     */
    public String pathParam(String name) {
        return pathParams.get(name);
    }

    /** @return the path parameters of the matched route (unmodifiable) */
    public Map<String, String> pathParams() {
        return pathParams;
    }

    /** @return the route pattern that matched, e.g. {@code /users/{id}}, or {@code null} (not found) */
    public String route() {
        return route;
    }

    /**
     * @param name a header name (case-insensitive)
     * @return its first value, or {@code null}
     */
    public String header(String name) {
        return head.headers().get(name);
    }

    /**
     * @param name a header name (case-insensitive)
     * @return all its values, in order
     */
    public List<String> headers(String name) {
        return head.headers().getAll(name);
    }

    /** @return all headers in order as (name, value) entries */
    public List<Map.Entry<String, String>> headers() {
        return head.headers().entries();
    }

    /** @return the {@code Content-Length}, or {@code -1} when the body is chunked or absent */
    public long contentLength() {
        return HttpUtil.getContentLength(head, -1L);
    }

    /** @return whether the connection stays open after this request (keep-alive) */
    public boolean keepAlive() {
        return HttpUtil.isKeepAlive(head);
    }

    /** @return the client's address */
    public SocketAddress remoteAddress() {
        return conn.ch.remoteAddress();
    }

    /** @return the server's address the request came in on */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) conn.ch.localAddress();
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
     * @param key the key
     * @return the value stored by {@link #attribute(String, Object)}, or {@code null}
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
        takeBody("bodyBytes()");
        long cl = contentLength();
        ByteArrayOutputStream out = new ByteArrayOutputStream(cl > 0 && cl < 1 << 20 ? (int) cl : 256);
        ByteBuf b;
        while ((b = nextChunk()) != null) {
            try {
                b.readBytes(out, b.readableBytes());
            } finally {
                b.release();
            }
        }
        return out.toByteArray();
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
     * left when the handler returns).
     *
     * @return the stream
     */
    public InputStream bodyStream() {
        takeBody("bodyStream()");
        return new BodyStream();
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
        if (!bodyTaken) {
            takeBody("readChunk()");
        }
        return nextChunk();
    }

    private void takeBody(String what) {
        conn.checkLoop("HttpRequest." + what);
        if (bodyTaken) {
            throw new IllegalStateException("the body of " + this + " was already read; " + what + " reads it once: keep what the first read returned");
        }
        bodyTaken = true;
    }

    private ByteBuf nextChunk() throws IOException {
        conn.checkLoop("HttpRequest.readChunk()");
        if (expectContinue && !continueSent && !bodyEnded) {
            continueSent = true;
            conn.send(new DefaultFullHttpResponse(head.protocolVersion(), HttpResponseStatus.CONTINUE, io.netty.buffer.Unpooled.EMPTY_BUFFER));
        }
        for (;;) {
            ByteBuf b = inbox == null ? null : inbox.pollFirst();
            if (b != null) {
                inboxBytes -= b.readableBytes();
                if (inbox.isEmpty() && !bodyEnded) {
                    conn.wantRead();
                }
                return b;
            }
            if (bodyFailure != null) {
                throw bodyFailure;
            }
            if (bodyEnded) {
                return null;
            }
            if (conn.inactive) {
                throw new IOException("the client closed the connection before the request body was received");
            }
            conn.wantRead();
            awaitBody();
        }
    }

    private void awaitBody() throws IOException {
        if (io.fiberloop.fiber.Fiber.currentOrNull() == null) {
            throw new IllegalStateException("reading a request body would block a loop callback: read it from the request's fiber");
        }
        if (reader != null) {
            throw new IllegalStateException("another fiber is already reading the body of " + this);
        }
        reader = Thread.currentThread();
        long timeout = conn.server.requestTimeoutNanos;
        TimerHandle timer = timeout > 0 ? conn.loop.schedule((WakeTask) this::onReadTimeout, Duration.ofNanos(timeout)) : null;
        readTimedOut = false;
        try {
            while (inboxEmpty() && !bodyEnded && bodyFailure == null && !conn.inactive && !readTimedOut) {
                ServerConnection.parkChecked();
            }
            if (readTimedOut && inboxEmpty() && !bodyEnded && bodyFailure == null) {
                conn.closeAfter = true;
                throw new HttpException(408, "the request body stalled for longer than "
                        + Duration.ofNanos(timeout).toMillis() + " ms");
            }
        } finally {
            reader = null;
            if (timer != null) {
                timer.cancel();
            }
        }
    }

    private void onReadTimeout() {
        readTimedOut = true;
        Thread r = reader;
        if (r != null) {
            LockSupport.unpark(r);
        }
    }

    /** A body piece decoded by Netty (work fiber). Takes ownership. @return true if this was the last */
    boolean offer(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (c.decoderResult().isFailure()) {
            c.release();
            if (bodyFailure == null) {
                bodyFailure = new HttpException(400, "malformed request body: " + c.decoderResult().cause().getMessage());
            }
            conn.closeAfter = true;
            end();
            return true;
        }
        ByteBuf b = c.content();
        int n = b.readableBytes();
        bodyReceived += n;
        if (done || bodyFailure != null || n == 0) {
            c.release();
        } else if (bodyReceived > conn.server.maxBodySize) {
            c.release();
            bodyFailure = new HttpException(413, "request body larger than " + conn.server.maxBodySize + " bytes");
            conn.closeAfter = true;
            end();
            return true;
        } else {
            if (inbox == null) {
                inbox = new ArrayDeque<>(4);
            }
            inbox.addLast(b);
            inboxBytes += n;
        }
        if (last) {
            end();
        } else if (reader != null) {
            LockSupport.unpark(reader);
        }
        return last;
    }

    private void end() {
        bodyEnded = true;
        if (reader != null) {
            LockSupport.unpark(reader);
        }
    }

    /** The client half-closed before the body was complete (work fiber): reading it fails with 400. */
    void inputEnded() {
        if (!bodyEnded) {
            if (bodyFailure == null) {
                bodyFailure = new HttpException(400, "the client closed its side of the connection before the request body was complete");
            }
            conn.closeAfter = true;
            end();
        }
    }

    boolean inboxEmpty() {
        return inbox == null || inbox.isEmpty();
    }

    /** The connection is gone: wake the reader (carrier). */
    void connectionLost() {
        releaseBody();
        if (reader != null) {
            LockSupport.unpark(reader);
        }
    }

    /** Releases what the body still holds (carrier). */
    void releaseBody() {
        ArrayDeque<ByteBuf> in = inbox;
        if (in != null) {
            ByteBuf b;
            while ((b = in.pollFirst()) != null) {
                b.release();
            }
        }
        inboxBytes = 0;
        if (streamChunk != null) {
            streamChunk.release();
            streamChunk = null;
        }
    }

    /** Whether a 100-continue was expected and never sent (so the client may not send the body). */
    boolean continueWithheld() {
        return expectContinue && !continueSent;
    }

    @Override
    public String toString() {
        return "HttpRequest[" + head.method() + " " + head.uri() + "]";
    }

    private final class BodyStream extends InputStream {
        private boolean eof;

        private ByteBuf current() throws IOException {
            while (!eof && (streamChunk == null || !streamChunk.isReadable())) {
                if (streamChunk != null) {
                    streamChunk.release();
                    streamChunk = null;
                }
                ByteBuf next;
                try {
                    next = nextChunk();
                } catch (InterruptedIOException e) {
                    throw e;
                }
                if (next == null) {
                    eof = true;
                } else {
                    streamChunk = next;
                }
            }
            return eof ? null : streamChunk;
        }

        @Override
        public int read() throws IOException {
            ByteBuf b = current();
            return b == null ? -1 : b.readUnsignedByte();
        }

        @Override
        public int read(byte[] dst, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, dst.length);
            if (len == 0) {
                return 0;
            }
            ByteBuf b = current();
            if (b == null) {
                return -1;
            }
            int n = Math.min(len, b.readableBytes());
            b.readBytes(dst, off, n);
            return n;
        }

        @Override
        public int available() {
            return (streamChunk == null ? 0 : streamChunk.readableBytes()) + (int) Math.min(Integer.MAX_VALUE / 2, inboxBytes);
        }

        @Override
        public void close() {
            if (streamChunk != null) {
                streamChunk.release();
                streamChunk = null;
            }
            eof = true;
        }
    }

    static boolean isExpectContinue(io.netty.handler.codec.http.HttpRequest r) {
        return r.headers().containsValue(HttpHeaderNames.EXPECT, HttpHeaderValues.CONTINUE, true);
    }
}
