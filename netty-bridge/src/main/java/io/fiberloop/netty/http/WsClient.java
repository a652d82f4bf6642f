package io.fiberloop.netty.http;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.MessageConnection;
import io.fiberloop.netty.NettyFutures;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.Tcp;
import io.fiberloop.netty.TcpOptions;
import io.fiberloop.netty.internal.QueuedOps;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketClientCompressionHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletableFuture;

/**
 * The client's side of the WebSocket opening handshake, on fiberloop's one connect path
 * ({@link Tcp#connectMessages}: TCP, TLS, socket options). The connection starts with Netty's HTTP
 * client codec and {@link Handshake} in its pipeline; the handshake request goes out through
 * Netty's {@link WebSocketClientHandshaker} (which checks the {@code 101}, the accept key and the
 * subprotocol, and puts the frame decoder and encoder in place of the codec); then, in the same
 * callback that read the {@code 101}, the {@link WsConnection} takes the place of the connection's
 * fiber-facing handler, so that no frame sent right behind the {@code 101} can reach anything but
 * the WebSocket.
 *
 * <p>Threading: {@link #connect} from a fiber of the loop; {@link Handshake} on Netty's owning thread.
 */
final class WsClient {
    private WsClient() {
    }

    static WsConnection connect(EventLoop loop, URI uri, List<String> headers, WebSocketOptions options, Duration connectTimeout,
            HttpClient client) throws IOException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        boolean secure = scheme.equals("wss") || scheme.equals("https");
        if (!secure && !scheme.equals("ws") && !scheme.equals("http")) {
            throw new IllegalArgumentException("a WebSocket URI starts with ws://, wss://, http:// or https://, not " + uri);
        }
        String host = uri.getHost();
        int port = uri.getPort() >= 0 ? uri.getPort() : secure ? 443 : 80;
        URI wsUri;
        try {
            wsUri = new URI(secure ? "wss" : "ws", null, host, port, uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/"
                    : uri.getPath(), uri.getQuery(), null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("bad WebSocket URI " + uri + ": " + e.getMessage(), e);
        }
        HttpHeaders custom = new DefaultHttpHeaders();
        for (int i = 0; i < headers.size(); i += 2) {
            custom.add(headers.get(i), headers.get(i + 1));
        }
        String protocols = options.subprotocols().isEmpty() ? null : String.join(",", options.subprotocols());
        WebSocketClientHandshaker hs = WebSocketClientHandshakerFactory.newHandshaker(wsUri, WebSocketVersion.V13, protocols,
                options.compression(), custom, options.maxMessageSize(), true, false, -1L, false, false);
        WsConnection ws = new WsConnection(loop, QueuedOps.Queue.of(NettyLoops.nettyLoop(loop)), options, null, true);
        Handshake handshake = new Handshake(hs, ws);
        TcpOptions tcp = TcpOptions.defaults();
        if (secure) {
            tcp = tcp.withTls(client.tlsContext());
        }
        int maxMessage = options.maxMessageSize();
        MessageConnection<Object, Object> io = Tcp.connectMessages(host, port, connectTimeout, tcp, p -> {
            p.addLast("fiberloop-ws-http", new HttpClientCodec());
            p.addLast("fiberloop-ws-aggregator", new HttpObjectAggregator(16 * 1024));
            if (options.compression()) {
                p.addLast("fiberloop-ws-compression", new WebSocketClientCompressionHandler(maxMessage));
            }
            p.addLast("fiberloop-ws-handshake", handshake);
        });
        boolean ok = false;
        try {
            NettyFutures.await(hs.handshake(io.channel()));
            io.channel().read(); // auto-read is off: ask for the server's answer
            Duration limit = connectTimeout == null || connectTimeout.isZero() ? Duration.ofSeconds(30) : connectTimeout;
            Fibers.withTimeout(limit, () -> Fibers.await(handshake.done));
            ok = true;
            return ws;
        } catch (CompletionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw c instanceof IOException io2 ? io2 : new IOException("WebSocket handshake with " + uri + " failed: " + c.getMessage(), c);
        } finally {
            if (!ok) {
                io.channel().close();
            }
        }
    }

    /** Reads the {@code 101} and hands the channel over. Netty's owning thread. */
    private static final class Handshake extends ChannelInboundHandlerAdapter {
        private final WebSocketClientHandshaker hs;
        private final WsConnection ws;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Handshake(WebSocketClientHandshaker hs, WsConnection ws) {
            this.hs = hs;
            this.ws = ws;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof FullHttpResponse res)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            try {
                if (res.status().code() != 101) {
                    throw new IOException("WebSocket handshake refused: HTTP " + res.status().code() + " " + res.status().reasonPhrase()
                            + (res.content().isReadable() ? ": " + res.content().toString(java.nio.charset.StandardCharsets.UTF_8).trim() : ""));
                }
                hs.finishHandshake(ctx.channel(), res); // checks the answer; the frame decoder takes the codec's place
                ChannelPipeline p = ctx.pipeline();
                String ext = res.headers().get(io.netty.handler.codec.http.HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS);
                boolean deflate = ext != null && ext.contains("permessage-deflate");
                ws.agreed(hs.actualSubprotocol() == null || hs.actualSubprotocol().isEmpty() ? null : hs.actualSubprotocol(), deflate);
                p.addAfter(ctx.name(), "fiberloop-ws-utf8", new Utf8FrameValidator(true));
                p.remove(this);
                p.replace(p.last(), "fiberloop-ws", ws); // the connection's fiber-facing handler, unused from now on
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e instanceof IOException ? e : new IOException("WebSocket handshake failed: " + e.getMessage(), e));
                ctx.close();
            } finally {
                res.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IOException("the server closed the connection during the WebSocket handshake"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            ctx.close();
        }
    }

}
