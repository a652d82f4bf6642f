package io.fiberloop.netty.http;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.internal.MustLog;
import io.fiberloop.loop.LoopClosedException;
import io.fiberloop.loop.LoopGroup;
import io.fiberloop.netty.NettyFutures;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.internal.QueuedOps;
import io.fiberloop.netty.internal.RoundRobinGroup;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An embedded HTTP/1.1 server: routes by method and path, and runs each request's handler in its
 * own fiber of one loop (or of every loop of a group, see "Multi-core"), in plain blocking style.
 * Built on Netty's HTTP/1.1 request decoder and response encoder.
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
 * connection's pipeline (HTTP/1.1 over TLS; no ALPN, so clients that offer HTTP/2 fall back to
 * HTTP/1.1). A client that fails the handshake, or that speaks plain HTTP to the TLS port, is
 * disconnected (logged at DEBUG) and the server goes on serving the others; Netty's handshake
 * timeout (10 s by default) bounds a handshake that stalls.
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
    static final Logger log = LoggerFactory.getLogger(HttpServer.class);
    /** The access log's logger name. */
    public static final String ACCESS_LOGGER = "io.fiberloop.http.access";
    private static final Logger access = LoggerFactory.getLogger(ACCESS_LOGGER);
    private static final Set<String> STANDARD_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "QUERY");
    private static final byte[] EMPTY = new byte[0];
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
         * @param request the request (path parameters are set)
         * @return a response that ends the request here, or {@code null}
         * @throws Exception as a handler
         */
        HttpResponse before(HttpRequest request) throws Exception;
    }

    /** Runs after the handler (also after a filter's or an error's response); may change the response. */
    @FunctionalInterface
    public interface AfterFilter {
        /**
         * @param request the request
         * @param response the response about to be sent
         * @throws Exception as a handler
         */
        void after(HttpRequest request, HttpResponse response) throws Exception;
    }

    final EventLoop loop;
    private final boolean ownsLoop;
    private final String host;
    private final int requestedPort;
    /** The server-channel option for SO_REUSEPORT when this server is one of a group's listeners, else {@code null}. */
    private final ChannelOption<Boolean> reusePort;
    /** The group's other listeners (the first is this one), or empty. Set once, before the server is returned. */
    private volatile List<HttpServer> siblings = List.of();
    private final Router router;
    private final HttpHandler notFound;
    private final BeforeFilter[] before;
    private final AfterFilter[] after;
    private final HttpDecoderConfig decoderConfig;
    final long maxBodySize;
    final long requestTimeoutNanos;
    final long idleTimeoutNanos;
    final boolean accessLog;
    private final SslContext tls;

    final Set<ServerConnection> connections = new HashSet<>();
    private Channel serverChannel;
    private volatile InetSocketAddress address;
    volatile boolean closing;
    /** The loop's I/O driver queue, where connections queue their writes and request ends (set at bind; loop only). */
    private QueuedOps.Queue opsQueue;
    /** The response path's reusable header texts (loop only). */
    private final HeaderCache headerCache = new HeaderCache();

    // test statistics: the most response bytes one connection held for its client, and whether any
    // connection stopped reading because its client did not read its responses
    private volatile long maxBufferedResponseBytes;
    volatile CompletableFuture<Void> readPaused = new CompletableFuture<>();

    private HttpServer(Builder b, EventLoop loop, boolean ownsLoop, int port, ChannelOption<Boolean> reusePort) {
        this.loop = loop;
        this.ownsLoop = ownsLoop;
        this.reusePort = reusePort;
        this.host = b.host;
        this.requestedPort = port;
        this.router = b.router;
        this.notFound = b.notFound;
        this.before = b.before.toArray(new BeforeFilter[0]);
        this.after = b.after.toArray(new AfterFilter[0]);
        this.maxBodySize = b.maxBodySize;
        this.requestTimeoutNanos = b.requestTimeout.toNanos();
        this.idleTimeoutNanos = b.idleTimeout.toNanos();
        this.accessLog = b.accessLog;
        this.tls = b.tls;
        this.decoderConfig = new HttpDecoderConfig()
                .setMaxInitialLineLength(b.maxInitialLineLength)
                .setMaxHeaderSize(b.maxHeaderSize)
                .setMaxChunkSize(16 * 1024)
                .setStrictLineParsing(true)
                .setAllowDuplicateContentLengths(false);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ binding and closing

    /** Sets up this server's part of its loop (its operation queue). The server's loop. */
    private void prepareHere() {
        opsQueue = QueuedOps.Queue.of(NettyLoops.nettyLoop(loop));
    }

    /** Binds on this loop, serving its connections here. The server's loop. */
    private void bindHere() throws IOException {
        bindHere(null);
    }

    /**
     * Binds on this loop. With {@code servers} (a group on a transport without SO_REUSEPORT), each
     * accepted connection goes to the next loop of the group, round-robin, and is served by that
     * loop's server there. The server's loop.
     */
    private void bindHere(List<HttpServer> servers) throws IOException {
        prepareHere();
        io.netty.channel.IoEventLoop netty = NettyLoops.nettyLoop(loop);
        Map<io.netty.channel.EventLoop, HttpServer> byNettyLoop = new IdentityHashMap<>();
        EventLoopGroup children = netty;
        if (servers != null) {
            List<EventLoopGroup> loops = new ArrayList<>(servers.size());
            for (HttpServer s : servers) {
                io.netty.channel.IoEventLoop n = NettyLoops.nettyLoop(s.loop);
                byNettyLoop.put(n, s);
                loops.add(n);
            }
            children = RoundRobinGroup.of(loops);
        }
        ServerBootstrap b = new ServerBootstrap()
                .group(netty, children)
                .channel(NettyLoops.transport(loop).serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(WRITE_BUFFER_HIGH_WATER_MARK / 2, WRITE_BUFFER_HIGH_WATER_MARK))
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(64, 2048, 64 * 1024).maxMessagesPerRead(1))
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // on the loop that serves the connection: this one, or the next of a round-robin group
                        HttpServer here = servers == null ? HttpServer.this : byNettyLoop.get(ch.eventLoop());
                        if (closing || here.closing) {
                            ch.close();
                            return;
                        }
                        ServerConnection conn = new ServerConnection(here);
                        here.connections.add(conn);
                        ch.pipeline().addLast(new ServerConnection.RawReads(conn));
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new RequestRules.Decoder(decoderConfig.clone()), new HttpResponseEncoder(), conn);
                    }
                });
        if (reusePort != null) {
            b.option(reusePort, true);
        }
        ChannelFuture f = b.bind(host, requestedPort);
        try {
            NettyFutures.await(f);
        } catch (CompletionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw c instanceof IOException io ? new IOException("cannot bind " + host + ":" + requestedPort + ": " + io.getMessage(), io)
                    : new IOException("cannot bind " + host + ":" + requestedPort, c);
        } catch (RuntimeException e) {
            f.channel().close();
            throw e;
        }
        serverChannel = f.channel();
        address = (InetSocketAddress) serverChannel.localAddress();
        log.debug("{} listening", this);
    }

    /** @return the bound port (useful after binding port 0). Any thread. */
    public int port() {
        return address.getPort();
    }

    /** @return the bound address. Any thread. */
    public InetSocketAddress localAddress() {
        return address;
    }

    /** @return the server's loop (with {@link Builder#group}, the group's first). Any thread. */
    public EventLoop loop() {
        return loop;
    }

    /** @return the loops that serve this server, in order: one, or every loop of its group. Any thread. */
    public List<EventLoop> loops() {
        List<EventLoop> ls = new ArrayList<>(1 + siblings.size());
        ls.add(loop);
        for (HttpServer s : siblings) {
            ls.add(s.loop);
        }
        return List.copyOf(ls);
    }

    /** @return whether the server still accepts connections. Any thread. */
    public boolean isOpen() {
        return !closing;
    }

    /**
     * The number of requests being handled now (on every loop of its group, with
     * {@link Builder#group}).
     * <p>Threading: with one loop, the server's loop (elsewhere the value may be stale). On a
     * group, any thread: each loop counts its own (a fiber is suspended, another thread blocks).
     *
     * @return the requests in flight
     */
    public int activeRequests() {
        List<HttpServer> others = siblings;
        if (others.isEmpty()) {
            return activeHere();
        }
        int n = activeOnItsLoop();
        for (HttpServer s : others) {
            n += s.activeOnItsLoop();
        }
        return n;
    }

    /** {@link #activeHere()} counted on the server's loop; 0 once the loop is closed. */
    private int activeOnItsLoop() {
        try {
            return onLoop(loop, this::activeHere);
        } catch (IOException | LoopClosedException e) {
            return 0;
        }
    }

    private int activeHere() {
        int n = 0;
        for (ServerConnection c : List.copyOf(connections)) {
            if (c.active != null) {
                n++;
            }
        }
        return n;
    }

    /** Closes with a 5-second grace period; see {@link #close(Duration)}. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    /**
     * Graceful shutdown: stops accepting at once, closes idle keep-alive connections, lets the
     * requests in flight finish (their responses carry {@code Connection: close}) until
     * {@code grace} has passed, then cancels the fibers still running (a request cancelled before
     * its response started gets {@code 503}) and waits for them to unwind, and closes every
     * connection. A server that created its own loop closes it too. Idempotent. A server on a
     * group first stops accepting on every loop, then closes each loop's connections in turn,
     * within one {@code grace} in all.
     * <p>Threading: any thread; suspends a fiber of the loop, blocks another thread. A server that
     * owns its loop must be closed from outside that loop.
     *
     * @param grace how long requests in flight may take to finish on their own
     */
    public void close(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        long deadline = System.nanoTime() + grace.toNanos();
        List<HttpServer> others = siblings;
        if (!others.isEmpty()) {
            // a group: no loop accepts any more while the first ones wait for their requests
            stopAccepting();
            for (HttpServer s : others) {
                s.stopAccepting();
            }
        }
        closeOne(grace);
        for (HttpServer s : others) {
            s.closeOne(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
    }

    /** Closes the listening channel (on the loop); connections go on until {@link #closeOne}. */
    private void stopAccepting() {
        if (loop.state() == EventLoop.State.CLOSED) {
            return;
        }
        try {
            onLoop(loop, () -> {
                closing = true;
                closeListener();
                return null;
            });
        } catch (IOException | LoopClosedException e) {
            log.debug("closing the listener of {}: {}", this, e.toString());
        }
    }

    private void closeListener() {
        Channel sc = serverChannel;
        if (sc != null && sc.isOpen()) {
            try {
                NettyFutures.await(sc.close());
            } catch (CompletionException e) {
                log.debug("closing the listening channel of {}: {}", this, e.toString());
            }
        }
    }

    private void closeOne(Duration grace) {
        if (loop.state() != EventLoop.State.CLOSED) {
            try {
                onLoop(loop, () -> {
                    closeHere(grace);
                    return null;
                });
            } catch (IOException | LoopClosedException e) {
                log.debug("closing {}: {}", this, e.toString());
            }
        }
        closing = true;
        if (ownsLoop && !loop.inLoop()) {
            loop.close();
        }
    }

    private void closeHere(Duration grace) {
        closing = true;
        closeListener();
        for (ServerConnection c : List.copyOf(connections)) {
            c.shutdown();
        }
        Fiber me = Fiber.currentOrNull();
        List<Task<Void>> live = inFlight(me);
        if (!live.isEmpty()) {
            Fibers.withTimeoutOrNull(grace, () -> Fibers.awaitAllSettled(live));
            List<Task<Void>> left = inFlight(me);
            for (Task<Void> t : left) {
                t.cancel();
            }
            Fibers.nonCancellable(() -> Fibers.awaitAllSettled(left));
            // let the 503s and last writes go out before the channels close
            Fibers.nonCancellable(() -> {
                Fibers.yieldNow();
                return null;
            });
        }
        List<ChannelFuture> closes = new ArrayList<>();
        for (ServerConnection c : List.copyOf(connections)) {
            if (c.ch.isOpen() && c.active == null) {
                closes.add(c.ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(io.netty.channel.ChannelFutureListener.CLOSE));
            } else if (c.ch.isOpen()) {
                closes.add(c.ch.close());
            }
        }
        for (ChannelFuture f : closes) {
            try {
                Fibers.nonCancellable(() -> Fibers.withTimeoutOrNull(Duration.ofSeconds(1), () -> NettyFutures.await(f.channel().closeFuture())));
            } catch (RuntimeException e) {
                log.debug("closing a connection of {}: {}", this, e.toString());
            }
        }
    }

    private List<Task<Void>> inFlight(Fiber me) {
        List<Task<Void>> live = new ArrayList<>();
        for (ServerConnection c : connections) {
            HttpRequest a = c.active;
            if (a != null && a.task != null && !a.task.isDone() && a.task.fiber() != me) {
                live.add(a.task);
            }
        }
        return live;
    }

    /** Runs {@code body} in a fiber of {@code loop}: inline when the caller is one, else in a new task it waits for. */
    static <T> T onLoop(EventLoop loop, Callable<T> body) throws IOException {
        if (loop.inLoop() && Fiber.currentOrNull() != null) {
            try {
                return body.call();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }
        Task<T> task = Fibers.spawn(loop, body);
        try {
            return task.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    // ------------------------------------------------------------------ connection operations

    /**
     * Queues {@code c}'s operations on the loop's I/O driver, which runs them in the work fiber at
     * the start of its next poll, before Netty's I/O (the same queue as the TCP connections').
     */
    void scheduleOps(ServerConnection c) {
        opsQueue.enqueue(c);
    }

    /** Counts {@code bytes} read off a connection's socket towards the driver's slices. Work fiber, in a handler. */
    void delivered(int bytes) {
        opsQueue.delivered(bytes);
    }

    /** A connection's read ended (its {@code channelReadComplete}): the driver may run a slice. Work fiber. */
    void endOfRead() {
        opsQueue.endOfRead();
    }

    // ------------------------------------------------------------------ serving (request fibers)

    /** The request's fiber: route, filters, handler, response. Never throws. */
    void serve(HttpRequest req) {
        ServerConnection conn = req.conn;
        try {
            HttpResponse res;
            try {
                res = respond(req);
            } catch (CancelledException e) {
                if (conn.inactive) {
                    return;
                }
                conn.closeAfter = true;
                res = HttpResponse.error(503, "the server is shutting down");
            }
            write(req, res);
        } catch (Throwable e) {
            if (e instanceof Error err && !(e instanceof StackOverflowError) && !(e instanceof OutOfMemoryError)) {
                log.error("request {} {} failed", req.method(), req.uri(), err);
            }
            if (req.headSent) {
                if (!(e instanceof IOException) && !(e instanceof CancelledException)) {
                    log.error("streaming the response to {} {} (route {}) failed; the connection is dropped",
                            req.method(), req.uri(), req.route, e);
                } else {
                    log.debug("response to {} {} broke off: {}", req.method(), req.uri(), e.toString());
                }
                conn.abort();
            } else if (!conn.inactive) {
                try {
                    write(req, errorResponse(req, e));
                } catch (Throwable again) {
                    conn.abort();
                }
            }
        } finally {
            req.releaseBody();
            conn.exchangeDone(req);
            if (accessLog) {
                accessLog(conn.ch, req, req.status, req.bytesSent, System.nanoTime() - req.startNanos);
            }
        }
    }

    private HttpResponse respond(HttpRequest req) {
        String method = req.method();
        if (req.path().equals("*")) {
            // OPTIONS * (the only method the connection lets through with this target) names the
            // server itself: RFC 9110 9.3.7
            return HttpResponse.status(200).header("Allow", String.join(", ", router.allMethods()));
        }
        Router.Match m = router.find(method, req.path());
        HttpHandler h;
        if (m.route() != null) {
            req.route = m.route().pattern();
            req.pathParams = m.params();
            h = m.route().handler();
        } else if (m.allowed() != null && method.equals("OPTIONS")) {
            String allow = String.join(", ", m.allowed()) + ", OPTIONS";
            h = r -> HttpResponse.status(204).header("Allow", allow);
        } else if (m.allowed() != null) {
            String allow = String.join(", ", m.allowed());
            h = r -> HttpResponse.error(405, "method " + method + " not allowed here\n").header("Allow", allow);
        } else if (!STANDARD_METHODS.contains(method) && !router.knowsMethod(method)) {
            h = r -> HttpResponse.error(501, "method " + method + " not implemented\n");
        } else {
            h = notFound;
        }
        HttpResponse res = null;
        try {
            for (BeforeFilter f : before) {
                res = f.before(req);
                if (res != null) {
                    break;
                }
            }
            if (res == null) {
                res = h.handle(req);
                if (res == null) {
                    res = HttpResponse.status(204);
                }
            }
        } catch (CancelledException e) {
            throw e;
        } catch (Throwable e) {
            res = errorResponse(req, e);
        }
        try {
            for (AfterFilter f : after) {
                f.after(req, res);
            }
        } catch (CancelledException e) {
            throw e;
        } catch (Throwable e) {
            res = errorResponse(req, e);
        }
        return res;
    }

    private HttpResponse errorResponse(HttpRequest req, Throwable e) {
        if (e instanceof HttpException he) {
            if (he.status() == 400 || he.status() == 408 || he.status() == 413) {
                req.conn.closeAfter = true;
            }
            return HttpResponse.error(he.status(), he.getMessage() + "\n");
        }
        if (e instanceof CancelledException ce) {
            throw ce;
        }
        MustLog.error(log, "handler of {} {} (route {}) failed", req.method(), req.uri(), req.route == null ? "none" : req.route, e);
        return HttpResponse.error(500, "internal server error\n");
    }

    /** Sends {@code res} (a fiber of the loop). */
    private void write(HttpRequest req, HttpResponse res) throws Exception {
        ServerConnection conn = req.conn;
        io.netty.handler.codec.http.HttpRequest head = req.head;
        HttpVersion v = head.protocolVersion();
        int st = res.status();
        boolean isHead = head.method().equals(HttpMethod.HEAD);
        boolean noBody = st < 200 || st == 204 || st == 304;
        boolean keepAlive = HttpUtil.isKeepAlive(head) && !conn.closeAfter && !closing && req.bodyEnded && !req.continueWithheld();
        HttpHeaders h = HeaderCache.newHeaders(); // validated here, by the cache
        List<String> raw = res.rawHeaders();
        HeaderCache hc = headerCache;
        for (int i = 0; i < raw.size(); i += 2) {
            h.add(hc.name(raw.get(i)), hc.value(raw.get(i + 1)));
        }
        h.set(HttpHeaderNames.DATE, hc.date());
        HttpResponse.Body stream = res.streamBody();
        if (stream == null) {
            byte[] body = res.bodyBytes() == null ? EMPTY : res.bodyBytes();
            if (noBody) {
                h.remove(HttpHeaderNames.CONTENT_LENGTH);
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
            } else {
                h.remove(HttpHeaderNames.TRANSFER_ENCODING);
                h.set(HttpHeaderNames.CONTENT_LENGTH, hc.length(body.length));
            }
            connectionHeader(h, v, keepAlive, conn);
            boolean sendBody = !isHead && !noBody && body.length > 0;
            DefaultFullHttpResponse out = new DefaultFullHttpResponse(v, HttpResponseStatus.valueOf(st),
                    sendBody ? Unpooled.wrappedBuffer(body) : Unpooled.EMPTY_BUFFER, h, EmptyHttpHeaders.INSTANCE);
            req.status = st;
            conn.send(out);
            req.headSent = true;
            req.bytesSent = sendBody ? body.length : 0;
            return;
        }
        boolean hasLength = h.contains(HttpHeaderNames.CONTENT_LENGTH);
        if (noBody) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        } else if (!hasLength && !isHead) {
            if (v.minorVersion() >= 1) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                keepAlive = false; // HTTP/1.0: the end of the body is the end of the connection
            }
        }
        connectionHeader(h, v, keepAlive, conn);
        req.status = st;
        conn.send(new DefaultHttpResponse(v, HttpResponseStatus.valueOf(st), h));
        req.headSent = true;
        if (!isHead && !noBody) {
            stream.writeTo(conn.new ChunkWriter(req));
        }
        conn.send(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private static void connectionHeader(HttpHeaders h, HttpVersion v, boolean keepAlive, ServerConnection conn) {
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            conn.closeAfter = true;
        } else if (v.minorVersion() == 0) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        } else {
            h.remove(HttpHeaderNames.CONNECTION);
        }
    }

    /** Records what a connection holds for its client after a flush (test statistics). Loop thread. */
    void noteBuffered(long bytes) {
        if (bytes > maxBufferedResponseBytes) {
            maxBufferedResponseBytes = bytes;
        }
    }

    /** @return the most response bytes one connection held for its client since the last reset (tests) */
    long maxBufferedResponseBytes() {
        return maxBufferedResponseBytes;
    }

    /** @return completed once a connection stopped reading because its client did not read (tests) */
    CompletableFuture<Void> readPaused() {
        return readPaused;
    }

    /** Starts the test statistics afresh. */
    void resetStats() {
        maxBufferedResponseBytes = 0;
        readPaused = new CompletableFuture<>();
    }

    /** The {@code Date} header's value, recomputed once a second. Carrier. */
    String date() {
        return headerCache.dateString();
    }

    void accessLog(Channel ch, HttpRequest req, int status, long bytes, long nanos) {
        if (!accessLog || !access.isInfoEnabled()) {
            return;
        }
        SocketAddress remote = ch.remoteAddress();
        String line = req == null ? "-" : req.method() + " " + req.uri() + " " + req.version();
        access.info("{} \"{}\" {} {} {}ms", remote, line, status, bytes, String.format(Locale.ROOT, "%.3f", nanos / 1e6));
    }

    @Override
    public String toString() {
        return "HttpServer[" + address + ", loop " + loop.name() + (siblings.isEmpty() ? "" : " and " + siblings.size() + " more") + "]";
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
        private int maxInitialLineLength = 4096;
        private int maxHeaderSize = 8192;
        private long maxBodySize = 10L * 1024 * 1024;
        private Duration requestTimeout = Duration.ofSeconds(30);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private boolean accessLog;
        private SslContext tls;

        private Builder() {
        }

        /**
         * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
         * @return this
         */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /**
         * @param port the port; {@code 0} for any free one (see {@link HttpServer#port()})
         * @return this
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
         * @param bytes the longest request line accepted (longer: {@code 414})
         * @return this
         */
        public Builder maxInitialLineLength(int bytes) {
            this.maxInitialLineLength = positive(bytes, "maxInitialLineLength");
            return this;
        }

        /**
         * @param bytes the most header bytes accepted (more: {@code 431})
         * @return this
         */
        public Builder maxHeaderSize(int bytes) {
            this.maxHeaderSize = positive(bytes, "maxHeaderSize");
            return this;
        }

        /**
         * @param bytes the largest request body accepted (larger: {@code 413})
         * @return this
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
         * Logs one line per request at INFO to the logger {@value HttpServer#ACCESS_LOGGER}:
         * {@code /127.0.0.1:53412 "GET /users/7 HTTP/1.1" 200 13 0.412ms}.
         *
         * @param on whether to log
         * @return this
         */
        public Builder accessLog(boolean on) {
            this.accessLog = on;
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
         * Binds and starts serving.
         * <p>Threading: any thread (a fiber of the loop is suspended, another thread blocks).
         *
         * @return the started server
         * @throws IOException if the address cannot be bound
         */
        public HttpServer start() throws IOException {
            // slow first-time class initialisation (codec, date names) here, not on the loop where the watchdog reports it
            new RequestRules.Decoder(new HttpDecoderConfig());
            new HttpResponseEncoder();
            HeaderCache.warmUp();
            if (group != null) {
                return startGroup();
            }
            boolean owns = loop == null;
            EventLoop l = owns ? NettyLoops.builder().name("http-" + port).build() : loop;
            HttpServer s = new HttpServer(this, l, owns, port, null);
            try {
                onLoop(l, () -> {
                    s.bindHere();
                    return null;
                });
            } catch (IOException | RuntimeException e) {
                if (owns) {
                    l.close();
                }
                throw e;
            }
            return s;
        }

        /** One listener per loop of the group, on one port; the first is returned and closes the others. */
        private HttpServer startGroup() throws IOException {
            if (loop != null) {
                throw new IllegalArgumentException("HttpServer.Builder: loop(...) and group(...) both given; serve on one loop or on a group");
            }
            List<EventLoop> loops = group.loops();
            NettyTransport t = NettyLoops.transport(group);
            ChannelOption<Boolean> reuse = loops.size() > 1 ? t.reusePortOption() : null;
            boolean roundRobin = loops.size() > 1 && reuse == null;
            List<HttpServer> listeners = new ArrayList<>(loops.size());
            int p = port;
            try {
                if (roundRobin) {
                    // no SO_REUSEPORT (NIO): the first loop accepts and hands the connections out
                    for (EventLoop l : loops) {
                        listeners.add(new HttpServer(this, l, false, p, null));
                    }
                    for (HttpServer s : listeners.subList(1, listeners.size())) {
                        onLoop(s.loop, () -> {
                            s.prepareHere();
                            return null;
                        });
                    }
                    HttpServer acceptor = listeners.get(0);
                    onLoop(acceptor.loop, () -> {
                        acceptor.bindHere(listeners);
                        return null;
                    });
                    for (HttpServer s : listeners.subList(1, listeners.size())) {
                        s.address = acceptor.address;
                    }
                } else {
                    for (EventLoop l : loops) {
                        HttpServer s = new HttpServer(this, l, false, p, reuse);
                        listeners.add(s);
                        onLoop(l, () -> {
                            s.bindHere();
                            return null;
                        });
                        p = s.port();
                    }
                }
            } catch (IOException | RuntimeException e) {
                for (HttpServer s : listeners) {
                    s.closeOne(Duration.ZERO);
                }
                throw e;
            }
            HttpServer first = listeners.get(0);
            first.siblings = List.copyOf(listeners.subList(1, listeners.size()));
            return first;
        }

        private static int positive(int v, String what) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be > 0, was " + v);
            }
            return v;
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be > 0, was " + d);
            }
            return d;
        }
    }
}
