package io.fiberloop.netty.http;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.MessageConnection;
import io.fiberloop.netty.NettyFutures;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.Tcp;
import io.fiberloop.netty.TcpOptions;
import io.fiberloop.netty.internal.ChannelCore;
import io.fiberloop.netty.internal.QueuedOps;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * The {@link HttpClient}'s HTTP/2 connections: one per scheme, host and port, shared by every
 * fiber that sends there, each request on a stream of its own (Netty's
 * {@code Http2MultiplexHandler}; streams past the server's {@code SETTINGS_MAX_CONCURRENT_STREAMS}
 * wait in Netty's buffering encoder). {@code https://} offers {@code h2} by ALPN: a server that
 * picks {@code http/1.1} gets its connection handed to the client's HTTP/1.1 pool instead.
 * {@code http://} speaks h2c with prior knowledge. Fibers that need a connection while one is
 * being opened wait for it rather than opening their own.
 *
 * <p>Threading: fibers of the client's loop.
 */
final class Http2ClientPool {
    private final HttpClient client;
    private final EventLoop loop;
    private final QueuedOps.Queue queue;
    private final Map<String, Conn> conns = new HashMap<>();
    private final Map<String, Task<Conn>> connecting = new HashMap<>();

    Http2ClientPool(HttpClient client, EventLoop loop) {
        this.client = client;
        this.loop = loop;
        this.queue = QueuedOps.Queue.of(NettyLoops.nettyLoop(loop));
    }

    /** One HTTP/2 connection: the TCP (and TLS) connection, and what its tail learned. */
    private static final class Conn {
        final MessageConnection<Object, Object> io;
        final Tail tail;

        Conn(MessageConnection<Object, Object> io, Tail tail) {
            this.io = io;
            this.tail = tail;
        }

        boolean usable() {
            return io.isOpen() && !tail.goingAway && tail.active;
        }
    }

    /**
     * Sends {@code request} over HTTP/2.
     *
     * @return the response, or {@code null} if the server chose HTTP/1.1 (its connection is then in
     *         the client's HTTP/1.1 pool)
     */
    HttpClient.Response send(String key, String host, int port, boolean secure, HttpClient.Request request, int maxResponseSize,
            Duration connectTimeout) throws IOException {
        Conn c = conns.get(key);
        if (c == null || !c.usable()) {
            if (c != null) {
                conns.remove(key);
                c.io.close();
            }
            Task<Conn> t = connecting.get(key);
            if (t == null) {
                t = Fibers.spawn(() -> connect(key, host, port, secure, maxResponseSize, connectTimeout));
                connecting.put(key, t);
                t.onComplete((v, e) -> connecting.remove(key));
            }
            try {
                c = t.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof IOException io) {
                    throw new IOException(io.getMessage(), io);
                }
                throw e;
            }
            if (c == null) {
                return null;
            }
        }
        return exchange(c, host, port, secure, request, maxResponseSize);
    }

    private Conn connect(String key, String host, int port, boolean secure, int max, Duration timeout) throws IOException {
        Tail tail = new Tail();
        TcpOptions options = TcpOptions.defaults();
        if (secure) {
            options = options.withTls(client.tlsContext(true));
        }
        MessageConnection<Object, Object> io = Tcp.connectMessages(host, port, timeout, options, p -> {
            if (secure) {
                p.addLast("fiberloop-alpn", new Alpn(tail, max));
            } else {
                addHttp2(p, null, tail);
            }
        });
        if (tail.http1) {
            client.adoptHttp1(key, io);
            return null;
        }
        Conn c = new Conn(io, tail);
        conns.put(key, c);
        return c;
    }

    /** Adds the HTTP/2 handlers: after {@code after} (the ALPN handler) or at the end. */
    private static void addHttp2(ChannelPipeline p, String after, Tail tail) {
        io.netty.handler.codec.http2.Http2FrameCodec codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false))
                .encoderEnforceMaxConcurrentStreams(true)
                .build();
        Http2MultiplexHandler streams = new Http2MultiplexHandler(new ChannelInboundHandlerAdapter());
        if (after == null) {
            p.addLast("fiberloop-h2-codec", codec);
            p.addLast("fiberloop-h2-streams", streams);
            p.addLast("fiberloop-h2-tail", tail);
        } else {
            p.addAfter(after, "fiberloop-h2-codec", codec);
            p.addAfter("fiberloop-h2-codec", "fiberloop-h2-streams", streams);
            p.addAfter("fiberloop-h2-streams", "fiberloop-h2-tail", tail);
        }
    }

    private HttpClient.Response exchange(Conn c, String host, int port, boolean secure, HttpClient.Request request, int max)
            throws IOException {
        Stream s = new Stream(loop, queue, max);
        Http2StreamChannel ch;
        try {
            ch = NettyFutures.await(new Http2StreamChannelBootstrap(c.io.channel()).handler(s).open());
        } catch (CompletionException e) {
            throw new IOException("cannot open a stream to " + host + ":" + port + ": " + e.getCause(), e.getCause());
        }
        try {
            URI uri = request.uri();
            String path = (uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath())
                    + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            boolean defaultPort = port == (secure ? 443 : 80);
            Http2Headers h = new DefaultHttp2Headers().method(request.method()).path(path).scheme(secure ? "https" : "http")
                    .authority(defaultPort ? host : host + ":" + port);
            List<String> extra = request.headerList();
            for (int i = 0; i < extra.size(); i += 2) {
                h.add(extra.get(i).toLowerCase(java.util.Locale.ROOT), extra.get(i + 1));
            }
            byte[] body = request.bodyBytes();
            if (body != null) {
                h.setInt("content-length", body.length);
            }
            s.request(h, body);
            Duration timeout = request.timeoutOrNull();
            return timeout == null ? s.response() : Fibers.withTimeout(timeout, s::response);
        } finally {
            if (ch.isOpen()) {
                s.close(); // an unfinished stream is reset (a timeout, a cancellation)
            }
        }
    }

    /** Closes every connection. */
    void close() {
        for (Conn c : conns.values()) {
            c.io.close();
        }
        conns.clear();
    }

    /** TLS: the handshake's protocol picks the handlers. */
    private static final class Alpn extends ApplicationProtocolNegotiationHandler {
        private final Tail tail;
        private final int max;

        Alpn(Tail tail, int max) {
            super(ApplicationProtocolNames.HTTP_1_1);
            this.tail = tail;
            this.max = max;
        }

        @Override
        protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
            if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                addHttp2(ctx.pipeline(), ctx.name(), tail);
            } else {
                tail.http1 = true;
                ctx.pipeline().addAfter(ctx.name(), "fiberloop-http-aggregator", new HttpObjectAggregator(max));
                ctx.pipeline().addAfter(ctx.name(), "fiberloop-http-codec", new HttpClientCodec());
            }
        }

        @Override
        protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
            ctx.fireExceptionCaught(cause); // the connect fails with it
        }
    }

    /**
     * The end of an HTTP/2 connection's pipeline: reads everything (streams are bounded by their
     * windows, the rest by Netty's limits), notes the server's {@code GOAWAY}, and lets nothing
     * reach the message connection behind it.
     */
    private static final class Tail extends ChannelInboundHandlerAdapter {
        boolean http1;
        boolean goingAway;
        boolean active = true;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(true);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2GoAwayFrame) {
                goingAway = true;
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            active = false;
            ctx.fireChannelInactive();
        }
    }

    /** One request's stream: the request written, the response gathered (up to the client's limit). */
    private static final class Stream extends ChannelCore {
        private final int max;
        private Http2Headers head;
        private final List<Map.Entry<String, String>> fields = new ArrayList<>();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private boolean done;

        Stream(EventLoop loop, QueuedOps.Queue queue, int max) {
            super(loop, queue);
            this.max = max;
        }

        void request(Http2Headers h, byte[] bytes) throws IOException {
            send(new DefaultHttp2HeadersFrame(h, bytes == null || bytes.length == 0));
            if (bytes != null && bytes.length > 0) {
                send(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(bytes), true));
            }
        }

        HttpClient.Response response() throws IOException {
            awaitReadable(() -> done, 0, "the response");
            if (!done) {
                checkFailure();
                throw new IOException("the stream closed before the response ended");
            }
            int status = Integer.parseInt(head.status().toString());
            return new HttpClient.Response(status, fields, body.toByteArray(), true, charset(), "HTTP/2.0");
        }

        private java.nio.charset.Charset charset() {
            for (Map.Entry<String, String> e : fields) {
                if (e.getKey().equals("content-type")) {
                    return io.netty.handler.codec.http.HttpUtil.getCharset(e.getValue(), StandardCharsets.UTF_8);
                }
            }
            return StandardCharsets.UTF_8;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame f) {
                    CharSequence st = f.headers().status();
                    if (head == null && st != null && st.length() > 0 && st.charAt(0) == '1') {
                        return; // an interim response
                    }
                    if (head == null) {
                        head = f.headers();
                    }
                    for (Map.Entry<CharSequence, CharSequence> e : f.headers()) {
                        if (e.getKey().length() > 0 && e.getKey().charAt(0) != ':') {
                            fields.add(Map.entry(e.getKey().toString(), e.getValue().toString()));
                        }
                    }
                    done |= f.isEndStream();
                } else if (msg instanceof Http2DataFrame d) {
                    if (body.size() + d.content().readableBytes() > max) {
                        fail(new IOException("response body larger than " + max + " bytes (HttpClient.maxResponseSize)"));
                        ctx.close();
                        return;
                    }
                    d.content().readBytes(body, d.content().readableBytes());
                    done |= d.isEndStream();
                }
            } catch (IOException e) {
                fail(e);
            } finally {
                ReferenceCountUtil.release(msg);
                wakeReader();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame r) {
                fail(new IOException("the server reset the stream (error code " + r.errorCode() + ")"));
            } else if (evt instanceof Http2GoAwayFrame) {
                fail(new IOException("the server went away before it took the request (GOAWAY)"));
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        protected String kind() {
            return "HttpClient";
        }

        @Override
        protected String noun() {
            return "an HTTP/2 stream";
        }
    }
}
