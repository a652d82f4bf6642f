package io.fiberloop.netty.http;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.FiberDump;
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
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
 * {@link Builder#tls(SslContext)} serves TLS through Netty's {@code SslHandler}, first in each
 * connection's pipeline: HTTP/1.1 over TLS, and HTTP/2 to clients that choose it by ALPN when the
 * context offers it ({@link Http2Options#alpn()}). A client that fails the handshake, or that speaks plain HTTP to the TLS port, is
 * disconnected (logged at DEBUG) and the server goes on serving the others; Netty's handshake
 * timeout (10 s by default) bounds a handshake that stalls.
 *
 * <h2>HTTP/2</h2>
 * On by default ({@link Builder#http2(boolean)}): in clear text to clients that start with the
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
 * {@link Builder#group(LoopGroup)} serves on every loop of a group: each loop listens on the same
 * port with {@code SO_REUSEPORT} where the transport has it (epoll and io_uring; the kernel spreads
 * the connections), otherwise (NIO) the first loop accepts and hands the connections to the loops
 * in turn. Each connection and its requests stay on one loop. The routes, filters and
 * handlers are shared, so a handler may run on several loops at once: state it shares across
 * requests must then be thread-safe (or kept per loop).
 *
 * <h2>Threading</h2>
 * {@link Builder#start()} and {@link #close(Duration)} may be called from any thread (a fiber of the
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
     * {@link Builder#onError(Class, ErrorHandler)}).
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

    private HttpServer(Builder b, EventLoop ownLoop) {
        this.host = b.host;
        this.ownLoop = ownLoop;
        this.config = new ServerConfig(b.router, b.notFound, b.before.toArray(new BeforeFilter[0]), b.after.toArray(new AfterFilter[0]),
                b.maxInitialLineLength, b.maxHeaderSize, b.maxBodySize, b.requestTimeout.toNanos(), b.idleTimeout.toNanos(),
                b.accessLog, b.tls, b.http2 ? b.http2Options : null, b.errors.build(), b.json != null ? b.json : JsonBodies.discover(),
                b.compression);
        this.dispatcher = new Dispatcher(config);
        this.observers = b.observers.toArray(new HttpObserver[0]);
    }

    /** {@return a new builder} */
    public static Builder builder() {
        return new Builder();
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

    /** {@return the server's loop (with {@link Builder#group}, the group's first). Any thread.} */
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
     * owns its loop must be closed from outside that loop.
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
        if (ownLoop != null && !ownLoop.inLoop()) {
            ownLoop.close();
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

    // ------------------------------------------------------------------ builder

    /**
     * Configures and starts a server. Defaults: {@code 127.0.0.1}, port {@code 8080}, a new loop,
     * initial line 4096 bytes, headers 8192 bytes, body 10 MiB, request timeout 30 s, idle timeout
     * 60 s, access log off, a {@code 404 Not Found} fallback.
     * <p>Threading: one thread at a time; {@link #start()} from any thread.
     */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private EventLoop loop;
        private LoopGroup group;
        private final Router router = new Router();
        private HttpHandler notFound = r -> HttpResponse.error(404, "not found: " + r.path() + "\n");
        private final List<BeforeFilter> before = new ArrayList<>();
        private final List<AfterFilter> after = new ArrayList<>();
        private final ErrorMappers.Builder errors = new ErrorMappers.Builder();
        private JsonCodec json;
        private Compression compression;
        private int maxInitialLineLength = 4096;
        private int maxHeaderSize = 8192;
        private long maxBodySize = 10L * 1024 * 1024;
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private boolean accessLog;
        private final List<HttpObserver> observers = new ArrayList<>();
        private SslContext tls;
        private boolean http2 = true;
        private Http2Options http2Options = Http2Options.defaults();

        private Builder() {
        }

        /**
         * {@return this}
         *
         * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
         */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /**
         * {@return this}
         *
         * @param port the port; {@code 0} for any free one (see {@link HttpServer#port()})
         */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, was " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * Serves on {@code loop} (built with {@link NettyLoops}); the server does not close it.
         * Without this (or {@link #group(LoopGroup)}), {@link #start()} creates a loop that the
         * server owns and closes.
         *
         * @param loop the loop
         * @return this
         */
        public Builder loop(EventLoop loop) {
            this.loop = Objects.requireNonNull(loop, "loop");
            return this;
        }

        /**
         * Serves on every loop of {@code group} (built with {@link NettyLoops#newGroup}, all on
         * one transport): one listening socket per loop on the same port, with
         * {@code SO_REUSEPORT}, or on NIO one acceptor handing connections out round-robin (see
         * "Multi-core" above). The server does not close the group. Instead of
         * {@link #loop(EventLoop)}.
         *
         * @param group the loops
         * @return this
         */
        public Builder group(LoopGroup group) {
            this.group = Objects.requireNonNull(group, "group");
            return this;
        }

        /**
         * Adds a route. {@code path} is literal segments, {@code {name}} segments (one segment,
         * captured as a path parameter) and an optional last {@code *} (the rest of the path,
         * captured as {@code "*"}).
         *
         * @param method the method, e.g. {@code GET} (a {@code GET} route also answers {@code HEAD})
         * @param path the path pattern, e.g. {@code /users/{id}}
         * @param handler the handler
         * @return this
         * @throws IllegalArgumentException on a bad pattern or a duplicate route
         */
        public Builder route(String method, String path, HttpHandler handler) {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(handler, "handler");
            router.add(HttpMethod.valueOf(method.toUpperCase(Locale.ROOT)).name(), path, handler);
            return this;
        }

        /**
         * Adds a {@code GET} route: {@code route("GET", path, handler)}.
         *
         * @param path the path pattern
         * @param handler the handler
         * @return this
         */
        public Builder get(String path, HttpHandler handler) {
            return route("GET", path, handler);
        }

        /**
         * Adds a {@code POST} route: {@code route("POST", path, handler)}.
         *
         * @param path the path pattern
         * @param handler the handler
         * @return this
         */
        public Builder post(String path, HttpHandler handler) {
            return route("POST", path, handler);
        }

        /**
         * Adds a {@code PUT} route: {@code route("PUT", path, handler)}.
         *
         * @param path the path pattern
         * @param handler the handler
         * @return this
         */
        public Builder put(String path, HttpHandler handler) {
            return route("PUT", path, handler);
        }

        /**
         * Adds a {@code DELETE} route: {@code route("DELETE", path, handler)}.
         *
         * @param path the path pattern
         * @param handler the handler
         * @return this
         */
        public Builder delete(String path, HttpHandler handler) {
            return route("DELETE", path, handler);
        }

        /**
         * Adds a WebSocket endpoint with the default {@link WebSocketOptions}: a {@code GET} route
         * at {@code path} that upgrades to a WebSocket and runs {@code handler} in the request's
         * fiber for as long as the connection lasts (see {@link WebSocket}).
         * {@snippet :
         * builder.websocket("/ws/echo", ws -> {
         *     for (WebSocket.Message msg; (msg = ws.receive()) != null; ) {
         *         ws.send(msg);
         *     }
         * });
         * }
         * A plain {@code GET} (not an upgrade) gets {@code 426 Upgrade Required}. The route's
         * pattern may hold path parameters ({@code ws.request().pathParam(...)}). Before filters run
         * on the upgrade request (authentication, CORS); a filter's response refuses the upgrade.
         *
         * @param path the path pattern
         * @param handler serves each connection
         * @return this
         */
        public Builder websocket(String path, WebSocketHandler handler) {
            return websocket(path, WebSocketOptions.defaults(), handler);
        }

        /**
         * Adds a WebSocket endpoint: as {@link #websocket(String, WebSocketHandler)}, with options
         * (message limit, pings, idle timeout, subprotocols, compression, origin check).
         *
         * @param path the path pattern
         * @param options the connections' options
         * @param handler serves each connection
         * @return this
         */
        public Builder websocket(String path, WebSocketOptions options, WebSocketHandler handler) {
            Objects.requireNonNull(options, "options");
            Objects.requireNonNull(handler, "handler");
            return route("GET", path, new WsUpgrade(options, handler));
        }

        /**
         * The handler of requests no route matches (default: {@code 404} text).
         *
         * @param handler the fallback
         * @return this
         */
        public Builder notFound(HttpHandler handler) {
            this.notFound = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Adds a filter run before the handler, in the order added.
         *
         * @param filter the filter
         * @return this
         */
        public Builder before(BeforeFilter filter) {
            before.add(Objects.requireNonNull(filter, "filter"));
            return this;
        }

        /**
         * Adds a filter run after the handler, in the order added.
         *
         * @param filter the filter
         * @return this
         */
        public Builder after(AfterFilter filter) {
            after.add(Objects.requireNonNull(filter, "filter"));
            return this;
        }

        /**
         * The JSON codec of {@link HttpRequest#body(Class)} and {@link HttpResponse#json(Object)}.
         * Without it the server uses the one found by {@link java.util.ServiceLoader} (the
         * {@code fiberloop-jackson} artifact provides one), if any.
         * {@snippet :
         * builder.json(JacksonCodec.of(new ObjectMapper().findAndRegisterModules()));
         * }
         *
         * @param codec the codec (thread-safe: every loop of the server uses it)
         * @return this
         */
        public Builder json(JsonCodec codec) {
            this.json = Objects.requireNonNull(codec, "codec");
            return this;
        }

        /**
         * Compresses responses with gzip or deflate when the client accepts them (see
         * {@link Compression}: text types, bodies of at least 1 KiB by default). Off by default.
         *
         * @param compression the settings, e.g. {@code Compression.defaults()}; {@code null} turns it off
         * @return this
         */
        public Builder compression(Compression compression) {
            this.compression = compression;
            return this;
        }

        /**
         * Serves cross-origin requests by {@code cors}'s policy: adds a before filter that answers
         * preflight requests and an after filter that adds the {@code Access-Control-*} headers
         * (see {@link Cors}). Call it before adding filters of your own (an authentication filter
         * must not refuse a preflight, which carries no credentials).
         *
         * @param cors the policy
         * @return this
         */
        public Builder cors(Cors cors) {
            Objects.requireNonNull(cors, "cors");
            before.add(cors::preflight);
            after.add(cors::decorate);
            return this;
        }

        /**
         * Maps exceptions of {@code type} (and its subclasses) thrown by a handler or a filter to a
         * response, instead of the default {@code 500} (or an {@link HttpException}'s status). The
         * mapping for the nearest superclass of the thrown exception wins; a mapping for
         * {@code HttpException} itself replaces the default text answers of the server's
         * {@code 400}s and {@code 413}s raised in handlers (say, to answer JSON). A mapped exception is
         * not logged.
         * {@snippet :
         * builder.onError(NoSuchElementException.class, (req, e) -> HttpResponse.error(404, "no such item\n"))
         *        .onError(IllegalArgumentException.class, (req, e) -> HttpResponse.error(400, e.getMessage() + "\n"));
         * }
         *
         * @param type the exception type
         * @param handler makes the response
         * @param <E> the exception type
         * @return this
         * @throws IllegalArgumentException if {@code type} is mapped already
         */
        public <E extends Throwable> Builder onError(Class<E> type, ErrorHandler<? super E> handler) {
            errors.add(type, handler);
            return this;
        }

        /**
         * {@return this}
         *
         * @param bytes the longest request line accepted (longer: {@code 414})
         */
        public Builder maxInitialLineLength(int bytes) {
            this.maxInitialLineLength = positive(bytes, "maxInitialLineLength");
            return this;
        }

        /**
         * {@return this}
         *
         * @param bytes the most header bytes accepted (more: {@code 431})
         */
        public Builder maxHeaderSize(int bytes) {
            this.maxHeaderSize = positive(bytes, "maxHeaderSize");
            return this;
        }

        /**
         * {@return this}
         *
         * @param bytes the largest request body accepted (larger: {@code 413})
         */
        public Builder maxBodySize(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("maxBodySize must be >= 0, was " + bytes);
            }
            this.maxBodySize = bytes;
            return this;
        }

        /**
         * How long a request head may take to arrive once it started, and how long a body read may
         * wait for data; longer: {@code 408} and the connection is closed.
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = positive(timeout, "requestTimeout");
            return this;
        }

        /**
         * How long a keep-alive connection may wait for its next request before it is closed.
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = positive(timeout, "idleTimeout");
            return this;
        }

        /**
         * Logs one line per request at INFO to the logger {@value HttpServer#ACCESS_LOGGER}, in
         * the Combined Log Format with the time taken in microseconds as a last field (Apache's
         * {@code %D}), which log tools (GoAccess, AWStats, Logstash's {@code COMBINEDAPACHELOG})
         * read:
         * {@code 127.0.0.1 - - [06/Dec/2026:22:41:07 +0000] "GET /users/7 HTTP/1.1" 200 13 "-" "curl/8.5.0" 412}.
         * Route your logging framework's logger of that name to its own file, with a pattern of
         * the message alone ({@code %msg%n} in Logback).
         *
         * @param on whether to log
         * @return this
         */
        public Builder accessLog(boolean on) {
            this.accessLog = on;
            return this;
        }

        /**
         * Adds an observer, told of every answered request and of every connection (metrics,
         * tracing); see {@link HttpObserver}. Observers are called in the order added.
         *
         * @param observer the observer (thread-safe if the server runs on several loops)
         * @return this
         */
        public Builder observer(HttpObserver observer) {
            observers.add(Objects.requireNonNull(observer, "observer"));
            return this;
        }

        /**
         * Adds a health check at {@code path} ({@code GET}): {@code 200} and
         * {@code {"status":"UP",...}} while every loop of this server runs and none is stalled
         * (its watchdog reports work holding it), else {@code 503} and {@code "DOWN"}; the JSON
         * body lists each loop's state, stall, queue depth and live tasks. For Kubernetes probes
         * and load balancers.
         *
         * <p>A stalled loop cannot answer its own health check (the request waits, and the probe
         * times out): on a group another loop answers for it; on a single loop, serve the check
         * from a management server on a loop of its own with {@link #health(String, List)}.
         *
         * @param path the route, e.g. {@code /health}
         * @return this
         */
        public Builder health(String path) {
            return get(path, new HealthCheck(null));
        }

        /**
         * Adds a health check at {@code path} ({@code GET}) that watches {@code loops}, another
         * server's: the way a management server on its own loop answers {@code 503} while the
         * application's loop is stalled. See {@link #health(String)}.
         * {@snippet :
         * EventLoop app = NettyLoops.builder().name("app").build();
         * EventLoop management = NettyLoops.builder().name("management").build();
         * HttpServer server = HttpServer.builder().loop(app).port(8080).get("/", req -> HttpResponse.text("hi")).start();
         * HttpServer probes = HttpServer.builder().loop(management).port(8081).health("/health", server.loops()).start();
         * }
         *
         * @param path the route, e.g. {@code /health}
         * @param loops the loops to watch
         * @return this
         * @throws IllegalArgumentException if {@code loops} is empty
         */
        public Builder health(String path, List<EventLoop> loops) {
            Objects.requireNonNull(loops, "loops");
            if (loops.isEmpty()) {
                throw new IllegalArgumentException("health(path, loops) needs at least one loop to watch; "
                        + "use health(path) to watch this server's own loops");
            }
            return get(path, new HealthCheck(loops));
        }

        /**
         * Adds a fiber dump at {@code path} ({@code GET}): every fiber loop of the JVM and its live
         * tasks as a tree, each with its name ({@code GET /users/{id}}), state, where it waits and
         * its stack ({@link FiberDump}); text, or JSON with {@code ?format=json}. It shows your
         * code's stacks: serve it on a management port, not to the public.
         *
         * @param path the route, e.g. {@code /debug/fibers}
         * @return this
         */
        public Builder fiberDump(String path) {
            return get(path, req -> {
                FiberDump dump = FiberDump.ofAllLoops();
                return "json".equals(req.queryParam("format")) ? HttpResponse.json(dump.json())
                        : HttpResponse.text(dump.text()).setHeader("Cache-Control", "no-store");
            });
        }

        /**
         * Applies {@code feature} to this builder: a way for a module to add several things in one
         * call (routes, filters, an observer), e.g.
         * {@code .with(FiberloopMetrics.prometheus("/metrics", registry))} from
         * {@code fiberloop-micrometer}.
         *
         * @param feature what to add
         * @return this
         */
        public Builder with(java.util.function.Consumer<? super Builder> feature) {
            Objects.requireNonNull(feature, "feature").accept(this);
            return this;
        }

        /**
         * Serves HTTPS: TLS through Netty's {@code SslHandler}, first in each connection's
         * pipeline (see "HTTPS" above).
         * {@snippet :
         * SslContext tls = SslContextBuilder.forServer(keyManagerFactory).build();
         * HttpServer server = HttpServer.builder().port(8443).tls(tls).get("/", req -> HttpResponse.text("hi")).start();
         * }
         *
         * @param context a server context ({@code SslContextBuilder.forServer(...)}), or {@code null}
         *        for plain HTTP (the default)
         * @return this
         * @throws IllegalArgumentException if {@code context} is a client context
         */
        public Builder tls(SslContext context) {
            if (context != null && !context.isServer()) {
                throw new IllegalArgumentException("HttpServer.Builder.tls() needs a server context: build it with "
                        + "SslContextBuilder.forServer(keyManagerFactory) (or forServer(certificate, key)), not forClient()");
            }
            this.tls = context;
            return this;
        }

        /**
         * Whether the server speaks HTTP/2 besides HTTP/1.1 (on by default): in clear text to
         * clients that start with the HTTP/2 preface (prior knowledge) or ask for
         * {@code Upgrade: h2c}, over TLS to clients that choose {@code h2} by ALPN (the
         * {@link #tls} context must offer it: {@link Http2Options#alpn()}). The same routes,
         * filters and handlers serve both; see {@link Http2Options} for the limits.
         *
         * @param on whether to speak HTTP/2
         * @return this
         */
        public Builder http2(boolean on) {
            this.http2 = on;
            return this;
        }

        /**
         * The HTTP/2 limits (default {@link Http2Options#defaults()}).
         *
         * @param options the limits
         * @return this
         */
        public Builder http2Options(Http2Options options) {
            this.http2Options = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Binds and starts serving.
         * <p>Threading: any thread (a fiber of the loop is suspended, another thread blocks).
         *
         * @return the started server
         * @throws IOException if the address cannot be bound
         * @throws IllegalArgumentException if both {@link #loop} and {@link #group} were given
         */
        public HttpServer start() throws IOException {
            if (loop != null && group != null) {
                throw new IllegalArgumentException("HttpServer.Builder: loop(...) and group(...) both given; serve on one loop or on a group");
            }
            if (tls != null && !http2 && Http2Setup.offersHttp2(tls)) {
                throw new IllegalArgumentException("HttpServer.Builder: the TLS context offers h2 by ALPN but http2(false) turned HTTP/2 off; "
                        + "build the context without Http2Options.alpn() (or with HTTP/1.1 alone), or leave HTTP/2 on");
            }
            // slow first-time class initialisation (codec, date names) here, not on the loop where the watchdog reports it
            new io.netty.handler.codec.http.HttpRequestDecoder(new HttpDecoderConfig());
            new HttpResponseEncoder();
            HeaderCache.warmUp();
            boolean owns = loop == null && group == null;
            List<EventLoop> loops;
            NettyTransport transport;
            if (group != null) {
                loops = group.loops();
                transport = NettyLoops.transport(group);
            } else {
                EventLoop l = owns ? NettyLoops.builder().name("http-" + port).build() : loop;
                loops = List.of(l);
                transport = NettyLoops.transport(l);
            }
            HttpServer s = new HttpServer(this, owns ? loops.get(0) : null);
            if (s.config.http2 != null) {
                Http2Setup.warmUp(s.config);
            }
            try {
                s.listeners = Listeners.bind(loops, transport, host, port, s.new Setup());
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

        static int positive(int v, String what) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be > 0, was " + v);
            }
            return v;
        }

        static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be > 0, was " + d);
            }
            return d;
        }
    }
}
