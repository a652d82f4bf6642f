package io.fiberloop.netty;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletionException;

/**
 * TCP clients: {@link #connect(String, int, Duration)} opens a {@link Connection} from a fiber;
 * {@link #connect(String, int, Duration, TcpOptions)} adds TLS, timeouts and socket options, and
 * {@link #connect(String, int, Duration, PipelineInitializer)} opens a {@link MessageConnection}
 * with codecs.
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
     * @throws IOException if the connection is refused (a {@link ConnectException} naming the address),
     *     times out ({@link io.netty.channel.ConnectTimeoutException}) or the host is unknown
     *     ({@link java.net.UnknownHostException} naming it)
     * @throws CancelledException if the calling fiber is cancelled meanwhile (the attempt is abandoned and its channel closed)
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws IllegalStateException if not called from a fiber of a loop with the Netty driver
     */
    public static Connection connect(String host, int port, Duration timeout) throws IOException {
        return connect(host, port, timeout, TcpOptions.defaults());
    }

    /**
     * Connects to {@code host:port} with {@code options} (TLS, timeouts, socket options), suspending the calling
     * fiber until the connection is established and, with TLS, the handshake has succeeded.
     * <p>Threading: a fiber of a loop built with the Netty driver.
     *
     * @param host the host name or address (with TLS, also the name the certificate is checked against and the SNI)
     * @param port the port
     * @param timeout how long the connect may take ({@code null} or zero: Netty's default, 30 s);
     *     the TLS handshake has its own limit (the context's, 10 s by default)
     * @param options TLS, timeouts and socket options
     * @return the open connection; the caller closes it
     * @throws javax.net.ssl.SSLHandshakeException if the TLS handshake fails (e.g. the server's
     *     certificate is not trusted), or another {@link javax.net.ssl.SSLException}
     * @throws IOException as {@link #connect(String, int, Duration)}
     */
    public static Connection connect(String host, int port, Duration timeout, TcpOptions options) throws IOException {
        NettyIoDriver driver = NettyIoDriver.current("Tcp.connect()");
        return (Connection) open(driver, new ConnectionImpl(driver), host, port, timeout, options, null);
    }

    /**
     * Connects to {@code host:port} with {@code pipeline}'s codecs in the connection's pipeline: the
     * fiber then reads and writes decoded messages.
     * {@snippet :
     * MessageConnection<String, String> c = Tcp.connect("127.0.0.1", 7000, Duration.ofSeconds(5),
     *         p -> p.addLast(new LineBasedFrameDecoder(1024), new StringDecoder(UTF_8), new StringEncoder(UTF_8)));
     * c.write("hello\n");
     * String reply = c.read();
     * }
     * <p>Threading: a fiber of a loop built with the Netty driver.
     *
     * @param host the host name or address
     * @param port the port
     * @param timeout how long the connect may take ({@code null} or zero: Netty's default)
     * @param pipeline adds the codecs
     * @param <I> the decoded messages' type
     * @param <O> the written messages' type
     * @return the open connection; the caller closes it
     * @throws IOException as {@link #connect(String, int, Duration)}
     */
    public static <I, O> MessageConnection<I, O> connect(String host, int port, Duration timeout, PipelineInitializer pipeline)
            throws IOException {
        return messages("Tcp.connect()", host, port, timeout, TcpOptions.defaults(), pipeline);
    }

    /**
     * As {@link #connect(String, int, Duration, PipelineInitializer)}, with options (the TLS
     * handler, if any, goes before {@code pipeline}'s handlers).
     * <p>Threading: a fiber of a loop built with the Netty driver.
     *
     * @param host the host name or address
     * @param port the port
     * @param timeout how long the connect may take
     * @param options TLS, timeouts and socket options
     * @param pipeline adds the codecs
     * @param <I> the decoded messages' type
     * @param <O> the written messages' type
     * @return the open connection; the caller closes it
     * @throws IOException as {@link #connect(String, int, Duration, TcpOptions)}
     * @throws IllegalStateException if not called from a fiber of a loop built with the Netty driver
     */
    public static <I, O> MessageConnection<I, O> connectMessages(String host, int port, Duration timeout, TcpOptions options,
            PipelineInitializer pipeline) throws IOException {
        return messages("Tcp.connectMessages()", host, port, timeout, options, pipeline);
    }

    @SuppressWarnings("unchecked")
    private static <I, O> MessageConnection<I, O> messages(String what, String host, int port, Duration timeout, TcpOptions options,
            PipelineInitializer pipeline) throws IOException {
        Objects.requireNonNull(pipeline, "pipeline");
        NettyIoDriver driver = NettyIoDriver.current(what);
        return (MessageConnection<I, O>) open(driver, new MessageConnectionImpl<I, O>(driver), host, port, timeout, options, pipeline);
    }

    private static ChannelConnection open(NettyIoDriver driver, ChannelConnection conn, String host, int port, Duration timeout,
            TcpOptions options, PipelineInitializer pipeline) throws IOException {
        Objects.requireNonNull(host, "host");
        if (timeout != null && timeout.isNegative()) {
            throw new IllegalArgumentException("connect timeout " + timeout + " is negative: give a positive duration, "
                    + "or null or Duration.ZERO for Netty's default (30 s)");
        }
        TcpOptions opts = TcpOptions.orDefaults(options);
        if (Fiber.currentOrNull() == null) {
            throw new IllegalStateException("Tcp.connect() suspends, so it must be called from a fiber, not a loop callback: "
                    + "spawn a task with Fibers.spawn(...)");
        }
        SslHandler[] ssl = new SslHandler[1];
        Bootstrap b = new Bootstrap()
                .group(driver.netty)
                .channelFactory(driver.clientChannels())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ChannelConnection.newRecvAllocator())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) throws Exception {
                        ChannelPipeline p = ch.pipeline();
                        if (opts.tls() != null) {
                            ssl[0] = opts.tls().newHandler(ch.alloc(), host, port);
                            p.addLast("tls", ssl[0]);
                        }
                        if (pipeline != null) {
                            pipeline.initialize(p);
                        }
                        p.addLast("fiberloop-connection", conn);
                        if (pipeline != null) {
                            conn.countRawBytes(p);
                        }
                    }
                });
        opts.forEachSocketOption(b::option);
        if (timeout != null && !timeout.isZero()) {
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
            throw connectFailure(e, host, port);
        } catch (CancelledException e) {
            f.cancel(false);
            f.channel().close();
            throw e;
        }
        opts.applyTo(conn);
        if (ssl[0] != null) {
            conn.requestRead(); // the handshake needs the server's answers
            try {
                NettyFutures.await(ssl[0].handshakeFuture());
            } catch (CompletionException e) {
                conn.close();
                throw ioFailure(e, "TLS handshake with " + host + ":" + port + " failed");
            } catch (RuntimeException e) {
                conn.close();
                throw e;
            }
        }
        return conn;
    }

    /**
     * The connect's failure, naming the address: io_uring's refusal says only "Connection refused",
     * so a {@link ConnectException} that does not name the port is given again with the address
     * (same type, the original as its cause).
     */
    static IOException connectFailure(CompletionException e, String host, int port) {
        String what = "cannot connect to " + host + ":" + port;
        IOException io = ioFailure(e, what);
        if (io.getClass() == ConnectException.class && (io.getMessage() == null || !io.getMessage().contains(":" + port))) {
            ConnectException named = new ConnectException(what + ": " + io.getMessage());
            named.initCause(io);
            return named;
        }
        return io;
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
