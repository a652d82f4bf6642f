package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.VirtualClock;
import io.netty.channel.IoEventLoop;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Netty-driven loop on a virtual clock: Netty's own timers and fiberloop's read timeouts follow
 * the loop's clock, and the loop closes promptly although nobody advances the clock any more.
 */
@ExtendWith(NoLeaks.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class VirtualClockTest {

    @Test
    void nettysScheduledTasksFollowTheLoopsClock() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = NettyLoops.builder().name("netty-virtual").clock(clock).build()) {
            IoEventLoop netty = NettyLoops.nettyLoop(loop);
            CompletableFuture<Long> fired = new CompletableFuture<>();
            CountDownLatch scheduled = new CountDownLatch(1);
            loop.execute(() -> {
                netty.schedule(() -> fired.complete(clock.nanoTime()), 1, TimeUnit.HOURS);
                scheduled.countDown();
            });
            assertTrue(scheduled.await(10, TimeUnit.SECONDS));
            // an hour ahead: only the loop's clock can bring it within the test's time; the loop
            // settles before and after each advance, and Netty's hour has not passed at 59 minutes
            settle(loop);
            clock.advance(Duration.ofMinutes(59));
            settle(loop);
            assertFalse(fired.isDone(), "Netty's task fired before its time on the loop's clock");
            clock.advance(Duration.ofMinutes(1));
            assertEquals(Duration.ofHours(1).toNanos(), fired.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aReadTimeoutFiresWhenTheClockPassesIt() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        CompletableFuture<Throwable> handlerSaw = new CompletableFuture<>();
        CountDownLatch reading = new CountDownLatch(1);
        try (EventLoop loop = NettyLoops.builder().name("read-timeout-virtual").clock(clock).build()) {
            TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, TcpOptions.defaults().withReadTimeout(Duration.ofMinutes(5)),
                    conn -> {
                        reading.countDown();
                        try {
                            conn.read();
                            handlerSaw.complete(null);
                        } catch (Throwable t) {
                            handlerSaw.complete(t);
                        }
                    });
            try (Socket idle = new Socket("127.0.0.1", server.port())) {
                assertTrue(reading.await(10, TimeUnit.SECONDS));
                settle(loop);
                assertFalse(handlerSaw.isDone(), "the read timed out before the clock moved");
                clock.advance(Duration.ofMinutes(5));
                Throwable t = assertInstanceOf(SocketTimeoutException.class, handlerSaw.get(10, TimeUnit.SECONDS));
                assertTrue(t.getMessage().contains("read timed out after 300000 ms"), t.getMessage());
            }
            server.close();
        }
    }

    @Test
    void aLoopOnAFrozenVirtualClockClosesPromptly() throws Exception {
        // Netty's graceful shutdown waits on its ticker; on a clock nobody advances it used to wait
        // 100 ms at a time, 10,000 times. The @Timeout (separate thread) catches a regression.
        VirtualClock clock = LoopClock.virtual();
        EventLoop loop = NettyLoops.builder().name("frozen-close").clock(clock).build();
        TcpServer server = TcpServer.bind(loop, "127.0.0.1", 0, Echo.HANDLER);
        loop.run(() -> {
            try (Connection c = Tcp.connect("127.0.0.1", server.port(), Duration.ofSeconds(5))) {
                c.write("ping");
                assertEquals("ping", new String(c.readExactly(4), StandardCharsets.US_ASCII));
            }
            Fibers.yieldNow();
            return null;
        });
        server.close();
        loop.close();
        assertEquals(EventLoop.State.CLOSED, loop.state());
    }

    /** Returns once the loop has run a turn that began after this call. */
    private static void settle(EventLoop loop) throws Exception {
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.execute(() -> loop.execute(() -> f.complete(null)));
        f.get(10, TimeUnit.SECONDS);
    }
}
