package io.fiberloop.netty;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopGroup;
import io.fiberloop.netty.internal.Listeners;
import io.fiberloop.netty.internal.ShutdownHook;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP server that runs a handler in a new fiber for each accepted connection
 * ({@link #bind(EventLoop, String, int, Handler) bind}), or serves each connection a read at a time
 * with a {@link ReadHandler} and no fiber of its own ({@link #bindReads(EventLoop, String, int,
 * ReadHandler) bindReads}).
 * {@snippet :
 * try (EventLoop loop = NettyLoops.newLoop();
 *      TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, conn -> {
 *          String line;
 *          while ((line = conn.readLine(1024)) != null) {
 *              conn.write(line.toUpperCase() + "\n");
 *          }
 *      })) {
 *     System.out.println("listening on " + server.port());
 *     loop.runForever();
 * }
 * }
 *
 * <h2>Connections</h2>
 * Each accepted connection gets a {@link Connection} (or, with a {@link PipelineInitializer}, a
 * {@link MessageConnection} that reads and writes decoded messages) and a new fiber (a task of
 * the loop that serves the connection) that runs the handler. {@link TcpOptions} add TLS and
 * timeouts. The connection is closed when the handler returns or throws. An
 * {@link IOException} escaping a handler (a peer that vanished) is logged at DEBUG, anything else
 * at WARN.
 *
 * <h2>Closing</h2>
 * {@link #close(Duration)} stops accepting at once, waits up to the grace period for the
 * handlers to finish, then cancels those still running (they see
 * {@link io.fiberloop.fiber.CancelledException} at their current or next suspension point) and
 * waits for them to unwind. A read-handler server ends its idle connections at once and gives the
 * calls in progress the grace. Closing the loop closes the server's channels too.
 *
 * <h2>Multi-core</h2>
 * Bound on a {@link LoopGroup} ({@link #bind(LoopGroup, String, int, TcpOptions, Handler)}), the
 * server accepts on every loop of the group: with epoll and io_uring each loop binds its own
 * listening socket on the same port with {@code SO_REUSEPORT} and the kernel spreads connections
 * over them; with NIO and kqueue the first loop accepts and hands the connections out to the loops
 * round-robin. Either way a connection, its Netty handlers and its fiber live on one loop.
 *
 * <h2>Threading</h2>
 * The {@code bind...} methods that take a loop or a group, {@link #close()} and the accessors are
 * safe from any thread: from a fiber of the loop they suspend that fiber, from any other thread
 * they block. Those without a loop bind on the calling fiber's loop, so they need a fiber of a
 * loop (and throw {@link IllegalStateException} elsewhere). The loop must have been built with the
 * Netty driver ({@link NettyLoops}). A handler runs in fibers of
 * the server's loop; a read handler's calls on the loop, inline until they suspend.
 */
public final class TcpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TcpServer.class);
    /** The grace period of {@link #close()}. */
    public static final Duration DEFAULT_CLOSE_GRACE = Duration.ofSeconds(5);

    /**
     * Serves one connection, in its own fiber. The connection is closed after it returns.
     */
    @FunctionalInterface
    public interface Handler {
        /**
         * Serves {@code connection}.
         * <p>Threading: runs in a new fiber of the loop that serves the connection.
         *
         * @param connection the accepted connection
         * @throws Exception anything; it ends this connection only
         */
        void handle(Connection connection) throws Exception;
    }

    /**
     * Serves one connection whose pipeline holds codecs, in its own fiber. The connection is
     * closed after it returns.
     *
     * @param <I> the type of the decoded messages it reads
     * @param <O> the type of the messages it writes
     */
    @FunctionalInterface
    public interface MessageHandler<I, O> {
        /**
         * Serves {@code connection}.
         * <p>Threading: runs in a new fiber of the loop that serves the connection.
         *
         * @param connection the accepted connection
         * @throws Exception anything; it ends this connection only
         */
        void handle(MessageConnection<I, O> connection) throws Exception;
    }

    /**
     * Serves a connection a read at a time, with no fiber of its own: the Netty handler's shape
     * with blocking-style code inside. Each buffer that arrives is one call of
     * {@link #onRead}, which runs on the loop at once (inline on the loop's work fiber) and, only
     * if it suspends (a {@code drain()} that waits for a slow peer, a read of more bytes, an
     * await), carries on as a fiber of its own. A call that returns at once costs no fiber switch,
     * which makes this the cheapest way to serve a protocol where each read is answered by itself
     * (echo, a request per packet); a protocol that is a conversation (read a line, answer, read
     * the next) reads best as a {@link Handler}.
     * {@snippet :
     * TcpServer server = TcpServer.bindReads(loop, "127.0.0.1", 7000, (conn, data) -> {
     *     conn.write(data);   // echo: write takes ownership of the buffer
     * });
     * }
     * <h2>Order, backpressure, the end</h2>
     * One call at a time per connection, in the order the bytes arrived; while a call waits, what
     * arrives is buffered up to the connection's read-ahead bound (see {@link Connection}), then
     * Netty stops reading and TCP flow control slows the peer. While the peer does not read what
     * the calls wrote (Netty's channel is above its write high-water mark), the next call waits
     * until the writes drain below the low-water mark: a call that only writes needs no
     * {@code drain()} (which would suspend it). A call may read more from the
     * connection itself ({@code conn.readExactly(n)} for the rest of a frame): it takes the bytes
     * that would have been the next calls'. When the peer ends its output, the connection fails or
     * times out, the handler closes it, or the server closes, {@link #onEnd} is called once, after
     * the last {@code onRead} has returned, and then the connection is closed. What was buffered
     * is handed out first when the peer ended its output, dropped otherwise. A call that throws
     * ends the connection (an {@link IOException} is logged at DEBUG, anything else at WARN). When
     * the loop itself closes under a connection, {@code onEnd} may not run.
     * <p>Threading: calls run on the connection's loop, one at a time; the connection's methods may
     * be called from them as from any fiber of the loop.
     */
    @FunctionalInterface
    public interface ReadHandler {
        /**
         * Handles bytes that arrived on {@code connection}.
         *
         * @param connection the connection (write, drain, close it; it may also be read for more)
         * @param data the bytes, readable; owned by the call: write it on, or release it (in a
         *     {@code finally} if the call may throw before it does, as with a Netty handler's message)
         * @throws Exception anything; it ends this connection (after {@link #onEnd})
         */
        void onRead(Connection connection, ByteBuf data) throws Exception;

        /**
         * The connection is over for reading (see above): the last call, before it is closed. By
         * default nothing. After the peer ended its output, the connection can still be written
         * (a half-close: the last answer goes out before the close).
         *
         * @param connection the connection
         * @throws Exception anything; it is logged, and the connection is closed
         */
        default void onEnd(Connection connection) throws Exception {
        }
    }

    /** How the server's connections end when it closes. */
    private final Listeners.Drain drain;
    private Listeners listeners;
    /** The JVM shutdown hook of {@link #closeOnShutdown}, or {@code null}. */
    private volatile ShutdownHook shutdownHook;

    private TcpServer(boolean reads) {
        this.drain = reads ? new ReadsDrain() : new Listeners.Drain() { };
    }

    /**
     * Binds a server on {@code loop} and starts accepting.
     * <p>Threading: any thread (a fiber of {@code loop} is suspended, another thread blocks).
     *
     * @param loop a loop built with the Netty driver ({@link NettyLoops})
     * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
     * @param port the port, {@code 0} for any free one (see {@link #port()})
     * @param handler runs in a new fiber for each connection
     * @return the bound server
     * @throws IOException if the address cannot be bound (in use, no permission)
     * @throws IllegalStateException if the loop has no Netty driver
     */
    public static TcpServer bind(EventLoop loop, String host, int port, Handler handler) throws IOException {
        return bind(loop, host, port, TcpOptions.defaults(), handler);
    }

    /**
     * Binds a server on {@code loop} whose connections use {@code options} (TLS, timeouts, socket options).
     * <p>Threading: any thread (a fiber of {@code loop} is suspended, another thread blocks).
     *
     * @param loop a loop built with the Netty driver ({@link NettyLoops})
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param options TLS, timeouts and socket options of each connection
     * @param handler runs in a new fiber for each connection
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static TcpServer bind(EventLoop loop, String host, int port, TcpOptions options, Handler handler) throws IOException {
        return start(loop, host, port, options, null, connections(handler), null);
    }

    /**
     * Binds a server on the loop the calling fiber runs on.
     * <p>Threading: a fiber of a loop built with the Netty driver.
     *
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param handler runs in a new fiber for each connection
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static TcpServer bind(String host, int port, Handler handler) throws IOException {
        return bind(NettyIoDriver.current("TcpServer.bind()").loop, host, port, handler);
    }

    /**
     * Binds a server that accepts on every loop of {@code group} (see "Multi-core" above).
     * <p>Threading: any thread; a fiber is suspended, another thread blocks.
     *
     * @param group loops built with the Netty driver ({@link NettyLoops#newGroup(int)}), all on one transport
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one (all loops then share the one picked)
     * @param handler runs in a new fiber, on the loop that serves the connection
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static TcpServer bind(LoopGroup group, String host, int port, Handler handler) throws IOException {
        return bind(group, host, port, TcpOptions.defaults(), handler);
    }

    /**
     * Binds a server that accepts on every loop of {@code group}, with connection options.
     * <p>Threading: any thread; a fiber is suspended, another thread blocks.
     *
     * @param group loops built with the Netty driver, all on one transport
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param options TLS, timeouts and socket options of each connection
     * @param handler runs in a new fiber, on the loop that serves the connection
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static TcpServer bind(LoopGroup group, String host, int port, TcpOptions options, Handler handler) throws IOException {
        return start(group, host, port, options, null, connections(handler), null);
    }

    /**
     * Binds a server on {@code loop} whose connections run {@code pipeline}'s codecs: the handler
     * reads and writes decoded messages.
     * {@snippet :
     * TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0,
     *         p -> p.addLast(new LineBasedFrameDecoder(1024), new StringDecoder(UTF_8), new StringEncoder(UTF_8)),
     *         (MessageConnection<String, String> conn) -> {
     *             for (String line; (line = conn.read()) != null; ) {
     *                 conn.write(line + "\n");
     *             }
     *         });
     * }
     * <p>Threading: any thread (a fiber of {@code loop} is suspended, another thread blocks).
     *
     * @param loop a loop built with the Netty driver
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param pipeline adds the codecs to each connection's pipeline
     * @param handler runs in a new fiber for each connection
     * @param <I> the decoded messages' type
     * @param <O> the written messages' type
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static <I, O> TcpServer bind(EventLoop loop, String host, int port, PipelineInitializer pipeline,
            MessageHandler<I, O> handler) throws IOException {
        return bindMessages(loop, host, port, TcpOptions.defaults(), pipeline, handler);
    }

    /**
     * As {@link #bind(EventLoop, String, int, PipelineInitializer, MessageHandler)}, with connection
     * options (the TLS handler, if any, goes before {@code pipeline}'s handlers).
     * <p>Threading: any thread (a fiber of {@code loop} is suspended, another thread blocks).
     *
     * @param loop a loop built with the Netty driver
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param options TLS, timeouts and socket options of each connection
     * @param pipeline adds the codecs to each connection's pipeline
     * @param handler runs in a new fiber for each connection
     * @param <I> the decoded messages' type
     * @param <O> the written messages' type
     * @return the bound server
     * @throws IOException if the address cannot be bound
     * @throws IllegalStateException if the loop has no Netty driver
     */
    public static <I, O> TcpServer bindMessages(EventLoop loop, String host, int port, TcpOptions options,
            PipelineInitializer pipeline, MessageHandler<I, O> handler) throws IOException {
        return start(loop, host, port, options, Objects.requireNonNull(pipeline, "pipeline"), messages(handler), null);
    }

    /**
     * As {@link #bindMessages(EventLoop, String, int, TcpOptions, PipelineInitializer, MessageHandler)},
     * accepting on every loop of {@code group}.
     * <p>Threading: any thread (a fiber of a loop of the group is suspended, another thread blocks).
     *
     * @param group loops built with the Netty driver, all on one transport
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param options TLS, timeouts and socket options of each connection
     * @param pipeline adds the codecs to each connection's pipeline
     * @param handler runs in a new fiber, on the loop that serves the connection
     * @param <I> the decoded messages' type
     * @param <O> the written messages' type
     * @return the bound server
     * @throws IOException if the address cannot be bound
     * @throws IllegalStateException if a loop of the group has no Netty driver
     */
    public static <I, O> TcpServer bindMessages(LoopGroup group, String host, int port, TcpOptions options,
            PipelineInitializer pipeline, MessageHandler<I, O> handler) throws IOException {
        return start(group, host, port, options, Objects.requireNonNull(pipeline, "pipeline"), messages(handler), null);
    }

    /**
     * Binds a server on {@code loop} whose connections are served a read at a time by
     * {@code handler}, with no fiber per connection (see {@link ReadHandler}).
     * <p>Threading: any thread (a fiber of {@code loop} is suspended, another thread blocks).
     *
     * @param loop a loop built with the Netty driver ({@link NettyLoops})
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param handler called for each read of each connection, on the loop
     * @return the bound server
     * @throws IOException if the address cannot be bound
     * @throws IllegalStateException if the loop has no Netty driver
     */
    public static TcpServer bindReads(EventLoop loop, String host, int port, ReadHandler handler) throws IOException {
        return bindReads(loop, host, port, TcpOptions.defaults(), handler);
    }

    /**
     * Binds a read-handler server on the loop the calling fiber runs on (see {@link ReadHandler}).
     * <p>Threading: a fiber of a loop built with the Netty driver.
     *
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param handler called for each read of each connection, on the loop
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static TcpServer bindReads(String host, int port, ReadHandler handler) throws IOException {
        return bindReads(NettyIoDriver.current("TcpServer.bindReads()").loop, host, port, handler);
    }

    /**
     * Binds a read-handler server that accepts on every loop of {@code group} (see "Multi-core" above).
     * <p>Threading: any thread; a fiber is suspended, another thread blocks.
     *
     * @param group loops built with the Netty driver, all on one transport
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param handler called for each read of each connection, on the loop that serves it
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static TcpServer bindReads(LoopGroup group, String host, int port, ReadHandler handler) throws IOException {
        return bindReads(group, host, port, TcpOptions.defaults(), handler);
    }

    /**
     * As {@link #bindReads(EventLoop, String, int, ReadHandler)}, with connection options (TLS,
     * timeouts, socket options; a read timeout applies to the reads a call makes itself).
     * <p>Threading: any thread (a fiber of {@code loop} is suspended, another thread blocks).
     *
     * @param loop a loop built with the Netty driver
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param options TLS, timeouts and socket options of each connection
     * @param handler called for each read of each connection, on the loop
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static TcpServer bindReads(EventLoop loop, String host, int port, TcpOptions options, ReadHandler handler)
            throws IOException {
        return start(loop, host, port, options, null, null, Objects.requireNonNull(handler, "handler"));
    }

    /**
     * As {@link #bindReads(EventLoop, String, int, TcpOptions, ReadHandler)}, accepting on every
     * loop of {@code group} (see "Multi-core" above).
     * <p>Threading: any thread; a fiber is suspended, another thread blocks.
     *
     * @param group loops built with the Netty driver, all on one transport
     * @param host the address to bind
     * @param port the port, {@code 0} for any free one
     * @param options TLS, timeouts and socket options of each connection
     * @param handler called for each read of each connection, on the loop that serves it
     * @return the bound server
     * @throws IOException if the address cannot be bound
     */
    public static TcpServer bindReads(LoopGroup group, String host, int port, TcpOptions options, ReadHandler handler)
            throws IOException {
        return start(group, host, port, options, null, null, Objects.requireNonNull(handler, "handler"));
    }

    /** {@return what runs in the fiber of each connection of a {@link Handler}'s server} */
    private static TcpServerSetup.Body connections(Handler handler) {
        Objects.requireNonNull(handler, "handler");
        return c -> handler.handle((Connection) c);
    }

    /** {@return what runs in the fiber of each connection of a {@link MessageHandler}'s server} */
    @SuppressWarnings("unchecked")
    private static <I, O> TcpServerSetup.Body messages(MessageHandler<I, O> handler) {
        Objects.requireNonNull(handler, "handler");
        return c -> handler.handle((MessageConnection<I, O>) c);
    }

    private static TcpServer start(EventLoop loop, String host, int port, TcpOptions options, PipelineInitializer pipeline,
            TcpServerSetup.Body body, ReadHandler reads) throws IOException {
        Objects.requireNonNull(loop, "loop");
        return start(List.of(loop), NettyLoops.transport(loop), host, port, options, pipeline, body, reads);
    }

    private static TcpServer start(LoopGroup group, String host, int port, TcpOptions options, PipelineInitializer pipeline,
            TcpServerSetup.Body body, ReadHandler reads) throws IOException {
        NettyTransport t = NettyLoops.transport(group); // one transport for all
        return start(group.loops(), t, host, port, options, pipeline, body, reads);
    }

    /** Every {@code bind}, {@code bindMessages} and {@code bindReads} ends here: exactly one of {@code body} and {@code reads} is set. */
    private static TcpServer start(List<EventLoop> loops, NettyTransport transport, String host, int port, TcpOptions options,
            PipelineInitializer pipeline, TcpServerSetup.Body body, ReadHandler reads) throws IOException {
        Objects.requireNonNull(host, "host");
        TcpServer server = new TcpServer(reads != null);
        server.listeners = Listeners.bind(loops, transport, host, port,
                new TcpServerSetup(options, pipeline, body, reads, server::port));
        return server;
    }

    /**
     * Logs how a connection's handler, or a read handler's call, ended by throwing: cancelled or
     * an {@link IOException} (a peer that vanished) at DEBUG, anything else at WARN.
     *
     * @param who what threw, for the message
     * @param cause what it threw
     */
    static void logEnd(String who, Throwable cause) {
        if (cause instanceof CancelledException) {
            log.debug("{} was cancelled", who);
        } else if (cause instanceof IOException) {
            log.debug("{} ended with {}", who, cause.toString());
        } else {
            log.warn("{} failed", who, cause);
        }
    }

    /** {@return the bound port (useful after binding port 0). Any thread.} */
    public int port() {
        return listeners.address().getPort();
    }

    /** {@return the bound address. Any thread.} */
    public InetSocketAddress localAddress() {
        return listeners.address();
    }

    /** {@return the server's loop (the first of its loops when it serves a group). Any thread.} */
    public EventLoop loop() {
        return listeners.loops().get(0);
    }

    /** {@return the loops that serve this server's connections, in order. Any thread.} */
    public List<EventLoop> loops() {
        return listeners.loops();
    }

    /**
     * {@return whether each loop accepts on its own socket with {@code SO_REUSEPORT} ({@code false} for a single loop, or a group whose first loop accepts for all). Any thread.}
     *
     */
    public boolean usesReusePort() {
        return listeners.usesReusePort();
    }

    /** {@return whether the server still accepts connections. Any thread.} */
    public boolean isOpen() {
        return listeners.isOpen();
    }

    /**
     * The number of connection handlers running now (for a server of {@code bindReads}: the
     * connections open now), on every loop of the server.
     * <p>Threading: any thread (each loop counts its own; from another thread the sum may be a
     * moment old).
     *
     * @return the live handlers
     */
    public int activeConnections() {
        return listeners.live();
    }

    /** Closes with the {@linkplain #DEFAULT_CLOSE_GRACE default grace period}; see {@link #close(Duration)}. */
    @Override
    public void close() {
        close(DEFAULT_CLOSE_GRACE);
    }

    /**
     * Stops accepting, waits up to {@code grace} for the connection handlers to return, then
     * cancels the ones still running and waits for them to unwind. A server of {@code bindReads}
     * ends its idle connections at once ({@code onEnd}, then closed), waits up to {@code grace} for
     * the calls in progress and the {@code onEnd} that follows them, then cancels what is left and
     * closes every connection (an {@code onEnd} cut off that way runs after the close, and its
     * writes fail). Idempotent; a second call
     * waits for the first's handlers the same way. A handler that calls this does not wait for
     * itself. On a group, every loop's part closes at the same time.
     * <p>Threading: any thread; suspends a fiber, blocks another thread. Skips loops that are
     * already closed (closing the loop closed its part of the server).
     *
     * @param grace how long handlers may take to finish on their own
     */
    public void close(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        listeners.close(grace, drain);
        ShutdownHook hook = shutdownHook;
        if (hook != null) {
            hook.unregister();
        }
    }

    /**
     * Closes this server gracefully when the JVM shuts down (SIGTERM, {@code System.exit}): a JVM
     * shutdown hook calls {@link #close(Duration) close(grace)}, which stops accepting, logs at INFO
     * how many connections are draining (by name, {@code tcp 127.0.0.1:50412 on :7000}), lets
     * their handlers finish within {@code grace}, and logs at WARN those it then cancels. The JVM
     * exits once the hook returns. Closing the server otherwise removes the hook.
     * <p>Threading: any thread.
     *
     * @param grace how long handlers may take to finish after the signal
     * @return this server
     * @throws IllegalArgumentException if {@code grace} is negative
     * @throws IllegalStateException if a hook is registered already, or the server is closed
     */
    public synchronized TcpServer closeOnShutdown(Duration grace) {
        if (shutdownHook != null) {
            throw new IllegalStateException("closeOnShutdown was called already for " + this + "; call it once");
        }
        if (!isOpen()) {
            throw new IllegalStateException(this + " is closed; call closeOnShutdown before closing it");
        }
        shutdownHook = ShutdownHook.register("TCP server on " + listeners.address().getHostString() + ":" + port(), port(), grace, this::close);
        return this;
    }

    @Override
    public String toString() {
        return "TcpServer[" + listeners + "]";
    }
}
