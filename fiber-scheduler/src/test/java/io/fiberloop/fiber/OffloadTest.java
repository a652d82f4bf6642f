package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.context.FiberLocal;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/** Offload: results and failures, where the work runs, cancellation, the pool's bound, context. */
@Timeout(20)
class OffloadTest {

    @Test
    void returnsTheValueAndRethrowsFailures() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                assertEquals(42, Offload.call(() -> 6 * 7));
                assertNull(Offload.call(() -> null));

                IllegalArgumentException unchecked = new IllegalArgumentException("bad input");
                assertSame(unchecked, assertThrows(IllegalArgumentException.class, () -> Offload.call(() -> {
                    throw unchecked;
                })));
                AssertionError error = new AssertionError("an error");
                assertSame(error, assertThrows(AssertionError.class, () -> Offload.call(() -> {
                    throw error;
                })));
                IOException checked = new IOException("disk");
                CompletionException wrapped = assertThrows(CompletionException.class, () -> Offload.call(() -> {
                    throw checked;
                }));
                assertSame(checked, wrapped.getCause());

                // the same through a given executor
                ExecutorService own = Executors.newSingleThreadExecutor();
                try {
                    assertEquals("own", Offload.call(own, () -> "own"));
                    assertSame(checked, assertThrows(CompletionException.class, () -> Offload.call(own, () -> {
                        throw checked;
                    })).getCause());
                } finally {
                    own.shutdownNow();
                }
                return null;
            });
        }
    }

    @Test
    void runsOnAPlatformWorkerWhileTheLoopKeepsRunning() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch workStarted = new CountDownLatch(1);
            CountDownLatch otherRan = new CountDownLatch(1);
            Thread worker = loop.run(() -> {
                Task<Void> other = Fibers.spawn(() -> {
                    workStarted.await(); // suspends this fiber only
                    events.add("other fiber runs while main waits");
                    otherRan.countDown();
                    return null;
                });
                events.add("main offloads");
                Thread w = Offload.call(() -> {
                    Thread t = Thread.currentThread();
                    events.add("work on " + t.getName().replaceAll("\\d+$", "N") + ", virtual=" + t.isVirtual() + ", on a loop=" + (EventLoop.currentOrNull() != null));
                    workStarted.countDown();
                    assertTrue(otherRan.await(10, TimeUnit.SECONDS));
                    events.add("work done");
                    return t;
                });
                events.add("main resumes");
                other.join();
                return w;
            });
            assertEquals(List.of(
                    "main offloads",
                    "work on fiberloop-offload-N, virtual=false, on a loop=false",
                    "other fiber runs while main waits",
                    "work done",
                    "main resumes"), events);
            assertFalse(worker.isVirtual());
            assertTrue(worker.isDaemon());
        }
    }

    @Test
    void cancellingTheFiberInterruptsTheWorker() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);
            AtomicReference<Throwable> seenByFiber = new AtomicReference<>();
            Task<String> task = Fibers.spawn(loop, () -> {
                try {
                    return Offload.call(() -> {
                        started.countDown();
                        try {
                            new CountDownLatch(1).await();
                            return "never";
                        } catch (InterruptedException e) {
                            interrupted.countDown();
                            throw e;
                        }
                    });
                } catch (Throwable e) {
                    seenByFiber.set(e);
                    throw e;
                }
            });
            assertTrue(started.await(10, TimeUnit.SECONDS));
            assertTrue(task.cancel());
            assertThrows(CancelledException.class, task::join);
            assertTrue(task.isCancelled());
            assertInstanceOf(CancelledException.class, seenByFiber.get());
            assertTrue(interrupted.await(10, TimeUnit.SECONDS), "the worker was not interrupted");
        }
    }

    @Test
    void anExpiredDeadlineInterruptsTheWorker() throws Exception {
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build()) {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch interrupted = new CountDownLatch(1);
            loop.run(() -> {
                // keeps the loop busy (so the virtual clock cannot jump) until the work has started
                Fibers.spawn(() -> {
                    while (started.getCount() > 0) {
                        Fibers.yieldNow();
                    }
                    return null;
                });
                assertThrows(FiberTimeoutException.class, () -> Fibers.withTimeout(Duration.ofSeconds(30), () -> Offload.call(() -> {
                    started.countDown();
                    try {
                        new CountDownLatch(1).await();
                        return "never";
                    } catch (InterruptedException e) {
                        interrupted.countDown();
                        throw e;
                    }
                })));
                return null;
            });
            assertTrue(interrupted.await(10, TimeUnit.SECONDS), "the worker was not interrupted");
        }
    }

    @Test
    void theDefaultPoolIsBounded() throws Exception {
        int before = Offload.poolSize();
        Offload.pool(2);
        try (EventLoop loop = FiberLoops.newLoop()) {
            assertEquals(2, Offload.poolSize());
            List<String> events = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger running = new AtomicInteger();
            AtomicInteger maxRunning = new AtomicInteger();
            Semaphore release = new Semaphore(0);
            CountDownLatch twoStarted = new CountDownLatch(2);
            CountDownLatch allStarted = new CountDownLatch(3);
            List<Task<String>> tasks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                tasks.add(Fibers.spawn(loop, () -> Offload.call(() -> {
                    maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                    events.add("start");
                    twoStarted.countDown();
                    allStarted.countDown();
                    release.acquire();
                    running.decrementAndGet();
                    events.add("end");
                    return Thread.currentThread().getName();
                })));
            }
            assertTrue(twoStarted.await(10, TimeUnit.SECONDS));
            assertEquals(2, running.get());
            // the one bounded wait here checks that something does NOT happen: a third thread must not start
            assertFalse(allStarted.await(100, TimeUnit.MILLISECONDS), "the third task started while two threads were busy");
            release.release(); // one finishes; only now may the third start
            assertTrue(allStarted.await(10, TimeUnit.SECONDS));
            release.release(2);
            for (Task<String> t : tasks) {
                assertTrue(t.join().startsWith("fiberloop-offload-"));
            }
            assertEquals(List.of("start", "start", "end", "start", "end", "end"), events);
            assertEquals(2, maxRunning.get());
        } finally {
            Offload.pool(before);
        }
        assertThrows(IllegalArgumentException.class, () -> Offload.pool(0));
    }

    @Test
    void theCallersMdcAndFiberLocalsAreInstalledInTheWorker() throws Exception {
        FiberLocal<String> user = FiberLocal.create();
        ExecutorService one = Executors.newSingleThreadExecutor();
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                MDC.put("request", "r-42");
                user.set("alice");
                try {
                    assertEquals("r-42 alice", Offload.call(() -> MDC.get("request") + " " + user.get()));
                    assertEquals("r-42 alice", Offload.call(one, () -> MDC.get("request") + " " + user.get()));
                    // what the work changes stays in the work
                    Offload.call(one, () -> {
                        MDC.put("request", "changed");
                        MDC.put("extra", "x");
                        user.set("bob");
                        return null;
                    });
                    assertEquals("r-42", MDC.get("request"));
                    assertNull(MDC.get("extra"));
                    assertEquals("alice", user.get());
                } finally {
                    MDC.clear();
                    user.remove();
                }
                // and the worker gets its own (empty) context back: nothing leaks into the next work
                assertEquals("null null null", Offload.call(one, () -> MDC.get("request") + " " + MDC.get("extra") + " " + user.get()));
                return null;
            });
        } finally {
            one.shutdownNow();
        }
    }

    @Test
    void onPlainThreads() throws Exception {
        // a platform thread may block: the work simply runs on it
        Thread me = Thread.currentThread();
        assertSame(me, Offload.call(Thread::currentThread));
        IOException checked = new IOException("x");
        assertSame(checked, assertThrows(CompletionException.class, () -> Offload.call(() -> {
            throw checked;
        })).getCause());

        // with an executor, it runs there and the thread blocks for it
        ExecutorService own = Executors.newSingleThreadExecutor(r -> new Thread(r, "own-worker"));
        try {
            assertEquals("own-worker", Offload.call(own, () -> Thread.currentThread().getName()));
        } finally {
            own.shutdownNow();
        }

        // a virtual thread that is not a fiber hands the work to the pool, so that it cannot pin the JDK's scheduler
        AtomicReference<String> ranOn = new AtomicReference<>();
        Thread vt = Thread.ofVirtual().start(() -> ranOn.set(Offload.call(() -> Thread.currentThread().getName())));
        vt.join();
        assertTrue(ranOn.get().startsWith("fiberloop-offload-"), ranOn.get());
    }

    @Test
    void aLoopCallbackMayNotWait() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            loop.execute(() -> {
                try {
                    Offload.call(() -> "no");
                } catch (Throwable e) {
                    failure.set(e);
                } finally {
                    done.countDown();
                }
            });
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, failure.get());
            assertTrue(failure.get().getMessage().contains("Offload.call()"), failure.get().getMessage());
        }
    }
}
