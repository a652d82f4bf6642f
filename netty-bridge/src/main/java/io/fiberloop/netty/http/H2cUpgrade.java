package io.fiberloop.netty.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;

/**
 * The HTTP/1.1 side of an {@code Upgrade: h2c} (RFC 7540 3.2): a request without a body that
 * asks for it, with one valid {@code HTTP2-Settings}, is answered {@code 101 Switching Protocols};
 * the connection's HTTP/1.1 handlers make way for the HTTP/2 ones, and the request itself is served
 * as stream 1. A request with a body, or with bad settings, is served over HTTP/1.1 (the server may
 * ignore an upgrade). Only in clear text (over TLS, ALPN chooses).
 *
 * <p>Threading: Netty's owning thread of the connection's loop.
 */
final class H2cUpgrade {
    private final ServerLoop sl;

    H2cUpgrade(ServerLoop sl) {
        this.sl = sl;
    }

    /**
     * Takes {@code head} over if it asks for h2c and can have it; then the HTTP/1.1 connection
     * {@code conn} stops, and the switch happens once the decoder has finished its run.
     *
     * @return whether the request was taken (the caller forgets it)
     */
    boolean tryUpgrade(Http1Connection conn, ChannelHandlerContext http1, HttpRequest head) {
        HttpHeaders h = head.headers();
        String upgrade = h.get(HttpHeaderNames.UPGRADE);
        if (upgrade == null || !hasToken(upgrade, "h2c") || !hasToken(h.get(HttpHeaderNames.CONNECTION), "http2-settings")
                || h.contains(HttpHeaderNames.TRANSFER_ENCODING) || h.getInt(HttpHeaderNames.CONTENT_LENGTH, 0) != 0) {
            return false;
        }
        FullHttpRequest full = new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(), Unpooled.EMPTY_BUFFER,
                h, EmptyHttpHeaders.INSTANCE);
        Http2FrameCodec codec = Http2Setup.newCodec(sl.config);
        Http2Connection h2 = new Http2Connection(sl, codec);
        Http2ServerUpgradeCodec up = new Http2ServerUpgradeCodec("fiberloop-h2-codec", codec,
                new Http2MultiplexHandler(h2.streamInitializer()), h2);
        if (!up.prepareUpgradeResponse(http1, full, new DefaultHttpHeaders())) {
            return false; // no or bad HTTP2-Settings: go on with HTTP/1.1
        }
        conn.handOver();
        h2.upgradeRequest(head);
        http1.executor().execute(() -> switchNow(http1, full, up, h2));
        return true;
    }

    /** Outside the decoder's run: 101, then the HTTP/2 handlers in place of the HTTP/1.1 ones. */
    private void switchNow(ChannelHandlerContext http1, FullHttpRequest full, Http2ServerUpgradeCodec up, Http2Connection h2) {
        if (!http1.channel().isActive() || http1.isRemoved()) {
            return;
        }
        DefaultFullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS,
                Unpooled.EMPTY_BUFFER);
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE).set(HttpHeaderNames.UPGRADE, Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME);
        http1.writeAndFlush(res);
        ChannelPipeline p = http1.pipeline();
        p.remove("fiberloop-http-encoder");
        up.upgradeTo(http1, full); // the codec (its preface), the streams' handler and the connection, after http1
        p.addAfter(http1.name(), "fiberloop-h2-guard", h2.frameGuard());
        p.remove(http1.handler());
        p.remove("fiberloop-http-decoder"); // what it still holds goes on to the codec
    }

    /** Whether the comma-separated {@code value} has {@code token} (case-insensitive). */
    private static boolean hasToken(String value, String token) {
        if (value == null) {
            return false;
        }
        for (String t : value.split(",")) {
            if (t.trim().equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }
}
