package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The carrier deadlock of architecture.md: a fiber holds a lock (or a monitor) and parks on the
 * loop's own timer, while loop callbacks (an execute task and a timer) need the same lock. If the
 * callbacks ran on the carrier itself, the carrier would block and the fiber that releases the lock
 * could never be resumed. Hosted loops run callbacks in a work fiber and hand the loop's work to a
 * fresh one when it blocks, so everything completes.
 */
@Timeout(10)
class DeadlockTest {

    /** Abstracts "acquire, run, release" over a ReentrantLock or a monitor. */
    private interface Guard {
        void guarded(Runnable r);
    }

    /** @return the order of events */
    private static List<String> runScenario(Guard guard) throws Exception {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean timerArrived = new AtomicBoolean();
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<String> callbackDone = new CompletableFuture<>();
            CompletableFuture<String> timerDone = new CompletableFuture<>();
            Task<String> holder = Fibers.spawn(loop, () -> {
                guard.guarded(() -> {
                    order.add("holder has the lock");
                    loop.execute(() -> {
                        order.add("callback wants the lock");
                        loop.schedule(() -> {
                            order.add("timer wants the lock");
                            timerArrived.set(true);
                            guard.guarded(() -> order.add("timer has the lock"));
                            timerDone.complete("timer on loop=" + (EventLoop.currentOrNull() == loop));
                        }, Duration.ofMillis(1));
                        guard.guarded(() -> order.add("callback has the lock"));
                        callbackDone.complete("callback on loop=" + (EventLoop.currentOrNull() == loop));
                    });
                    // park on the loop's own timer, holding the lock, until both callbacks wait for it
                    int naps = 0;
                    do {
                        Fibers.sleep(Duration.ofMillis(10));
                    } while (!timerArrived.get() && ++naps < 500);
                    order.add("holder releases");
                });
                return "holder done";
            });
            assertEquals("holder done", holder.get(8, TimeUnit.SECONDS));
            assertEquals("callback on loop=true", callbackDone.get(8, TimeUnit.SECONDS));
            assertEquals("timer on loop=true", timerDone.get(8, TimeUnit.SECONDS));
            // and the loop still works afterwards
            assertEquals("alive", Fibers.spawn(loop, () -> {
                Fibers.sleep(Duration.ofMillis(1));
                return "alive";
            }).get(8, TimeUnit.SECONDS));
        }
        assertEquals(List.of("holder has the lock", "callback wants the lock", "timer wants the lock", "holder releases"), order.subList(0, 4));
        return order;
    }

    @Test
    void reentrantLockHeldByAParkedFiberAndNeededByLoopCallbacks() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        List<String> order = runScenario(r -> {
            lock.lock();
            try {
                r.run();
            } finally {
                lock.unlock();
            }
        });
        // a ReentrantLock hands over to its waiters in FIFO order
        assertEquals(List.of("callback has the lock", "timer has the lock"), order.subList(4, 6));
    }

    @Test
    void monitorHeldByAParkedFiberAndNeededByLoopCallbacks() throws Exception {
        Object monitor = new Object();
        List<String> order = runScenario(r -> {
            synchronized (monitor) {
                r.run();
            }
        });
        // HotSpot does not promise FIFO entry to a monitor: both got it, after the holder released it
        assertEquals(Set.of("callback has the lock", "timer has the lock"), Set.copyOf(order.subList(4, 6)));
        assertEquals(6, order.size());
    }

    @Test
    void aLoopCallbackBlockedOnALockDoesNotStopTimersOrOtherFibers() throws Exception {
        ReentrantLock lock = new ReentrantLock();
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<Void> callbackDone = new CompletableFuture<>();
            lock.lock(); // held by the test thread: a platform thread, not a fiber
            try {
                loop.execute(() -> {
                    lock.lock();
                    lock.unlock();
                    callbackDone.complete(null);
                });
                // while that callback is blocked, the loop keeps serving timers and fibers
                Task<String> t = Fibers.spawn(loop, () -> {
                    Fibers.sleep(Duration.ofMillis(5));
                    Fibers.yieldNow();
                    return "fibers run";
                });
                assertEquals("fibers run", t.get(8, TimeUnit.SECONDS));
                CompletableFuture<String> timer = new CompletableFuture<>();
                loop.schedule(() -> timer.complete("timers fire"), Duration.ofMillis(1));
                assertEquals("timers fire", timer.get(8, TimeUnit.SECONDS));
                assertFalse(callbackDone.isDone());
            } finally {
                lock.unlock();
            }
            callbackDone.get(8, TimeUnit.SECONDS); // it completes once the lock is free
        }
    }
}
