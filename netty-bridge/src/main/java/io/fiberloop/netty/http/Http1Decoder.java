package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder as an {@link Http1Connection} drives it: one object per run
 * ({@code singleDecode}), what a read brought beyond it kept as bytes until the connection
 * {@linkplain #pump() pumps} again (it keeps the books the connection needs for that:
 * {@link #running()}, {@link #mayDecodeMore()}), the raw bytes counted towards the driver's slices
 * as they come off the socket, and everything held decoded at once when the client half-closes (the decoder
 * would drop it at the end of input otherwise). Plus RFC 9112 2.3: the protocol name {@code HTTP}
 * is case-sensitive (Netty upper-cases it, so a request line ending in {@code http/1.1} would
 * otherwise pass; here it is a decoding failure, answered 400).
 *
 * <p>Threading: Netty's owning thread of the channel's loop.
 */
final class Http1Decoder extends HttpRequestDecoder {
    private final Http1Connection conn;
    private ChannelHandlerContext ctx;
    /** True while the decoder runs: a pump must not re-enter it. */
    private boolean running;
    private boolean producedThisRun;
    /** The decoder produced an object at its last run and holds more bytes: it may decode more without a read. */
    private boolean mayDecodeMore;

    Http1Decoder(HttpDecoderConfig config, Http1Connection conn) {
        super(config);
        this.conn = conn;
        setSingleDecode(true);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf b) {
            conn.bytesRead(b.readableBytes());
        }
        decode(ctx, msg);
    }

    private void decode(ChannelHandlerContext ctx, Object msg) throws Exception {
        running = true;
        producedThisRun = false;
        try {
            super.channelRead(ctx, msg);
        } finally {
            running = false;
            mayDecodeMore = producedThisRun && actualReadableBytes() > 0;
        }
    }

    /** The connection received an object this decoder produced. */
    void produced() {
        producedThisRun = true;
    }

    /** {@return whether the decoder is running now (a pump must not re-enter it)} */
    boolean running() {
        return running;
    }

    /** {@return whether the last run produced an object and bytes are left: another may be decoded without a read} */
    boolean mayDecodeMore() {
        return mayDecodeMore;
    }

    /** Decodes one more object from what the decoder holds, without reading. Outside the decoder's own run. */
    void pump() throws Exception {
        decode(ctx, Unpooled.EMPTY_BUFFER); // not a read: no bytes counted, no read answered
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            setSingleDecode(false);
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected HttpMessage createMessage(String[] initialLine) throws Exception {
        if (!initialLine[2].startsWith("HTTP/")) {
            throw new IllegalArgumentException("the protocol name is case-sensitive: '" + initialLine[2] + "' is not HTTP/x.y");
        }
        return super.createMessage(initialLine);
    }
}
