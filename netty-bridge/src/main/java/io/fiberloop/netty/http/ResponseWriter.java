package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Turns a handler's {@link HttpResponse} into what goes on the wire: the status line and headers
 * (validated, with {@code Date}, {@code Content-Length} or chunked encoding, and
 * {@code Connection} set by the server), then the body, whole or streamed through a
 * {@link BodyWriter}. A whole response over HTTP/1.x is written straight into one buffer
 * ({@link WholeResponseEncoder}); the others become Netty's response objects for its encoder (HTTP/1.x)
 * or HTTP/2 frames. One per server and loop: its {@link HeaderCache} is not thread-safe.
 *
 * <p>Threading: fibers of its loop.
 */
final class ResponseWriter {
    private static final byte[] EMPTY = new byte[0];

    private final HeaderCache headerCache = new HeaderCache();
    private final WholeResponseEncoder whole = new WholeResponseEncoder();

    /** Sends {@code res} as the answer to {@code ex}. A fiber of the loop. */
    void write(Exchange ex, HttpResponse res) throws Exception {
        if (res.isSwitched()) {
            return; // a WebSocket upgrade: the 101 went out, and the connection serves the WebSocket
        }
        HttpConnection conn = ex.conn;
        if (res.jsonValue() != null) {
            res.body(JsonBodies.bytes(conn.config, res.jsonValue()));
        }
        io.netty.handler.codec.http.HttpRequest head = ex.request.head;
        HttpVersion v = head.protocolVersion();
        int st = res.status();
        boolean isHead = ex.isHead();
        boolean noBody = st < 200 || st == 204 || st == 304;
        String coding = conn.config.compression == null ? null : conn.config.compression.choose(ex.request, res, isHead, noBody);
        if (coding != null) {
            coding = compress(res, coding, conn.config.compression.level());
        }
        HttpResponse.Body stream = res.streamBody();
        if (stream == null && conn instanceof Http2Stream h2) {
            h2.sendWhole(ex, res, headerCache, isHead, noBody); // straight into HTTP/2's header block
            return;
        }
        boolean keepAlive = ex.request.keepAlive() && !conn.closeAfter && !conn.serverClosing() && ex.body.ended()
                && !ex.body.continueWithheld();
        if (stream == null) {
            byte[] body = res.bodyBytes() == null ? EMPTY : res.bodyBytes();
            boolean sendBody = !isHead && !noBody && body.length > 0;
            AsciiString connection = connectionValue(v, keepAlive);
            Object out = conn instanceof Http1Connection && WholeResponseEncoder.handles(st, v)
                    ? whole.encode(conn.channel().alloc(), v, st, res, headerCache, body, sendBody, connection)
                    : nettyWhole(v, st, res, body, noBody, sendBody, connection);
            if (!keepAlive) {
                conn.closeAfter = true; // once the response is built: a header that fails validation changes nothing
            }
            ex.status = st;
            conn.sendResponsePart(out);
            ex.headSent = true;
            ex.bytesSent = sendBody ? body.length : 0;
            return;
        }
        HttpHeaders h = nettyHeaders(res);
        boolean hasLength = h.contains(HttpHeaderNames.CONTENT_LENGTH);
        if (noBody) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        } else if (!hasLength && !isHead) {
            if (v.minorVersion() >= 1) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                keepAlive = false; // HTTP/1.0: the end of the body is the end of the connection
            }
        }
        setConnection(h, connectionValue(v, keepAlive));
        if (!keepAlive) {
            conn.closeAfter = true;
        }
        ex.status = st;
        conn.sendResponsePart(new DefaultHttpResponse(v, HttpResponseStatus.valueOf(st), h));
        ex.headSent = true;
        ChunkWriter out = new ChunkWriter(ex, headerCache, !hasLength && v.minorVersion() >= 1);
        if (!isHead && !noBody) {
            if (coding == null) {
                stream.writeTo(out);
            } else {
                CompressingWriter cw = new CompressingWriter(out, coding, conn.config.compression.level());
                boolean done = false;
                try {
                    stream.writeTo(cw);
                    cw.finish();
                    done = true;
                } finally {
                    if (!done) {
                        cw.abandon();
                    }
                }
            }
        }
        conn.sendResponsePart(out.trailers == null ? LastHttpContent.EMPTY_LAST_CONTENT
                : new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, out.trailers));
    }

    /**
     * Compresses a whole body now, or marks a streamed one (compressed as it is written).
     *
     * @return the coding, or {@code null} when compressing did not make the body smaller
     */
    private static String compress(HttpResponse res, String coding, int level) throws IOException {
        byte[] body = res.bodyBytes();
        if (body != null) {
            byte[] z = CompressingWriter.compress(body, coding, level);
            if (z.length >= body.length) {
                return null;
            }
            res.body(z);
        } else {
            res.removeHeader("Content-Length");
        }
        res.setHeader("Content-Encoding", coding);
        return coding;
    }

    /**
     * A whole response as Netty's message, for its encoder (the statuses and versions
     * {@link WholeResponseEncoder} leaves alone).
     */
    private FullHttpResponse nettyWhole(HttpVersion v, int st, HttpResponse res, byte[] body, boolean noBody, boolean sendBody,
            AsciiString connection) {
        HttpHeaders h = nettyHeaders(res);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        if (noBody) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
        } else {
            h.set(HttpHeaderNames.CONTENT_LENGTH, headerCache.length(body.length));
        }
        setConnection(h, connection);
        return new DefaultFullHttpResponse(v, HttpResponseStatus.valueOf(st),
                sendBody ? Unpooled.wrappedBuffer(body) : Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE);
    }

    /** The handler's headers, validated by the cache, and the server's {@code Date}, as Netty's headers. */
    private HttpHeaders nettyHeaders(HttpResponse res) {
        HttpHeaders h = HeaderCache.newHeaders(); // validated here, by the cache
        String[] raw = res.rawHeaders();
        HeaderCache hc = headerCache;
        for (int i = 0; i < res.headerEnd(); i += 2) {
            h.add(hc.name(raw[i]), hc.value(raw[i + 1]));
        }
        h.set(HttpHeaderNames.DATE, hc.date());
        return h;
    }

    /** {@return the {@code Connection} header's value: {@code close}, {@code keep-alive} (HTTP/1.0), or {@code null} for none} */
    private static AsciiString connectionValue(HttpVersion v, boolean keepAlive) {
        if (!keepAlive) {
            return HttpHeaderValues.CLOSE;
        }
        return v.minorVersion() == 0 ? HttpHeaderValues.KEEP_ALIVE : null;
    }

    private static void setConnection(HttpHeaders h, AsciiString value) {
        if (value == null) {
            h.remove(HttpHeaderNames.CONNECTION);
        } else {
            h.set(HttpHeaderNames.CONNECTION, value);
        }
    }

    /**
     * The answer to a request refused before it became an exchange (a malformed or over-limit
     * head, a request timeout): {@code status} with {@code message} as plain text. Its loop.
     *
     * @param close whether the connection closes after it ({@code Connection: close})
     * @return the whole response, for Netty's encoder (or the HTTP/2 frames it becomes)
     */
    FullHttpResponse refusal(int status, String message, boolean close) {
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        HttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=UTF-8");
        h.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        if (close) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        h.set(HttpHeaderNames.DATE, date());
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), Unpooled.wrappedBuffer(body), h,
                EmptyHttpHeaders.INSTANCE);
    }

    /** The {@code Date} header's value, recomputed once a second. Its loop. */
    String date() {
        return headerCache.dateString();
    }

    /** The streamed body of one response. */
    private static final class ChunkWriter implements ExchangeWriter {
        private final Exchange ex;
        private final HttpConnection conn;
        private final HeaderCache names;
        private final boolean trailersAllowed;
        HttpHeaders trailers;

        ChunkWriter(Exchange ex, HeaderCache names, boolean trailersAllowed) {
            this.ex = ex;
            this.conn = ex.conn;
            this.names = names;
            this.trailersAllowed = trailersAllowed;
        }

        @Override
        public void trailer(String name, String value) {
            conn.checkLoop("BodyWriter.trailer()");
            if (!trailersAllowed) {
                throw new IllegalStateException("this response cannot carry trailers (HTTP/1.0, or it has a Content-Length): "
                        + "send '" + name + "' as a header, or stream the body without a Content-Length");
            }
            if (trailers == null) {
                trailers = HeaderCache.newHeaders();
            }
            trailers.add(names.name(name), names.value(value));
        }

        @Override
        public HttpRequest request() {
            return ex.request;
        }

        @Override
        public boolean zeroCopy() {
            return conn.config.tls == null && conn instanceof Http1Connection; // not on an HTTP/2 stream
        }

        @Override
        public void writeRegion(io.netty.channel.FileRegion region) throws IOException {
            try {
                conn.checkLoop("BodyWriter.write()");
            } catch (RuntimeException e) {
                region.release();
                throw e;
            }
            ex.bytesSent += region.count();
            conn.sendResponsePart(region);
        }

        @Override
        public void write(byte[] bytes) throws IOException {
            if (bytes.length > 0) {
                write(Unpooled.wrappedBuffer(bytes.clone()));
            }
        }

        @Override
        public void write(String text) throws IOException {
            if (!text.isEmpty()) {
                write(ByteBufUtil.writeUtf8(conn.channel().alloc(), text));
            }
        }

        @Override
        public void write(ByteBuf buf) throws IOException {
            try {
                conn.checkLoop("BodyWriter.write()");
            } catch (RuntimeException e) {
                buf.release();
                throw e;
            }
            int n = buf.readableBytes();
            if (n == 0) {
                buf.release();
                conn.checkWritable();
                return;
            }
            ex.bytesSent += n;
            conn.sendResponsePart(new DefaultHttpContent(buf));
        }

        @Override
        public void flush() throws IOException {
            conn.checkLoop("BodyWriter.flush()");
            conn.flush();
        }

        @Override
        public void drain() throws IOException {
            conn.checkLoop("BodyWriter.drain()");
            conn.drain();
        }
    }
}
