package io.fiberloop.bench;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.netty.Connection;
import io.fiberloop.netty.NettyLoops;
import io.fiberloop.netty.NettyTransport;
import io.fiberloop.netty.TcpServer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.time.Duration;

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
            NettyTransport t = NettyTransport.of(BenchTransports.norm(transport));
            EventLoop loop = NettyLoops.builder(t).name("echo-loop").build();
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, drain ? Fiberloop::echoDrain : Fiberloop::echoTurn);
            ChildJvm.serveUntilStdinEof(server.port(), () -> {
                server.close(Duration.ofSeconds(1));
                loop.close();
            });
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
            EchoHandler handler = new EchoHandler();
            RawNettyServer.serve("raw-echo", args.length > 0 ? args[0] : "epoll", b -> { }, p -> p.addLast(handler));
        }
    }
}
