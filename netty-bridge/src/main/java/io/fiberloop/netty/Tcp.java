package io.fiberloop.netty;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletionException;

/**
 * TCP clients: {@link #connect(String, int, Duration)} opens a {@link Connection} from a fiber.
 * {@snippet :
 * try (Connection conn = Tcp.connect("127.0.0.1", 7000, Duration.ofSeconds(5))) {
 *     conn.write("hello\n");
 *     String reply = conn.readLine(1024);
 * }
 * }
 * <p>Threading: from a fiber of a loop built with the Netty driver ({@link NettyLoops}); the
 * connection belongs to that loop.
 */
public final class Tcp {
    private Tcp() {
    }

    /** A callable that may throw {@link IOException}. */
    @FunctionalInterface
    interface IoCallable<T> {
        T call() throws IOException;
    }

    /**
     * Connects to {@code host:port}, suspending the calling fiber until the connection is
     * established.
     * <p>Threading: a fiber of a loop built with the Netty driver. The host name, if not a literal
     * address, is resolved in the calling fiber with the JDK resolver (which may hold the carrier
     * briefly).
     *
     * @param host the host name or address
     * @param port the port
     * @param timeout how long the connect may take ({@code null} or zero: Netty's default, 30 s)
     * @return the open connection; the caller closes it
     * @throws IOException if the connection is refused, times out ({@link io.netty.channel.ConnectTimeoutException})
     *     or the host is unknown
     * @throws CancelledException if the calling fiber is cancelled meanwhile (the attempt is abandoned and its channel closed)
     * @throws IllegalStateException if not called from a fiber of a loop with the Netty driver
     */
    public static Connection connect(String host, int port, Duration timeout) throws IOException {
        Objects.requireNonNull(host, "host");
        NettyIoDriver driver = NettyIoDriver.current("Tcp.connect()");
        if (Fiber.currentOrNull() == null) {
            throw new IllegalStateException("Tcp.connect() suspends, so it must be called from a fiber, not a loop callback: "
                    + "spawn a task with Fibers.spawn(...)");
        }
        ConnectionImpl conn = new ConnectionImpl(driver);
        Bootstrap b = new Bootstrap()
                .group(driver.netty)
                .channel(driver.transport.socketChannelClass())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ConnectionImpl.newRecvAllocator())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(conn);
                    }
                });
        if (timeout != null && !timeout.isZero() && !timeout.isNegative()) {
            b.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new java.net.UnknownHostException(host);
        }
        ChannelFuture f = b.connect(address);
        try {
            NettyFutures.await(f);
        } catch (CompletionException e) {
            f.channel().close();
            throw ioFailure(e, "cannot connect to " + host + ":" + port);
        } catch (CancelledException e) {
            f.cancel(false);
            f.channel().close();
            throw e;
        }
        return conn;
    }

    /** The IOException inside {@code e}, or a new one saying {@code what}. */
    static IOException ioFailure(CompletionException e, String what) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        if (cause instanceof IOException io) {
            return io;
        }
        return new IOException(what + ": " + cause, cause);
    }
}
