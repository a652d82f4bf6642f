package io.fiberloop.fiber.sync;

import static io.fiberloop.fiber.LoopFixture.virtualLoop;
import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** The primitives belong to one loop: other loops, plain threads and loop callbacks are refused with a helpful message. */
@Timeout(20)
class SyncMisuseTest {

    /** One operation of each primitive that suspends, and one that does not. */
    private static Map<String, Executable> operations() {
        Lock lock = Lock.create();
        Semaphore sem = Semaphore.create(1);
        BoundedSemaphore bounded = BoundedSemaphore.create(1);
        Event event = Event.create();
        Condition cond = Condition.create();
        Barrier barrier = Barrier.create(2);
        CapacityLimiter limiter = CapacityLimiter.create(1);
        Map<String, Executable> ops = new LinkedHashMap<>();
        ops.put("Lock.lock()", lock::lock);
        ops.put("Lock.tryLock()", lock::tryLock);
        ops.put("Lock.unlock()", lock::unlock);
        ops.put("Semaphore.acquire()", sem::acquire);
        ops.put("Semaphore.release()", sem::release);
        ops.put("BoundedSemaphore.tryAcquire()", bounded::tryAcquire);
        ops.put("Event.await()", event::await);
        ops.put("Event.set()", event::set);
        ops.put("Condition.signal()", cond::signal);
        ops.put("Condition.await()", cond::await);
        ops.put("Barrier.await()", barrier::await);
        ops.put("Barrier.tryAwait()", barrier::tryAwait);
        ops.put("CapacityLimiter.acquire()", limiter::acquire);
        ops.put("CapacityLimiter.tryAcquireOnBehalfOf()", () -> limiter.tryAcquireOnBehalfOf("x"));
        return ops;
    }

    @Test
    void aPrimitiveCreatedOnOneLoopRefusesTheFibersOfAnother() throws Exception {
        try (EventLoop a = virtualLoop("loop-a"); EventLoop b = virtualLoop("loop-b")) {
            Map<String, Executable> ops = a.run(SyncMisuseTest::operations);
            b.run(() -> {
                for (Map.Entry<String, Executable> op : ops.entrySet()) {
                    IllegalStateException e = assertThrows(IllegalStateException.class, op.getValue(), op.getKey());
                    String m = e.getMessage();
                    assertTrue(m.startsWith(op.getKey()) && m.contains("loop 'loop-b'") && m.contains("loop 'loop-a'")
                            && m.contains("channel"), m);
                }
                return null;
            });
        }
    }

    @Test
    void aPlainThreadIsRefusedWithAMessageAboutChannels() throws Exception {
        try (EventLoop a = virtualLoop("loop-a")) {
            Map<String, Executable> bound = a.run(SyncMisuseTest::operations);
            for (Map<String, Executable> ops : java.util.List.of(bound, operations())) { // bound, and never used
                for (Map.Entry<String, Executable> op : ops.entrySet()) {
                    IllegalStateException e = assertThrows(IllegalStateException.class, op.getValue(), op.getKey());
                    String m = e.getMessage();
                    assertTrue(m.startsWith(op.getKey()) && m.contains("not on an event loop") && m.contains("channel"), m);
                }
            }
        }
    }

    @Test
    void aPrimitiveCreatedOffAnyLoopBindsToTheLoopOfItsFirstUse() throws Exception {
        Lock lock = Lock.create(); // on the test thread: not bound yet
        Event event = Event.create();
        assertThrows(IllegalStateException.class, lock::tryLock); // a refused call does not bind it
        try (EventLoop a = virtualLoop("loop-a"); EventLoop b = virtualLoop("loop-b")) {
            b.run(() -> {
                assertTrue(lock.tryLock()); // first use: binds to loop-b
                lock.unlock();
                event.set();
                return null;
            });
            a.run(() -> {
                IllegalStateException e = assertThrows(IllegalStateException.class, lock::lock);
                assertTrue(e.getMessage().contains("belongs to loop 'loop-b'"), e.getMessage());
                assertThrows(IllegalStateException.class, event::isSet);
                return null;
            });
            assertTrue(b.run(event::isSet));
        }
    }

    @Test
    void loopCallbacksMayReleaseAndSignalButNeverWait() throws Exception {
        try (EventLoop loop = virtualLoop("loop-a")) {
            String result = loop.run(() -> {
                Lock lock = Lock.create();
                Semaphore sem = Semaphore.create(0);
                Event event = Event.create();
                CompletableFuture<Throwable> fromCallback = new CompletableFuture<>();
                loop.schedule(() -> {
                    try {
                        lock.lock();
                        fromCallback.complete(null);
                    } catch (Throwable t) {
                        fromCallback.complete(t);
                    }
                }, Duration.ZERO);
                Throwable t = Fibers.await(fromCallback);
                assertInstanceOf(IllegalStateException.class, t);
                assertTrue(t.getMessage().contains("loop callback") && t.getMessage().contains("tryLock()"), t.getMessage());
                CompletableFuture<Throwable> tryLockFromCallback = new CompletableFuture<>();
                loop.execute(() -> {
                    try {
                        lock.tryLock(); // a callback cannot own a lock
                        tryLockFromCallback.complete(null);
                    } catch (Throwable e) {
                        tryLockFromCallback.complete(e);
                    }
                });
                assertInstanceOf(IllegalStateException.class, Fibers.await(tryLockFromCallback));
                loop.schedule(() -> {
                    sem.release();
                    event.set();
                }, Duration.ofSeconds(1));
                sem.acquire();
                event.await();
                return "woken by a callback at " + Duration.ofNanos(loop.now());
            });
            assertEquals("woken by a callback at PT1S", result);
        }
    }

    @Test
    void aVirtualThreadStartedInAFiberMayUseThePrimitivesOfItsLoop() throws Exception {
        try (EventLoop loop = virtualLoop("loop-a")) {
            String result = loop.run(() -> {
                Lock lock = Lock.create();
                lock.lock();
                CompletableFuture<String> got = new CompletableFuture<>();
                Thread t = Thread.ofVirtual().start(() -> { // inherits the loop: an implicit fiber
                    lock.lock();
                    got.complete("virtual thread got the lock");
                    lock.unlock();
                });
                Fibers.yieldNow();
                assertEquals(1, lock.waiting());
                lock.unlock();
                String r = Fibers.await(got);
                assertTrue(t.join(Duration.ofSeconds(5)));
                return r;
            });
            assertEquals("virtual thread got the lock", result);
        }
    }
}
