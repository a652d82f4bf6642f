package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.IoEventLoop;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ThreadingTest {

    /** Netty handlers of a loop's channels and that loop's fibers run on the same carrier. */
    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void nettyHandlersAndFibersShareTheLoopsCarrier(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).name("same-carrier").build()) {
            IoEventLoop netty = NettyLoops.nettyLoop(loop);
            CompletableFuture<Object[]> seenInHandler = new CompletableFuture<>();
            Channel serverChannel = loop.run(() -> {
                assertSame(loop, EventLoop.currentOrNull(), "a fiber runs on its loop");
                ServerBootstrap b = new ServerBootstrap()
                        .group(netty, netty)
                        .channel(transport.serverChannelClass())
                        .childHandler(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                seenInHandler.complete(new Object[] {
                                    EventLoop.currentOrNull(), loop.inLoop(), ctx.executor().inEventLoop(), Thread.currentThread().isVirtual(),
                                    io.netty.util.concurrent.FastThreadLocalThread.currentThreadHasFastThreadLocal()});
                                ctx.close();
                            }
                        });
                io.netty.channel.ChannelFuture f = b.bind("127.0.0.1", 0);
                NettyFutures.await(f);
                return f.channel();
            });
            int port = ((java.net.InetSocketAddress) serverChannel.localAddress()).getPort();
            try (Socket s = new Socket("127.0.0.1", port)) {
                Object[] seen = seenInHandler.get(10, TimeUnit.SECONDS);
                assertSame(loop, seen[0], "the Netty handler runs on the loop's carrier");
                assertEquals(true, seen[1]);
                assertEquals(true, seen[2], "Netty sees its handler in its own event loop");
                assertEquals(true, seen[3], "the handler runs inside a virtual thread (the loop's work fiber), not on the bare carrier");
                assertEquals(true, seen[4], "the work fiber runs with Netty's fast thread-locals (NettyIoDriver.runWorker)");
                assertEquals(-1, s.getInputStream().read());
            }
            loop.run(() -> NettyFutures.await(serverChannel.close()));
        }
    }

    /**
     * When the loop's work fiber blocks inside a task, the loop hands its work to a new work fiber;
     * Netty's loop must follow it, or I/O stops.
     */
    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void ioGoesOnWhenTheWorkFiberBlocksInATask(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).name("handover").build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
            ReentrantLock lock = new ReentrantLock();
            String reply = loop.run(() -> {
                CompletableFuture<Void> locked = new CompletableFuture<>();
                CompletableFuture<Void> release = new CompletableFuture<>();
                Task<Void> holder = Fibers.spawn(() -> {
                    lock.lock();
                    try {
                        locked.complete(null);
                        Fibers.await(release);
                    } finally {
                        lock.unlock();
                    }
                    return null;
                });
                Fibers.await(locked);
                CompletableFuture<Void> taskRan = new CompletableFuture<>();
                loop.execute(() -> { // blocks the work fiber on a lock that a parked fiber holds
                    lock.lock();
                    lock.unlock();
                    taskRan.complete(null);
                });
                Fibers.yieldNow();
                Fibers.yieldNow();
                String r;
                try (Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5))) {
                    c.write("still serving\n");
                    r = c.readLine(100);
                }
                release.complete(null);
                Fibers.await(taskRan);
                holder.join();
                return r;
            });
            assertEquals("still serving", reply);
            assertTrue(NettyIoDriver.of(loop).ownerChanges >= 1, "Netty's loop should have moved to the new work fiber");
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                assertArrayEquals("after\n".getBytes(), Echo.roundTrip(s, "after\n".getBytes()));
            }
            server.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void theDriverBlocksOnlyWhenNoFiberIsReady(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            long[] counts = loop.run(() -> {
                NettyIoDriver d = NettyIoDriver.of(loop);
                // a fiber that keeps yielding is always ready: the loop polls, but never blocks
                long blockingBefore = d.blockingPolls;
                long pollsBefore = d.polls;
                for (int i = 0; i < 1000; i++) {
                    Fibers.yieldNow();
                }
                long blockingWhileBusy = d.blockingPolls - blockingBefore;
                long pollsWhileBusy = d.polls - pollsBefore;
                // a sleeping fiber leaves nothing ready: the loop blocks in the driver, and does not spin
                long blockingBeforeSleep = d.blockingPolls;
                long pollsBeforeSleep = d.polls;
                Fibers.sleep(Duration.ofMillis(50));
                return new long[] {blockingWhileBusy, pollsWhileBusy, d.blockingPolls - blockingBeforeSleep, d.polls - pollsBeforeSleep};
            });
            assertEquals(0, counts[0], "the driver blocked while a fiber was ready");
            assertTrue(counts[1] > 0, "the loop stopped polling I/O while a fiber kept yielding");
            assertTrue(counts[2] >= 1, "the idle loop never blocked in the driver");
            assertTrue(counts[3] <= 50, "the idle loop spun: " + counts[3] + " polls during one sleep");
        }
    }
}
