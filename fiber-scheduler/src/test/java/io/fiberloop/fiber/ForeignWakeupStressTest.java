package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lost-wakeup race on a fiber host, where a foreign wakeup must reach the carrier (asleep with
 * no continuation to run) and the work fiber (asleep in the driver): another thread submits a
 * task, completes the future a fiber awaits, or unparks a fiber, just as the loop goes to sleep,
 * round after round. A wakeup lost even once leaves the loop asleep and the bounded wait fails.
 */
class ForeignWakeupStressTest {
    /** How long each test keeps starting rounds. */
    private static final Duration BUDGET = Duration.ofMillis(2000);
    /** The bound on the wait for the rounds to end: far more than any round needs. */
    private static final long LIMIT_SECONDS = 10;
    /** At most this many spin-waits before a wakeup, to sweep it across the loop's way to sleep. */
    private static final int JITTER = 256;

    /** Spins until {@code done}, yielding after a while (two cores, perhaps busy: let the loop run). */
    private static void spinUntil(BooleanSupplier done) {
        for (int spins = 0; !done.getAsBoolean(); spins++) {
            if (spins < 10_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    private static void jitter() {
        for (int i = ThreadLocalRandom.current().nextInt(JITTER); i > 0; i--) {
            Thread.onSpinWait();
        }
    }

    /** One fiber and one other thread in lockstep: the fiber waits, the thread wakes it. */
    private abstract static class Lockstep {
        final EventLoop loop;
        final long deadline = System.nanoTime() + BUDGET.toNanos();
        final AtomicLong woken = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile boolean stop;
        /** The round the fiber is in (for the failure message). */
        volatile int round;

        Lockstep(EventLoop loop) {
            this.loop = loop;
        }

        /** In the fiber: waits for round {@code r}'s wakeup. */
        abstract void await(int r);

        /** In the other thread: waits until the fiber waits (or {@link #stop}), then wakes it; false: stop. */
        abstract boolean wake(int r);

        void play() throws Exception {
            Thread waker = Thread.ofPlatform().daemon().name(loop.name() + "-waker").start(() -> {
                try {
                    for (int r = 1; wake(r); r++) {
                        woken.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            Task<Integer> fiber = Fibers.spawn(loop, "waiter", () -> {
                int r = 0;
                while (System.nanoTime() - deadline < 0) {
                    round = ++r;
                    await(r);
                }
                stop = true;
                return r;
            });
            int rounds;
            try {
                rounds = fiber.get(LIMIT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                stop = true;
                fail("round " + round + " did not end within " + LIMIT_SECONDS + " s after " + woken.get()
                        + " wakeups: a lost wakeup (or the waker failed: " + failure.get() + ")");
                return;
            }
            assertTrue(waker.join(Duration.ofSeconds(LIMIT_SECONDS)), "the waker did not end");
            assertNull(failure.get(), "the waker failed");
            assertEquals(rounds, woken.get(), "one wakeup per round");
            assertTrue(rounds > 10, "only " + rounds + " rounds in " + BUDGET);
        }
    }

    @Test
    @Timeout(60)
    void aFiberAwaitsAFutureThatAnotherThreadCompletesAsTheLoopGoesToSleep() throws Exception {
        EventLoop loop = FiberLoops.builder().name("wakeup-await").watchdog(null).build();
        try (AutoCloseable c = closing(loop)) {
            AtomicReference<CompletableFuture<Integer>> slot = new AtomicReference<>();
            new Lockstep(loop) {
                @Override
                void await(int r) {
                    CompletableFuture<Integer> f = new CompletableFuture<>();
                    slot.set(f); // the completer is off while this fiber heads for its park
                    assertEquals(r, Fibers.await(f));
                }

                @Override
                boolean wake(int r) {
                    spinUntil(() -> slot.get() != null || stop);
                    CompletableFuture<Integer> f = slot.getAndSet(null);
                    if (f == null) {
                        return false;
                    }
                    jitter();
                    f.complete(r);
                    return true;
                }
            }.play();
        }
    }

    @Test
    @Timeout(60)
    void aFiberParksAndAnotherThreadUnparksItAsTheLoopGoesToSleep() throws Exception {
        EventLoop loop = FiberLoops.builder().name("wakeup-unpark").watchdog(null).build();
        try (AutoCloseable c = closing(loop)) {
            new Lockstep(loop) {
                volatile Thread fiberThread;
                volatile int wanted;
                volatile int given;

                @Override
                void await(int r) {
                    fiberThread = Thread.currentThread();
                    wanted = r;
                    while (given < r) {
                        LockSupport.park(this);
                    }
                }

                @Override
                boolean wake(int r) {
                    spinUntil(() -> wanted >= r || stop);
                    if (wanted < r) {
                        return false;
                    }
                    jitter();
                    given = r;
                    LockSupport.unpark(fiberThread);
                    return true;
                }
            }.play();
        }
    }

    @Test
    @Timeout(60)
    void tasksFromOtherThreadsWakeAHostedLoopAsItGoesToSleep() throws Exception {
        EventLoop loop = FiberLoops.builder().name("wakeup-execute").watchdog(null).build();
        try (AutoCloseable c = closing(loop)) {
            // on a fiber host the poll runs in the work fiber: the wakeup unparks it, which must wake the carrier
            int[] ran = new int[1]; // loop-confined
            new Lockstep(loop) {
                final AtomicReference<Runnable> pending = new AtomicReference<>();

                @Override
                void await(int r) {
                    CompletableFuture<Void> f = new CompletableFuture<>();
                    // waits for the task from the other thread by the loop's own means: a task completes f
                    pending.set(() -> {
                        ran[0]++;
                        f.complete(null);
                    });
                    Fibers.await(f);
                    assertEquals(r, ran[0]);
                }

                @Override
                boolean wake(int r) {
                    spinUntil(() -> pending.get() != null || stop);
                    Runnable task = pending.getAndSet(null);
                    if (task == null) {
                        return false;
                    }
                    jitter();
                    loop.execute(task);
                    return true;
                }
            }.play();
        }
    }

    /**
     * Closes {@code loop} with a bounded wait: a loop that lost a wakeup may not wake for its close
     * either, and the round's failure must still be reported (close's own failure is added to it).
     */
    private static AutoCloseable closing(EventLoop loop) {
        return () -> {
            Thread closer = Thread.ofPlatform().daemon().name(loop.name() + "-closer").start(loop::close);
            if (!closer.join(Duration.ofSeconds(LIMIT_SECONDS))) {
                throw new AssertionError("loop '" + loop.name() + "' did not close within " + LIMIT_SECONDS + " s");
            }
        };
    }
}
