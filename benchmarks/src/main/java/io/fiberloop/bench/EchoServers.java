package io.fiberloop.bench;

import io.fiberloop.fiber.Fibers;
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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The two echo servers of {@link EchoLoad}, each started by it in a child JVM of its own (so its
 * CPU time can be read from {@code /proc/<pid>/stat}). Both bind 127.0.0.1 on a free port, print
 * {@code PORT <n>} on stdout when ready, and exit when their stdin reaches end of file (the parent
 * closed it, or died).
 *
 * <p>Usage (normally only through {@link EchoLoad}):
 * {@code java ... -cp benchmarks.jar 'io.fiberloop.bench.EchoServers$Fiberloop' epoll [drain|turn|reads [probe=S]]}
 * ({@code probe=S}: run a {@link TimerProbe} and print its line at the end, leaving out the first S seconds)
 * and {@code 'io.fiberloop.bench.EchoServers$RawNetty' epoll}.
 */
public final class EchoServers {
    private EchoServers() {
    }

    /**
     * fiberloop's echo server: one Netty-driven loop, a {@link TcpServer} with a fiber per
     * connection that reads and writes back. Mode {@code drain} (the default, as the samples'
     * {@code echo}): write, then {@code drain()} (which waits for the flush, then for
     * writability). Mode {@code turn}: write only and rely on the loop's per-turn flush. Mode
     * {@code reads}: a {@link TcpServer.ReadHandler} (no fiber per connection) that writes what
     * arrived and drains, inline on the loop.
     */
    public static final class Fiberloop {
        private Fiberloop() {
        }

        public static void main(String[] args) throws Exception {
            String transport = args.length > 0 ? args[0] : "epoll";
            String mode = args.length > 1 ? args[1] : "drain";
            int probeAfterSeconds = args.length > 2 ? Integer.parseInt(args[2].substring("probe=".length())) : -1;
            if (!List.of("drain", "turn", "reads").contains(mode)) {
                throw new IllegalArgumentException("mode must be drain, turn or reads: " + mode);
            }
            NettyTransport t = NettyTransport.of(BenchTransports.norm(transport));
            EventLoop loop = NettyLoops.builder(t).name("echo-loop").build();
            TcpServer server = mode.equals("reads")
                    ? TcpServer.bindReads(loop, "127.0.0.1", 0, Fiberloop::echoRead)
                    : TcpServer.bind(loop, "127.0.0.1", 0, mode.equals("drain") ? Fiberloop::echoDrain : Fiberloop::echoTurn);
            TimerProbe probe = probeAfterSeconds >= 0 ? TimerProbe.start(loop, Duration.ofSeconds(probeAfterSeconds)) : null;
            ChildJvm.serveUntilStdinEof(server.port(), () -> {
                if (probe != null) {
                    System.out.println(probe.report(loop));
                    System.out.flush();
                }
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

        /** A read handler (no fiber per connection): write what arrived, inline on the loop. */
        static void echoRead(Connection conn, ByteBuf data) throws Exception {
            conn.write(data); // no drain(): the connection holds the next call back while the peer does not read
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
     * How late the loop's timers fire under load: a fiber on the echo loop sleeps 1 ms over and over
     * and records by how much each sleep overran, from {@code skip} after the start on (the warm-up
     * is left out). Loop thread only, apart from {@link #report}.
     */
    static final class TimerProbe {
        private static final Duration SLEEP = Duration.ofMillis(1);
        private final long[] late = new long[1 << 18];
        private final long from;
        private int n;

        private TimerProbe(Duration skip) {
            this.from = System.nanoTime() + skip.toNanos();
        }

        static TimerProbe start(EventLoop loop, Duration skip) {
            TimerProbe p = new TimerProbe(skip);
            loop.execute(() -> Fibers.spawn(p::run));
            return p;
        }

        private Void run() {
            while (true) {
                long t0 = System.nanoTime();
                Fibers.sleep(SLEEP);
                if (t0 - from >= 0 && n < late.length) {
                    late[n++] = System.nanoTime() - t0 - SLEEP.toNanos();
                }
            }
        }

        /** One line: how many sleeps, and their lateness p50, p99 and max. Any thread; asks the loop. */
        String report(EventLoop loop) throws Exception {
            CompletableFuture<long[]> copy = new CompletableFuture<>();
            loop.execute(() -> copy.complete(Arrays.copyOf(late, n)));
            long[] a = copy.get(2, TimeUnit.SECONDS);
            if (a.length == 0) {
                return "timer probe: no 1 ms sleep ended after the warm-up";
            }
            Arrays.sort(a);
            return String.format("timer probe: %d sleeps of 1 ms after the warm-up, late p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                    a.length, a[a.length / 2] / 1e6, a[(int) Math.min(a.length - 1, Math.round(a.length * 0.99))] / 1e6, a[a.length - 1] / 1e6);
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
