package io.fiberloop.netty.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Chooses each accepted connection's protocol and builds its pipeline. With HTTP/2 on (the
 * default, {@link HttpServerBuilder#http2}):
 * <ul>
 *   <li>over TLS whose context offers {@code h2} by ALPN ({@link Http2Options#alpn()}), the
 *       handshake decides: {@code h2} gets the HTTP/2 pipeline, anything else HTTP/1.1;</li>
 *   <li>in clear text, the first bytes decide: the HTTP/2 connection preface ("prior knowledge")
 *       gets the HTTP/2 pipeline, anything else HTTP/1.1, where a request may still ask for
 *       {@code Upgrade: h2c} ({@link H2cUpgrade}).</li>
 * </ul>
 * The HTTP/2 pipeline is Netty's {@code Http2FrameCodec} (with the server's limits), then the
 * {@link Http2Connection}, which serves the streams on this pipeline (an {@link Http2Stream} each,
 * no child channels).
 *
 * <p>Threading: Netty's owning thread of the connection's loop.
 */
final class Http2Setup {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private Http2Setup() {
    }

    /** Builds the pipeline of an accepted connection. */
    static void accepted(Channel ch, ServerLoop sl) {
        ServerConfig c = sl.config;
        ChannelPipeline p = ch.pipeline();
        if (c.tls != null) {
            p.addLast("tls", c.tls.newHandler(ch.alloc()));
            if (c.http2 != null && offersHttp2(c.tls)) {
                p.addLast("fiberloop-alpn", new Alpn(sl));
                return;
            }
        } else if (c.http2 != null) {
            p.addLast("fiberloop-h2-detect", new Detector(sl));
            return;
        }
        sl.open().install(p);
    }

    /** {@return whether {@code tls} offers {@code h2} by ALPN} */
    static boolean offersHttp2(SslContext tls) {
        return tls.applicationProtocolNegotiator().protocols().contains(ApplicationProtocolNames.HTTP_2);
    }

    /** A new codec with the server's limits. */
    static Http2FrameCodec newCodec(ServerConfig c) {
        Http2Options o = c.http2;
        Http2Settings s = Http2Settings.defaultSettings()
                .maxConcurrentStreams(o.maxConcurrentStreams())
                .maxHeaderListSize(o.maxHeaderListSize())
                .headerTableSize(o.headerTableSize())
                .initialWindowSize(o.initialWindowSize())
                .maxFrameSize(o.maxFrameSize());
        return new CodecBuilder()
                .initialSettings(s)
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(o.maxResets(), (int) o.resetWindow().toSeconds())
                .gracefulShutdownTimeoutMillis(0) // the server's close does the grace (GOAWAY, then wait for the streams)
                .build();
    }

    /**
     * The codec's builder, on a connection whose streams share the send window uniformly
     * ({@code UniformStreamByteDistributor}) instead of by the priority tree of RFC 7540
     * ({@code WeightedFairQueueByteDistributor}, Netty's default): RFC 9113 deprecated that
     * scheme, clients rarely send it, and keeping the tree costs every stream allocations and
     * queue work (and makes {@code PRIORITY} frames free work for a peer).
     */
    private static final class CodecBuilder extends Http2FrameCodecBuilder {
        CodecBuilder() {
            DefaultHttp2Connection c = new DefaultHttp2Connection(true);
            c.remote().flowController(new DefaultHttp2RemoteFlowController(c, new UniformStreamByteDistributor(c)));
            connection(c);
        }
    }

    /**
     * Loads and initialises the HTTP/2 classes (the codec, HPACK's tables) off
     * the loop, where the watchdog would report the first connection's class loading as a stall.
     * Any thread.
     */
    static void warmUp(ServerConfig c) {
        Http2FrameCodec codec = newCodec(c);
        Http2Messages.toRequest(new io.netty.handler.codec.http2.DefaultHttp2Headers().method("GET").path("/").scheme("http"),
                new Http2Messages.Names());
        codec.encoder().close();
        codec.decoder().close();
    }

    /** Adds the HTTP/2 handlers after whatever is in {@code p} (TLS). */
    static void install(ChannelPipeline p, ServerLoop sl) {
        Http2FrameCodec codec = newCodec(sl.config);
        Http2Connection conn = new Http2Connection(sl, codec);
        p.addLast("fiberloop-h2-guard", conn.frameGuard());
        p.addLast("fiberloop-h2-codec", codec);
        p.addLast("fiberloop-h2", conn);
    }

    /** Installs HTTP/1.1 on a channel that is already active, and lets it start. */
    static void installHttp1(ChannelHandlerContext ctx, ServerLoop sl) {
        sl.open().install(ctx.pipeline());
        ctx.fireChannelActive();
    }

    /** Clear text: the first bytes tell the HTTP/2 preface from an HTTP/1.1 request. */
    private static final class Detector extends ChannelInboundHandlerAdapter {
        private final ServerLoop sl;
        private ByteBuf seen;
        private ScheduledFuture<?> timeout;

        Detector(ServerLoop sl) {
            this.sl = sl;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // not passed on: the protocol's handlers start once it is known
            timeout = ctx.executor().schedule(() -> {
                Dispatcher.log.debug("closing connection {}: nothing sent", ctx.channel());
                ctx.close();
            }, sl.config.idleTimeoutNanos, TimeUnit.NANOSECONDS);
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            seen = seen == null ? b : Unpooled.wrappedBuffer(seen, b);
            int n = Math.min(seen.readableBytes(), PREFACE.length);
            for (int i = 0; i < n; i++) {
                if (seen.getByte(seen.readerIndex() + i) != PREFACE[i]) {
                    choose(ctx, false);
                    return;
                }
            }
            if (n == PREFACE.length) {
                choose(ctx, true);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (seen != null && ctx.pipeline().context(this) != null) {
                ctx.read(); // a part of the preface: the rest decides
            }
        }

        private void choose(ChannelHandlerContext ctx, boolean http2) {
            timeout.cancel(false);
            ByteBuf data = seen;
            seen = null;
            if (http2) {
                install(ctx.pipeline(), sl);
            } else {
                installHttp1(ctx, sl);
            }
            ctx.fireChannelRead(data);
            ctx.fireChannelReadComplete();
            ctx.pipeline().remove(this);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (timeout != null) {
                timeout.cancel(false);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (seen != null) {
                seen.release();
                seen = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Dispatcher.log.debug("connection {}: {}", ctx.channel(), cause.toString());
            ctx.close();
        }
    }

    /** TLS with ALPN: the handshake's protocol picks the pipeline ({@code http/1.1} when the client offers no ALPN). */
    private static final class Alpn extends ApplicationProtocolNegotiationHandler {
        private final ServerLoop sl;

        Alpn(ServerLoop sl) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.sl = sl;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            ctx.read(); // the handshake's first read (auto-read is off); SslHandler asks for the rest
            super.channelActive(ctx);
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                install(ctx.pipeline(), sl);
            } else {
                installHttp1(ctx, sl);
            }
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            Dispatcher.log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
