package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.spi.IoDriverFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A loop task that blocks while its loop closes: the carrier hands the loop's work, closing
 * included, to a new work fiber. The blocked one, woken after the new one has finished closing,
 * must only leave; the loop closes once (its driver is closed once, as the SPI promises).
 */
@Timeout(20)
class CloseHandOverTest {

    /** The loop's parking driver, counting its closes. */
    private static IoDriverFactory countingCloses(AtomicInteger closes) {
        return loop -> new ForwardingDriver(loop) {
            @Override
            public void close() {
                closes.incrementAndGet();
                super.close();
            }
        };
    }

    @Test
    void aLoopTaskBlockedWhileTheLoopClosesLeavesWithoutClosingItAgain() throws Exception {
        AtomicInteger closes = new AtomicInteger();
        EventLoop loop = FiberLoops.builder().name("close-hand-over").ioDriver(countingCloses(closes)).build();
        Semaphore gate = new Semaphore(0);
        CompletableFuture<String> blocked = new CompletableFuture<>();
        CountDownLatch waiting = new CountDownLatch(1);
        Fibers.spawn(loop, () -> {
            try {
                waiting.countDown();
                return Fibers.await(new CompletableFuture<String>()); // until close() cancels it
            } finally {
                // a loop task submitted as the loop closes, which closing runs: it blocks its work fiber
                loop.execute(() -> {
                    gate.acquireUninterruptibly();
                    blocked.complete("ran to its end");
                });
                // a fiber that closing does not stop keeps the carrier busy until the new work
                // fiber has closed the driver, then lets the blocked task go
                Thread.ofVirtual().start(() -> {
                    while (closes.get() == 0) {
                        Thread.yield();
                    }
                    gate.release();
                });
            }
        });
        assertTrue(waiting.await(10, TimeUnit.SECONDS));
        loop.close();
        assertEquals("ran to its end", blocked.get(10, TimeUnit.SECONDS));
        assertEquals(EventLoop.State.CLOSED, loop.state());
        assertEquals(1, closes.get(), "the driver was closed more than once: the loop closed again");
    }
}
