package io.fiberloop.bench;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.Connection;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.TcpServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The two echo servers of {@link EchoLoad}, each started by it in a child JVM of its own (so its
 * CPU time can be read from {@code /proc/<pid>/stat}). Both bind 127.0.0.1 on a free port, print
 * {@code PORT <n>} on stdout when ready, and exit when their stdin reaches end of file (the parent
 * closed it, or died).
 *
 * <p>Usage (normally only through {@link EchoLoad}):
 * {@code java ... -cp benchmarks.jar 'io.fiberloop.bench.EchoServers$Fiberloop' epoll [drain|turn]}
 * and {@code 'io.fiberloop.bench.EchoServers$RawNetty' epoll}.
 */
public final class EchoServers {
    private EchoServers() {
    }

    /** The Netty I/O handler factory of a transport name ({@code epoll}, {@code io_uring}, {@code nio}). */
    static IoHandlerFactory ioHandlerFactory(String transport) {
        return switch (norm(transport)) {
            case "epoll" -> EpollIoHandler.newFactory();
            case "io_uring" -> IoUringIoHandler.newFactory();
            case "nio" -> NioIoHandler.newFactory();
            default -> throw new IllegalArgumentException("unknown transport " + transport);
        };
    }

    static Class<? extends ServerSocketChannel> serverChannel(String transport) {
        return switch (norm(transport)) {
            case "epoll" -> EpollServerSocketChannel.class;
            case "io_uring" -> IoUringServerSocketChannel.class;
            case "nio" -> NioServerSocketChannel.class;
            default -> throw new IllegalArgumentException("unknown transport " + transport);
        };
    }

    static Class<? extends SocketChannel> socketChannel(String transport) {
        return switch (norm(transport)) {
            case "epoll" -> EpollSocketChannel.class;
            case "io_uring" -> IoUringSocketChannel.class;
            case "nio" -> NioSocketChannel.class;
            default -> throw new IllegalArgumentException("unknown transport " + transport);
        };
    }

    static String norm(String transport) {
        String t = transport.trim().toLowerCase(Locale.ROOT);
        return t.equals("iouring") ? "io_uring" : t;
    }

    /** Blocks until stdin ends (the parent closed the pipe or died). */
    static void awaitStdinEof() {
        InputStream in = System.in;
        byte[] buf = new byte[256];
        try {
            while (in.read(buf) >= 0) {
                // ignore anything the parent writes
            }
        } catch (IOException e) {
            // treat as end of file
        }
    }

    static void ready(int port) {
        System.out.println("PORT " + port);
        System.out.flush();
    }

    /** Exits even if closing hangs: a bounded-time stop. */
    static void exitSoon() {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException ignored) {
                // exit anyway
            }
            Runtime.getRuntime().halt(4);
        }, "exit-watchdog");
        t.setDaemon(true);
        t.start();
    }

    /**
     * fiberloop's echo server: one Netty-driven loop, a {@link TcpServer} with a fiber per
     * connection that reads and writes back. Mode {@code drain} (the default, as the samples'
     * {@code echo}): write, then {@code drain()} (which waits for the flush, then for
     * writability). Mode {@code turn}: write only and rely on the loop's per-turn flush.
     */
    public static final class Fiberloop {
        private Fiberloop() {
        }

        public static void main(String[] args) throws Exception {
            String transport = args.length > 0 ? args[0] : "epoll";
            String mode = args.length > 1 ? args[1] : "drain";
            boolean drain = switch (mode) {
                case "drain" -> true;
                case "turn" -> false;
                default -> throw new IllegalArgumentException("mode must be drain or turn: " + mode);
            };
            NettyTransport t = NettyTransport.of(norm(transport));
            EventLoop loop = NettyLoops.builder(t).name("echo-loop").build();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, drain ? Fiberloop::echoDrain : Fiberloop::echoTurn);
            ready(server.port());
            awaitStdinEof();
            exitSoon();
            server.close(Duration.ofSeconds(1));
            loop.close();
            System.exit(0);
        }

        /** As the samples' echo: write, then drain (flush + writability). */
        static void echoDrain(Connection conn) throws Exception {
            ByteBuf buf;
            while ((buf = conn.read()) != null) {
                conn.write(buf);
                conn.drain();
            }
        }

        /** Write only: the loop flushes once per turn; no backpressure (fine for ping-pong). */
        static void echoTurn(Connection conn) throws Exception {
            ByteBuf buf;
            while ((buf = conn.read()) != null) {
                conn.write(buf);
            }
        }
    }

    /**
     * The baseline: a hand-written Netty echo handler on a one-thread
     * {@link MultiThreadIoEventLoopGroup} with the same transport (write in {@code channelRead},
     * flush in {@code channelReadComplete}; Netty's default channel options: autoRead, adaptive
     * receive buffers, TCP_NODELAY).
     */
    public static final class RawNetty {
        private RawNetty() {
        }

        @ChannelHandler.Sharable
        static final class EchoHandler extends ChannelInboundHandlerAdapter {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.write(msg, ctx.voidPromise());
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                ctx.flush();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close();
            }
        }

        public static void main(String[] args) throws Exception {
            String transport = args.length > 0 ? args[0] : "epoll";
            MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                    new DefaultThreadFactory("raw-echo"), ioHandlerFactory(transport));
            EchoHandler handler = new EchoHandler();
            Channel sc = new ServerBootstrap()
                    .group(group, group)
                    .channel(serverChannel(transport))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(handler);
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            ready(((java.net.InetSocketAddress) sc.localAddress()).getPort());
            awaitStdinEof();
            exitSoon();
            sc.close().await(1, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(2, TimeUnit.SECONDS);
            System.exit(0);
        }
    }
}
