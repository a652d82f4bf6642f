package io.fiberloop.bench;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.http.HttpResponse;
import io.fiberloop.netty.http.HttpServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The two HTTP servers of {@link HttpLoad}, each started by it in a child JVM of its own (so its
 * CPU time can be read from {@code /proc/<pid>/stat}). Both serve {@code GET /plaintext} with
 * {@code Hello, World!} ({@code Content-Type: text/plain}, {@code Content-Length}, {@code Date}) on
 * 127.0.0.1, one loop (one thread) each, print {@code PORT <n>} on stdout when ready, and exit when
 * their stdin reaches end of file (the parent closed it, or died).
 *
 * <p>Usage (normally only through {@link HttpLoad}):
 * {@code java ... -cp benchmarks.jar 'io.fiberloop.bench.HttpServers$Fiberloop' epoll} and
 * {@code 'io.fiberloop.bench.HttpServers$RawNetty' epoll}.
 */
public final class HttpServers {
    static final byte[] HELLO = "Hello, World!".getBytes(StandardCharsets.US_ASCII);

    private HttpServers() {
    }

    /** fiberloop's {@link HttpServer} on one Netty-driven loop of the given transport; each request in its own fiber. */
    public static final class Fiberloop {
        private Fiberloop() {
        }

        public static void main(String[] args) throws Exception {
            String transport = args.length > 0 ? args[0] : "epoll";
            EventLoop loop = NettyLoops.builder(NettyTransport.of(BenchTransports.norm(transport))).name("http-loop").build();
            HttpServer server = HttpServer.builder()
                    .host("127.0.0.1").port(0)
                    .loop(loop)
                    .get("/plaintext", req -> HttpResponse.ok().contentType("text/plain").body(HELLO))
                    .start();
            ChildJvm.serveUntilStdinEof(server.port(), () -> {
                server.close(Duration.ofSeconds(1));
                loop.close();
            });
        }
    }

    /**
     * The baseline: Netty's {@link HttpServerCodec} and a hand-written handler on a one-thread
     * {@link MultiThreadIoEventLoopGroup} with the same transport's {@code IoHandler}. Answers
     * {@code /plaintext} with a {@link FullHttpResponse} (the same headers as fiberloop's: type,
     * length, a per-second cached {@code Date}), keep-alive, {@code write} in {@code channelRead} and
     * {@code flush} in {@code channelReadComplete}; Netty's default channel options (autoRead,
     * adaptive receive buffers) plus TCP_NODELAY.
     */
    public static final class RawNetty {
        private RawNetty() {
        }

        static final AsciiString TEXT_PLAIN = AsciiString.cached("text/plain");
        static final AsciiString LENGTH = AsciiString.cached(Integer.toString(HELLO.length));
        static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
                .withZone(ZoneOffset.UTC);

        @ChannelHandler.Sharable
        static final class PlaintextHandler extends ChannelInboundHandlerAdapter {
            private final ByteBuf hello = Unpooled.unreleasableBuffer(Unpooled.directBuffer(HELLO.length).writeBytes(HELLO));
            private long dateSecond = Long.MIN_VALUE;
            private AsciiString date;

            /** Event-loop thread only (one loop). */
            private AsciiString date() {
                long now = System.currentTimeMillis() / 1000;
                if (now != dateSecond) {
                    dateSecond = now;
                    date = new AsciiString(HTTP_DATE.format(Instant.ofEpochSecond(now)));
                }
                return date;
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    if (!(msg instanceof HttpRequest req)) {
                        return; // the (empty) content of a GET
                    }
                    boolean keepAlive = HttpUtil.isKeepAlive(req);
                    FullHttpResponse res;
                    if (req.uri().equals("/plaintext")) {
                        res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, hello.duplicate(), false);
                        res.headers()
                                .set(HttpHeaderNames.CONTENT_TYPE, TEXT_PLAIN)
                                .set(HttpHeaderNames.CONTENT_LENGTH, LENGTH)
                                .set(HttpHeaderNames.DATE, date());
                    } else {
                        res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND, Unpooled.EMPTY_BUFFER, false);
                        res.headers().set(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderValues.ZERO).set(HttpHeaderNames.DATE, date());
                    }
                    if (keepAlive) {
                        if (!req.protocolVersion().isKeepAliveDefault()) {
                            res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                        }
                        ctx.write(res, ctx.voidPromise());
                    } else {
                        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                ctx.flush();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        }

        public static void main(String[] args) throws Exception {
            PlaintextHandler handler = new PlaintextHandler();
            RawNettyServer.serve("raw-http", args.length > 0 ? args[0] : "epoll",
                    b -> b.option(ChannelOption.SO_BACKLOG, 1024).childOption(ChannelOption.TCP_NODELAY, true),
                    p -> p.addLast(new HttpServerCodec(), handler));
        }
    }
}
