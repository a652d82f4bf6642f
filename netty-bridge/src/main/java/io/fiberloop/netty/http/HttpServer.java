package io.fiberloop.netty.http;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopGroup;
import io.fiberloop.netty.NettyFutures;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.internal.Listeners;
import io.fiberloop.netty.internal.ShutdownHook;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * An embedded HTTP/1.1 and HTTP/2 server: routes by method and path, and runs each request's
 * handler as a task of one loop (or of every loop of a group, see "Multi-core"), in plain
 * blocking style. Built on Netty's HTTP/1.1 request decoder and response encoder, and on Netty's
 * HTTP/2 frame codec (see "HTTP/2").
 *
 * <h2>How a handler runs</h2>
 * Each request is a task: {@code Fiber.current()}, cancellation, timeouts, fiber locals and every
 * suspension point work in it. The task starts on the loop's work fiber, the fiber that runs
 * Netty's I/O, and runs there until it first suspends: a handler that answers at once costs what
 * a hand-written Netty handler costs, with no fiber switch. When it suspends (to sleep, read a
 * body that has not arrived, await another task), it carries on as a fiber of its own while the
 * loop hands its I/O to a new work fiber. So {@code Thread.currentThread()} in a handler is the
 * loop's work fiber ({@code <loop>-work-N}), not a thread of the request's own.
 * {@snippet :
 * HttpServer server = HttpServer.builder()
 *         .host("127.0.0.1").port(8080)
 *         .get("/plaintext", req -> HttpResponse.text("Hello, World!"))
 *         .get("/users/{id}", req -> HttpResponse.json("{\"id\":\"" + req.pathParam("id") + "\"}"))
 *         .post("/echo", req -> HttpResponse.ok().body(req.bodyBytes()))
 *         .start();
 * // ...
 * server.close(Duration.ofSeconds(5));
 * }
 *
 * <h2>Protocol</h2>
 * Keep-alive (HTTP/1.1 by default, HTTP/1.0 with {@code Connection: keep-alive}); pipelined
 * requests are answered in order, one at a time; {@code Expect: 100-continue} (the {@code 100} is
 * sent when the handler first reads the body); {@code HEAD} answered by the {@code GET} route
 * without a body; {@code Date}, {@code Content-Length} and {@code Connection} set by the server.
 * A malformed request gets {@code 400} and the connection is closed; so do request-smuggling
 * shapes (both {@code Content-Length} and {@code Transfer-Encoding}, conflicting lengths, a
 * transfer coding that does not end in {@code chunked}).
 *
 * <h2>HTTPS</h2>
 * {@link HttpServerBuilder#tls(SslContext)} serves TLS through Netty's {@code SslHandler}, first in each
 * connection's pipeline: HTTP/1.1 over TLS, and HTTP/2 to clients that choose it by ALPN when the
 * context offers it ({@link Http2Options#alpn()}). A client that fails the handshake, or that speaks plain HTTP to the TLS port, is
 * disconnected (logged at DEBUG) and the server goes on serving the others; Netty's handshake
 * timeout (10 s by default) bounds a handshake that stalls.
 *
 * <h2>HTTP/2</h2>
 * On by default ({@link HttpServerBuilder#http2(boolean)}): in clear text to clients that start with the
 * HTTP/2 preface or ask for {@code Upgrade: h2c}, over TLS by ALPN. Each stream is one exchange,
 * its handler a task as for HTTP/1.1, with the same routes; flow control is the backpressure
 * ({@link BodyWriter#drain()} waits on the stream's window); a reset from the client cancels the
 * handler; {@link #close(Duration)} sends {@code GOAWAY} and lets the streams in flight finish.
 * Limits and defences: {@link Http2Options}.
 *
 * <h2>Limits</h2>
 * Initial line too long: {@code 414}; headers too large: {@code 431}; body too large: {@code 413}
 * (at once for a declared length, while reading for a chunked body); a request head, or a body
 * read, slower than the request timeout: {@code 408}; a keep-alive connection idle longer than the
 * idle timeout is closed. Each of these closes the connection.
 *
 * <h2>Errors</h2>
 * A handler's {@link HttpException} becomes its status; any other exception a {@code 500}, logged
 * once at ERROR with the route by this class's logger. A client that disconnects mid-request
 * cancels that request's fiber ({@link CancelledException} at its next suspension point).
 *
 * <h2>Multi-core</h2>
 * {@link HttpServerBuilder#group(LoopGroup)} serves on every loop of a group: each loop listens on the same
 * port with {@code SO_REUSEPORT} where the transport has it (epoll and io_uring; the kernel spreads
 * the connections), otherwise (NIO, kqueue) the first loop accepts and hands the connections to the loops
 * in turn. Each connection and its requests stay on one loop. The routes, filters and
 * handlers are shared, so a handler may run on several loops at once: state it shares across
 * requests must then be thread-safe (or kept per loop).
 *
 * <h2>Threading</h2>
 * {@link HttpServerBuilder#start()} and {@link #close(Duration)} may be called from any thread (a fiber of the
 * loop is suspended, another thread blocks). Handlers and filters run in fibers of the loop that
 * serves the connection.
 */
public final class HttpServer implements AutoCloseable {
    /** The access log's logger name. */
    public static final String ACCESS_LOGGER = "io.fiberloop.http.access";
    /**
     * The bytes of responses a connection may hold for its client (written, not yet taken by the
     * socket) before the server stops reading that connection and holds its next pipelined
     * request: Netty's write-buffer high-water mark.
     */
    static final int WRITE_BUFFER_HIGH_WATER_MARK = 64 * 1024;

    /** Runs before the handler; returns a response to answer without calling it (e.g. a 401), or {@code null} to go on. */
    @FunctionalInterface
    public interface BeforeFilter {
        /**
         * {@return a response that ends the request here, or {@code null}}
         *
         * @param request the request (path parameters are set)
         * @throws Exception as a handler
         */
        HttpResponse before(HttpRequest request) throws Exception;
    }

    /** Runs after the handler (also after a filter's or an error's response); may change the response. */
    @FunctionalInterface
    public interface AfterFilter {
        /**
         * Inspects or changes the response before it is sent.
         *
         * @param request the request
         * @param response the response about to be sent
         * @throws Exception as a handler
         */
        void after(HttpRequest request, HttpResponse response) throws Exception;
    }

    /**
     * Maps an exception that a handler or filter threw to a response (see
     * {@link HttpServerBuilder#onError(Class, ErrorHandler)}).
     *
     * @param <E> the exception type it maps
     */
    @FunctionalInterface
    public interface ErrorHandler<E extends Throwable> {
        /**
         * <p>Threading: the request's fiber.
         *
         * @param request the request whose handler (or filter) failed
         * @param error what it threw
         * @return the response to send instead
         * @throws Exception anything: that is then answered {@code 500} and logged
         */
        HttpResponse handle(HttpRequest request, E error) throws Exception;
    }

    final ServerConfig config;
    final Dispatcher dispatcher;
    /** The observers, in the order added (empty: nothing to call). */
    final HttpObserver[] observers;
    private final String host;
    /** The JVM shutdown hook of {@link #closeOnShutdown}, or {@code null}. */
    private volatile ShutdownHook shutdownHook;
    /** The loop the server created and closes, or {@code null}. */
    private final EventLoop ownLoop;
    private Listeners listeners;

    // test statistics: the most response bytes one connection held for its client, and whether any
    // connection stopped reading because its client did not read its responses
    private volatile long maxBufferedResponseBytes;
    volatile CompletableFuture<Void> readPaused = new CompletableFuture<>();

    private HttpServer(HttpServerBuilder b, EventLoop ownLoop) {
        this.host = b.host;
        this.ownLoop = ownLoop;
        this.config = new ServerConfig(b.router, b.notFound, b.before.toArray(new BeforeFilter[0]), b.after.toArray(new AfterFilter[0]),
                b.maxInitialLineLength, b.maxHeaderSize, b.maxBodySize, b.requestTimeout.toNanos(), b.idleTimeout.toNanos(),
                b.accessLog, b.tls, b.http2 ? b.http2Options : null, b.errors.build(), b.json != null ? b.json : JsonBodies.discover(),
                b.compression);
        this.dispatcher = new Dispatcher(config);
        this.observers = b.observers.toArray(new HttpObserver[0]);
    }

    /** {@return a new builder (see {@link HttpServerBuilder} for the defaults)} Any thread. */
    public static HttpServerBuilder builder() {
        return new HttpServerBuilder();
    }

    /** Binds and starts the server {@code b} describes (checked by {@link HttpServerBuilder#start()}). */
    static HttpServer start(HttpServerBuilder b) throws IOException {
        // slow first-time class initialisation (codec, date names) here, not on the loop where the watchdog reports it
        new io.netty.handler.codec.http.HttpRequestDecoder(new HttpDecoderConfig());
        new HttpResponseEncoder();
        HeaderCache.warmUp();
        boolean owns = b.loop == null && b.group == null;
        List<EventLoop> loops;
        NettyTransport transport;
        if (b.group != null) {
            loops = b.group.loops();
            transport = NettyLoops.transport(b.group);
        } else {
            EventLoop l = owns ? NettyLoops.builder().name("http-" + b.port).build() : b.loop;
            loops = List.of(l);
            transport = NettyLoops.transport(l);
        }
        HttpServer s = new HttpServer(b, owns ? loops.get(0) : null);
        if (s.config.http2 != null) {
            Http2Setup.warmUp(s.config);
        }
        try {
            s.listeners = Listeners.bind(loops, transport, b.host, b.port, s.new Setup());
        } catch (IOException | RuntimeException e) {
            if (owns) {
                loops.get(0).close();
            }
            throw e;
        }
        for (HttpObserver o : s.observers) {
            o.serverStarted(s);
        }
        return s;
    }

    /** The bootstrap's options, and each accepted connection's pipeline. */
    private final class Setup implements Listeners.Setup {
        @Override
        public void configure(ServerBootstrap b) {
            b.option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(WRITE_BUFFER_HIGH_WATER_MARK / 2, WRITE_BUFFER_HIGH_WATER_MARK))
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, 64 * 1024).maxMessagesPerRead(1));
        }

        @Override
        public void accepted(Channel ch, Listeners.Listener l) {
            ServerLoop sl = serverLoop(l);
            if (sl.recorder.observesConnections()) {
                java.net.SocketAddress remote = ch.remoteAddress();
                sl.recorder.connectionOpened(remote);
                ch.closeFuture().addListener(f -> sl.recorder.connectionClosed(remote));
            }
            Http2Setup.accepted(ch, sl);
        }
    }

    /** The server's part on {@code l}'s loop. That loop. */
    private ServerLoop serverLoop(Listeners.Listener l) {
        return l.attachment(() -> new ServerLoop(this, l));
    }

    // ------------------------------------------------------------------ accessors

    /** {@return the bound port (useful after binding port 0). Any thread.} */
    public int port() {
        return listeners.address().getPort();
    }

    /** {@return the bound address. Any thread.} */
    public InetSocketAddress localAddress() {
        return listeners.address();
    }

    /** {@return the server's loop (with {@link HttpServerBuilder#group}, the group's first)} Any thread. */
    public EventLoop loop() {
        return listeners.loops().get(0);
    }

    /** {@return the loops that serve this server, in order: one, or every loop of its group. Any thread.} */
    public List<EventLoop> loops() {
        return listeners.loops();
    }

    /** {@return whether the server still accepts connections. Any thread.} */
    public boolean isOpen() {
        return listeners == null || listeners.isOpen();
    }

    /**
     * The number of requests being handled now, on every loop of the server.
     * <p>Threading: any thread (each loop counts its own; from another thread the sum may be a
     * moment old).
     *
     * @return the requests in flight
     */
    public int activeRequests() {
        int n = 0;
        for (Listeners.Listener l : listeners.listeners()) {
            ServerLoop sl = l.peekAttachment();
            n += sl == null ? 0 : sl.active();
        }
        return n;
    }

    // ------------------------------------------------------------------ closing

    /**
     * Closes this server gracefully when the JVM shuts down (SIGTERM, {@code System.exit}): a JVM
     * shutdown hook calls {@link #close(Duration) close(grace)}, which stops accepting, logs at INFO
     * how many requests are draining on how many connections, lets them finish within
     * {@code grace}, and logs at WARN the requests it then cuts off (by name, {@code GET /slow}).
     * The JVM exits once the hook returns. Closing the server otherwise removes the hook.
     * {@snippet :
     * HttpServer server = HttpServer.builder().port(8080).get("/", req -> HttpResponse.text("hi")).start();
     * server.closeOnShutdown(Duration.ofSeconds(10));   // kill -TERM drains for up to 10 s
     * }
     * <p>Threading: any thread.
     *
     * @param grace how long requests in flight may take to finish after the signal
     * @return this server
     * @throws IllegalArgumentException if {@code grace} is negative
     * @throws IllegalStateException if a hook is registered already, or the server is closed
     */
    public synchronized HttpServer closeOnShutdown(Duration grace) {
        if (shutdownHook != null) {
            throw new IllegalStateException("closeOnShutdown was called already for " + this + "; call it once");
        }
        if (!isOpen()) {
            throw new IllegalStateException(this + " is closed; call closeOnShutdown before closing it");
        }
        shutdownHook = ShutdownHook.register("HTTP server on " + localAddress().getHostString() + ":" + port(), port(), grace, this::close);
        return this;
    }

    /** Closes with a 5-second grace period; see {@link #close(Duration)}. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    /**
     * Graceful shutdown: stops accepting at once (on every loop), closes idle keep-alive
     * connections, lets the requests in flight finish (their responses carry
     * {@code Connection: close}) until {@code grace} has passed, then cancels the fibers still
     * running (a request cancelled before its response started gets {@code 503}) and waits for
     * them to unwind, and closes every connection. A server that created its own loop closes it
     * too. Idempotent.
     * <p>Threading: any thread; suspends a fiber of the loop, blocks another thread. A server that
     * owns its loop and is closed from a fiber of that loop (a handler, say) starts the loop's
     * closing, which ends once that fiber's task returns: code after {@code close()} there must not
     * expect the loop to serve on.
     *
     * @param grace how long requests in flight may take to finish on their own
     */
    public void close(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        listeners.close(grace, new Listeners.Drain() {
            @Override
            public void beforeWait(Listeners.Listener l) {
                for (ServedConnection c : serverLoop(l).connections()) {
                    c.shutdown();
                }
                for (WsConnection ws : serverLoop(l).webSockets()) {
                    ws.startClose(WebSocket.GOING_AWAY, "server shutting down");
                }
            }

            @Override
            public List<Task<?>> running(Listeners.Listener l) {
                return serverLoop(l).running();
            }

            @Override
            public void afterWait(Listeners.Listener l) {
                closeConnections(serverLoop(l));
            }

            @Override
            public String kind() {
                return "HTTP server";
            }

            @Override
            public String draining(Listeners.Listener l, List<Task<?>> running) {
                return Listeners.count(running.size(), "request") + " (" + Listeners.names(running) + ") on "
                        + Listeners.count(serverLoop(l).connections().size(), "connection");
            }
        });
        ShutdownHook hook = shutdownHook;
        if (hook != null) {
            hook.unregister();
        }
        if (ownLoop != null) {
            ownLoop.close(); // from a fiber of that loop: starts its closing (it cannot wait for itself)
        }
    }

    /** Closes the connections left, once their last writes (the 503s) are out. A fiber of the loop. */
    private void closeConnections(ServerLoop sl) {
        List<ServedConnection> left = sl.connections();
        if (left.isEmpty()) {
            return;
        }
        Fibers.nonCancellable(() -> {
            Fibers.yieldNow(); // let the queued responses reach Netty
            return null;
        });
        List<ChannelFuture> closes = new ArrayList<>();
        for (ServedConnection c : left) {
            Channel ch = c.channel();
            if (ch.isOpen() && !c.busy()) {
                closes.add(ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE));
            } else if (ch.isOpen()) {
                closes.add(ch.close());
            }
        }
        for (ChannelFuture f : closes) {
            try {
                Fibers.nonCancellable(() -> Fibers.withTimeoutOrNull(Duration.ofSeconds(1), () -> NettyFutures.await(f.channel().closeFuture())));
            } catch (RuntimeException e) {
                Dispatcher.log.debug("closing a connection of {}: {}", this, e.toString());
            }
        }
    }

    // ------------------------------------------------------------------ test statistics

    /** Records what a connection holds for its client after a flush (test statistics). Loop thread. */
    void noteBuffered(long bytes) {
        if (bytes > maxBufferedResponseBytes) {
            maxBufferedResponseBytes = bytes;
        }
    }

    /** {@return the most response bytes one connection held for its client since the last reset (tests)} */
    long maxBufferedResponseBytes() {
        return maxBufferedResponseBytes;
    }

    /** {@return completed once a connection stopped reading because its client did not read (tests)} */
    CompletableFuture<Void> readPaused() {
        return readPaused;
    }

    /** Starts the test statistics afresh. */
    void resetStats() {
        maxBufferedResponseBytes = 0;
        readPaused = new CompletableFuture<>();
    }

    @Override
    public String toString() {
        return "HttpServer[" + (listeners == null ? host : listeners) + "]";
    }
}
