package io.fiberloop.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The HTTP/2 baselines of {@link H2Load}, each a child JVM answering {@code GET /plaintext} with
 * {@code Hello, World!} over h2c (prior knowledge) on one event loop (one thread), with the same
 * response fields as fiberloop's server ({@code content-type}, {@code content-length},
 * {@code date}) and 100 concurrent streams per connection:
 * {@code java ... -cp benchmarks.jar 'io.fiberloop.bench.H2Servers$RawNetty' epoll} and
 * {@code $Vertx}. fiberloop's side is {@link HttpServers.Fiberloop}, which speaks HTTP/2 too. Each
 * prints {@code PORT n} and serves until stdin ends ({@link ChildJvm}).
 */
public final class H2Servers {
    static final byte[] HELLO = "Hello, World!".getBytes(StandardCharsets.US_ASCII);

    private H2Servers() {
    }

    /**
     * The baseline: Netty's {@code Http2FrameCodec} and one hand-written handler on the connection
     * (no child channel per stream) that answers each request's {@code HEADERS} frame with a
     * {@code HEADERS} and a {@code DATA} frame, flushing once per read, as Netty's own HTTP/2 hello
     * world does.
     */
    public static final class RawNetty {
        private RawNetty() {
        }

        public static void main(String[] args) throws Exception {
            String transport = args.length > 0 ? args[0] : "epoll";
            RawNettyServer.serve("h2-netty", transport,
                    b -> b.option(ChannelOption.SO_BACKLOG, 1024).childOption(ChannelOption.TCP_NODELAY, true),
                    p -> p.addLast(Http2FrameCodecBuilder.forServer()
                            .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(100)).build(), new Hello()));
        }
    }

    /** Answers every request's headers; flushes at the end of each read. */
    @ChannelHandler.Sharable
    static final class Hello extends ChannelInboundHandlerAdapter {
        private static final AsciiString TYPE = AsciiString.cached("text/plain");
        private static final AsciiString LENGTH = AsciiString.cached(Integer.toString(HELLO.length));
        private long second;
        private AsciiString date;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame h && h.isEndStream()) {
                DefaultHttp2Headers res = new DefaultHttp2Headers();
                res.status("200").set("content-type", TYPE).set("content-length", LENGTH).set("date", date());
                ctx.write(new DefaultHttp2HeadersFrame(res).stream(h.stream()));
                ByteBuf body = Unpooled.wrappedBuffer(HELLO);
                ctx.write(new DefaultHttp2DataFrame(body, true).stream(h.stream()));
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        private AsciiString date() {
            long s = System.currentTimeMillis() / 1000;
            if (s != second || date == null) {
                second = s;
                date = new AsciiString(DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)));
            }
            return date;
        }
    }

    /** Vert.x 5's event-loop HTTP server (h2c with prior knowledge is on by default), one event loop. */
    public static final class Vertx {
        private Vertx() {
        }

        public static void main(String[] args) throws Exception {
            io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(1)
                    .setPreferNativeTransport(true));
            io.vertx.core.buffer.Buffer hello = io.vertx.core.buffer.Buffer.buffer(HELLO);
            io.vertx.core.http.HttpServer server = vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions()
                            .setHost("127.0.0.1").setPort(0).setHttp2ClearTextEnabled(true)
                            .setInitialSettings(new io.vertx.core.http.Http2Settings().setMaxConcurrentStreams(100)))
                    .requestHandler(req -> req.response().putHeader("content-type", "text/plain")
                            .putHeader("date", DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)))
                            .end(hello));
            server.listen().toCompletionStage().toCompletableFuture().get();
            ChildJvm.serveUntilStdinEof(server.actualPort(), () -> vertx.close().toCompletionStage().toCompletableFuture().get());
        }
    }
}
