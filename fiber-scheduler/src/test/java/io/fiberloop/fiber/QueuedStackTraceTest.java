package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.sync.Event;
import io.fiberloop.loop.EventLoop;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Another thread takes the stack trace of a fiber that is ready to run and waits in its loop's
 * queue, as the loop's watchdog does when it reports a stall. The JDK then submits the fiber's
 * virtual thread a second time; that second submission may run the fiber later, and the fiber
 * must still know itself there.
 */
@Timeout(20)
class QueuedStackTraceTest {

    @Test
    void aFiberWhoseStackWasTakenWhileQueuedStaysItself() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String seen = loop.run(() -> {
                Event woken = Event.create();
                CompletableFuture<Thread> thread = new CompletableFuture<>();
                Task<String> fiber = Fibers.spawn(() -> {
                    Fiber me = Fiber.current();
                    thread.complete(Thread.currentThread());
                    woken.await();
                    // queued again, now behind the JDK's second submission, which runs it
                    Fibers.yieldNow();
                    Fiber now = Fiber.current();
                    return now == me ? "itself" : "another fiber: " + now;
                });
                Fibers.yieldNow(); // the fiber runs up to its wait
                Thread t = Fibers.await(thread);
                woken.set(); // ready, queued behind this task
                CountDownLatch traced = new CountDownLatch(1);
                Thread.ofPlatform().start(() -> {
                    t.getStackTrace();
                    traced.countDown();
                });
                // hold the carrier, so that the fiber stays queued while its stack is taken
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (traced.getCount() > 0 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertEquals(0, traced.getCount(), "the stack trace was not taken within 10 s");
                return fiber.join();
            });
            assertEquals("itself", seen);
        }
    }
}
