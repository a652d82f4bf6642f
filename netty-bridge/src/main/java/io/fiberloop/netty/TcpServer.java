package io.fiberloop.netty;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClosedException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP server that runs a handler in a new fiber for each accepted connection.
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
 * Each accepted connection gets a {@link Connection} and a new fiber (a task of the server's
 * loop) that runs the handler; the connection is closed when the handler returns or throws. An
 * {@link IOException} escaping a handler (a peer that vanished) is logged at DEBUG, anything else
 * at WARN.
 *
 * <h2>Closing</h2>
 * {@link #close(Duration)} stops accepting at once, waits up to the grace period for the
 * handlers to finish, then cancels those still running (they see
 * {@link io.fiberloop.fiber.CancelledException} at their current or next suspension point) and
 * waits for them to unwind. Closing the loop closes the server's channels too.
 *
 * <h2>Threading</h2>
 * {@link #bind(EventLoop, String, int, Handler)}, {@link #close()} and the accessors are safe from
 * any thread: from a fiber of the loop they suspend that fiber, from any other thread they block.
 * The loop must have been built with the Netty driver ({@link NettyLoops}). The handler runs in
 * fibers of the server's loop.
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
         * <p>Threading: runs in a new fiber of the server's loop.
         *
         * @param connection the accepted connection
         * @throws Exception anything; it ends this connection only
         */
        void handle(Connection connection) throws Exception;
    }

    private final EventLoop loop;
    private final NettyIoDriver driver;
    private final Handler handler;
    private final Set<Task<Void>> handlers = new LinkedHashSet<>();
    private Channel serverChannel;
    private volatile InetSocketAddress address;
    private volatile boolean closing;
    private long accepted;

    private TcpServer(NettyIoDriver driver, Handler handler) {
        this.loop = driver.loop;
        this.driver = driver;
        this.handler = handler;
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
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(handler, "handler");
        NettyIoDriver driver = NettyIoDriver.of(loop);
        TcpServer server = new TcpServer(driver, handler);
        onLoop(loop, () -> {
            server.bindHere(host, port);
            return null;
        });
        return server;
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

    /** Runs {@code body} in a fiber of {@code loop}: inline when the caller is one, else in a new task it waits for. */
    static <T> T onLoop(EventLoop loop, Tcp.IoCallable<T> body) throws IOException {
        if (loop.inLoop() && Fiber.currentOrNull() != null) {
            return body.call();
        }
        Task<T> task;
        try {
            task = Fibers.spawn(loop, body::call);
        } catch (LoopClosedException e) {
            throw new IOException("loop '" + loop.name() + "' is closed", e);
        }
        try {
            return task.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    private void bindHere(String host, int port) throws IOException {
        NettyTransport t = driver.transport;
        ServerBootstrap b = new ServerBootstrap()
                .group(driver.netty, driver.netty)
                .channel(t.serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, ConnectionImpl.newRecvAllocator())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted(ch);
                    }
                });
        io.netty.channel.ChannelFuture f = b.bind(host, port);
        try {
            NettyFutures.await(f);
        } catch (CompletionException e) {
            throw Tcp.ioFailure(e, "cannot bind " + host + ":" + port);
        } catch (CancelledException e) {
            f.channel().close();
            throw e;
        }
        serverChannel = f.channel();
        address = (InetSocketAddress) serverChannel.localAddress();
        log.debug("{} listening", this);
    }

    /** A child channel was accepted. Owning thread (a Netty handler, in the loop's work fiber). */
    private void accepted(Channel ch) {
        if (closing) {
            ch.close();
            return;
        }
        accepted++;
        ConnectionImpl conn = new ConnectionImpl(driver);
        ch.pipeline().addLast(conn);
        Task<Void> task = Fibers.spawn("tcp-" + address.getPort() + "-conn-" + accepted, () -> {
            try {
                handler.handle(conn);
            } finally {
                conn.close();
            }
            return null;
        });
        handlers.add(task);
        task.whenComplete((v, e) -> {
            handlers.remove(task);
            if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause instanceof CancelledException) {
                    log.debug("connection handler {} was cancelled", task.name());
                } else if (cause instanceof IOException) {
                    log.debug("connection handler {} ended with {}", task.name(), cause.toString());
                } else {
                    log.warn("connection handler {} failed", task.name(), cause);
                }
            }
        });
    }

    /** @return the bound port (useful after binding port 0). Any thread. */
    public int port() {
        return address.getPort();
    }

    /** @return the bound address. Any thread. */
    public InetSocketAddress localAddress() {
        return address;
    }

    /** @return the server's loop. Any thread. */
    public EventLoop loop() {
        return loop;
    }

    /** @return whether the server still accepts connections. Any thread. */
    public boolean isOpen() {
        return !closing;
    }

    /**
     * The number of connection handlers running now.
     * <p>Threading: the server's loop (elsewhere the value may be stale).
     *
     * @return the live handlers
     */
    public int activeConnections() {
        return handlers.size();
    }

    /** Closes with the {@linkplain #DEFAULT_CLOSE_GRACE default grace period}; see {@link #close(Duration)}. */
    @Override
    public void close() {
        close(DEFAULT_CLOSE_GRACE);
    }

    /**
     * Stops accepting, waits up to {@code grace} for the connection handlers to return, then
     * cancels the ones still running and waits for them to unwind. Idempotent; a second call
     * waits for the first's handlers the same way. A handler that calls this does not wait for
     * itself.
     * <p>Threading: any thread; suspends a fiber of the loop, blocks another thread. Does nothing
     * when the loop is already closed (closing the loop closed the server).
     *
     * @param grace how long handlers may take to finish on their own
     */
    public void close(Duration grace) {
        Objects.requireNonNull(grace, "grace");
        if (loop.state() == EventLoop.State.CLOSED) {
            closing = true;
            return;
        }
        try {
            onLoop(loop, () -> {
                closeHere(grace);
                return null;
            });
        } catch (IOException | LoopClosedException e) {
            closing = true;
            log.debug("closing {}: {}", this, e.toString());
        }
    }

    private void closeHere(Duration grace) {
        closing = true;
        Channel sc = serverChannel;
        if (sc != null && sc.isOpen()) {
            try {
                NettyFutures.await(sc.close());
            } catch (CompletionException e) {
                log.debug("closing the listening channel of {}: {}", this, e.toString());
            }
        }
        Fiber me = Fiber.currentOrNull();
        List<Task<Void>> live = others(me);
        if (live.isEmpty()) {
            return;
        }
        Fibers.withTimeoutOrNull(grace, () -> Fibers.awaitAllSettled(live));
        List<Task<Void>> left = others(me);
        for (Task<Void> t : left) {
            t.cancel();
        }
        Fibers.nonCancellable(() -> Fibers.awaitAllSettled(left));
    }

    private List<Task<Void>> others(Fiber me) {
        List<Task<Void>> live = new ArrayList<>(handlers.size());
        for (Task<Void> t : handlers) {
            if (t.fiber() != me) {
                live.add(t);
            }
        }
        return live;
    }

    @Override
    public String toString() {
        return "TcpServer[" + address + ", " + driver.transport + ", loop " + loop.name() + "]";
    }
}
