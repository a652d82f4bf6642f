package io.fiberloop.netty;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.netty.internal.Listeners;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.CompletionException;
import java.util.function.IntSupplier;

/**
 * A {@link TcpServer}'s side of the bootstrap (its options) and each accepted connection's set-up:
 * the TLS handler, the codecs, the connection, and either the fiber that runs the handler or, for a
 * server of {@code bindReads}, the read handler's connection.
 *
 * <p>Threading: {@link #configure} on any thread before binding; {@link #accepted} on Netty's owning
 * thread of the loop that serves the connection.
 */
final class TcpServerSetup implements Listeners.Setup {
    /** What runs in a connection's fiber. */
    interface Body {
        /**
         * Serves {@code c}; the connection is closed after it returns.
         *
         * @param c the accepted connection
         * @throws Exception anything; it ends this connection only
         */
        void run(ChannelConnection c) throws Exception;
    }

    private final TcpOptions options;
    private final PipelineInitializer pipeline;
    private final Body body;
    /** The read handler of a server from {@code bindReads} (then {@code body} is null). */
    private final TcpServer.ReadHandler reads;
    /** The server's bound port, for the connections' task names. */
    private final IntSupplier port;

    /**
     * The set-up of a server's connections: exactly one of {@code body} and {@code reads} is non-null.
     *
     * @param options TLS, timeouts and socket options ({@code null} for the defaults)
     * @param pipeline adds codecs to each connection's pipeline, or {@code null}
     * @param body runs in a new fiber per connection, or {@code null} for a read-handler server
     * @param reads the read handler, or {@code null}
     * @param port the server's bound port, once bound
     */
    TcpServerSetup(TcpOptions options, PipelineInitializer pipeline, Body body, TcpServer.ReadHandler reads, IntSupplier port) {
        this.options = TcpOptions.orDefaults(options);
        this.pipeline = pipeline;
        this.body = body;
        this.reads = reads;
        this.port = port;
    }

    @Override
    public void configure(ServerBootstrap b) {
        b.option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, ChannelConnection.newRecvAllocator());
        options.forEachSocketOption(b::childOption);
        options.forEachListenOption(b::option);
    }

    /** A child channel was accepted. Owning thread of the loop that will serve it (a Netty handler, in its work fiber). */
    @Override
    public void accepted(Channel ch, Listeners.Listener l) throws Exception {
        NettyIoDriver driver = NettyIoDriver.of(l.loop());
        ChannelPipeline p = ch.pipeline();
        if (options.tls() != null) {
            p.addLast("tls", options.tls().newHandler(ch.alloc()));
        }
        if (reads != null) {
            ReadHandlerConnection conn = new ReadHandlerConnection(driver, reads,
                    l.attachment(() -> new ReadHandlerConnection.Served(l)));
            p.addLast("fiberloop-connection", conn);
            options.applyTo(conn);
            conn.start();
            return;
        }
        if (pipeline != null) {
            pipeline.initialize(p);
        }
        ChannelConnection conn = pipeline == null ? new ConnectionImpl(driver) : new MessageConnectionImpl<Object, Object>(driver);
        p.addLast("fiberloop-connection", conn);
        if (pipeline != null) {
            conn.countRawBytes(p);
        }
        options.applyTo(conn);
        if (p.get(SslHandler.class) != null) {
            conn.requestRead(); // the handshake goes on even if the handler writes first
        }
        Task<Void> task = Fibers.spawn(l.loop(), taskName(ch), () -> {
            try {
                body.run(conn);
            } finally {
                conn.close();
            }
            return null;
        });
        l.track(task);
        task.onComplete((v, e) -> {
            if (e != null) {
                TcpServer.logEnd("connection handler '" + task.name() + "'",
                        e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            }
        });
    }

    /**
     * The name of a connection's task: its peer and the server's port, {@code tcp 127.0.0.1:34304 on :7000},
     * what fiber dumps, stall reports and the failure log show.
     */
    private String taskName(Channel ch) {
        return "tcp " + hostAndPort(ch.remoteAddress()) + " on :" + port.getAsInt();
    }

    private static String hostAndPort(SocketAddress a) {
        if (a instanceof InetSocketAddress isa && isa.getAddress() != null) {
            String host = isa.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + isa.getPort();
        }
        return String.valueOf(a);
    }
}
