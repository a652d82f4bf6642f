package io.fiberloop.bench;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.http.HttpServer;
import io.fiberloop.netty.http.StaticFiles;
import io.fiberloop.netty.http.WebSocket;
import io.fiberloop.netty.http.WebSocketOptions;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.io.File;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The servers of {@link WebLoad}, each run in a child JVM: a WebSocket echo and a static-file
 * server, fiberloop's and raw Netty's, on one event loop of the given transport.
 */
public final class WebServers {
    private WebServers() {
    }

    /** fiberloop: {@code /ws} echoes WebSocket messages, {@code /files/*} serves a directory. Args: transport, directory. */
    public static final class Fiberloop {
        private Fiberloop() {
        }

        public static void main(String[] args) throws Exception {
            NettyTransport t = NettyTransport.of(BenchTransports.norm(args[0]));
            EventLoop loop = NettyLoops.builder(t).name("web-loop").build();
            WebSocketOptions opts = WebSocketOptions.defaults().compression(false).pingInterval(Duration.ZERO);
            HttpServer server = HttpServer.builder().loop(loop).port(0)
                    .websocket("/ws", opts, ws -> {
                        for (WebSocket.Message m; (m = ws.receive()) != null; ) {
                            ws.send(m);
                        }
                    })
                    .get("/files/*", StaticFiles.directory(Path.of(args[1])))
                    .start();
            ChildJvm.serveUntilStdinEof(server.port(), () -> {
                server.close(Duration.ofSeconds(1));
                loop.close();
            });
        }
    }

    /**
     * Raw Netty: {@link WebSocketServerProtocolHandler} at {@code /ws} with a handler that writes
     * each data frame back (flushed at the end of each read), and {@code /files/NAME} with a
     * {@link DefaultFileRegion} (no caching headers). Args: transport, directory.
     */
    public static final class RawNetty {
        private RawNetty() {
        }

        public static void main(String[] args) throws Exception {
            File dir = new File(args[1]);
            RawNettyServer.serve("raw-web", args[0], b -> b.childOption(ChannelOption.TCP_NODELAY, true), p -> {
                p.addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024));
                p.addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder().websocketPath("/ws")
                        .checkStartsWith(false).build()));
                p.addLast(new SimpleChannelInboundHandler<WebSocketFrame>(false) {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                        ctx.write(f);
                    }

                    @Override
                    public void channelReadComplete(ChannelHandlerContext ctx) {
                        ctx.flush();
                    }
                });
                p.addLast(new SimpleChannelInboundHandler<FullHttpRequest>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                        File f = new File(dir, req.uri().substring(req.uri().lastIndexOf('/') + 1));
                        DefaultHttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream");
                        HttpUtil.setContentLength(res, f.length());
                        ctx.write(res);
                        ctx.write(new DefaultFileRegion(f, 0, f.length()));
                        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                    }
                });
            });
        }
    }
}
