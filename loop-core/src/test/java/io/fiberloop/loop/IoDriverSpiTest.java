package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.await;
import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.spi.IoDriver;
import io.fiberloop.loop.spi.IoDriverFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The I/O-driver SPI: how the loop polls, wakes and closes its driver. */
@Timeout(10)
class IoDriverSpiTest {

    /** A driver that records every poll's timeout and blocks on a semaphore that wakeup() releases. */
    static class RecordingDriver implements IoDriver {
        final EventLoop owner;
        final BlockingQueue<Long> blockingPolls = new LinkedBlockingQueue<>();
        final List<Thread> pollThreads = new CopyOnWriteArrayList<>();
        final AtomicInteger polls = new AtomicInteger();
        final AtomicInteger wakeups = new AtomicInteger();
        final AtomicInteger closes = new AtomicInteger();
        private final Semaphore wake = new Semaphore(0);

        RecordingDriver(EventLoop owner) {
            this.owner = owner;
        }

        @Override
        public int poll(long timeoutNanos) {
            polls.incrementAndGet();
            if (pollThreads.isEmpty()) {
                pollThreads.add(Thread.currentThread());
            }
            if (timeoutNanos < 0) {
                throw new AssertionError("negative poll timeout " + timeoutNanos);
            }
            if (timeoutNanos > 0) {
                blockingPolls.add(timeoutNanos);
                try {
                    if (timeoutNanos == Long.MAX_VALUE) {
                        wake.acquire();
                    } else {
                        wake.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            wake.drainPermits();
            return 0;
        }

        @Override
        public void wakeup() {
            wakeups.incrementAndGet();
            wake.release();
        }

        @Override
        public void close() {
            closes.incrementAndGet();
        }

        /** Forgets the blocking polls so far. Call on the loop, where no poll is in progress. */
        Void forget() {
            assert owner.inLoop();
            blockingPolls.clear();
            return null;
        }

        /** The next blocking poll's timeout, waiting for it. */
        long nextBlockingPoll() throws InterruptedException {
            Long t = blockingPolls.poll(10, TimeUnit.SECONDS);
            if (t == null) {
                throw new AssertionError("the loop never blocked in poll");
            }
            return t;
        }
    }

    private static final class Factory implements IoDriverFactory {
        volatile RecordingDriver driver;
        final AtomicInteger created = new AtomicInteger();

        @Override
        public IoDriver create(EventLoop loop) {
            created.incrementAndGet();
            driver = new RecordingDriver(loop);
            return driver;
        }
    }

    @Test
    void theFactoryIsCalledOnceWithItsLoopAndTheDriverIsPolledOnTheCarrier() throws Exception {
        Factory f = new Factory();
        EventLoop loop = quiet("spi-basics").ioDriver(f).build();
        assertEquals(1, f.created.get());
        assertSame(loop, f.driver.owner);
        assertSame(f.driver, loop.ioDriver(), "the loop keeps its driver: a driver module finds it there");
        assertEquals(EventLoop.State.NEW, f.driver.owner.state());
        Thread carrier = onLoop(loop, Thread::currentThread);
        assertSame(carrier, f.driver.pollThreads.get(0), "poll runs on the loop's carrier");
        loop.close();
        assertEquals(1, f.driver.closes.get(), "the driver is closed once, as the loop closes");
        loop.close();
        assertEquals(1, f.driver.closes.get());
    }

    @Test
    void theLoopsWorkRunsInsideTheDriversRunWorkerOnTheCarrier() throws Exception {
        ThreadLocal<String> context = new ThreadLocal<>();
        AtomicInteger runners = new AtomicInteger();
        List<Thread> runnerThreads = new CopyOnWriteArrayList<>();
        IoDriverFactory f = l -> new RecordingDriver(l) {
            @Override
            public void runWorker(Runnable body) {
                runners.incrementAndGet();
                runnerThreads.add(Thread.currentThread());
                context.set("set by runWorker");
                try {
                    body.run();
                } finally {
                    context.remove();
                }
            }
        };
        EventLoop loop = quiet("spi-run-worker").ioDriver(f).build();
        try {
            assertEquals("set by runWorker", onLoop(loop, context::get), "loop tasks run inside runWorker's body");
            Thread carrier = onLoop(loop, Thread::currentThread);
            assertEquals(1, runners.get(), "one work runner on a loop without a fiber host");
            assertSame(carrier, runnerThreads.get(0), "runWorker is called on the runner's own thread");
        } finally {
            loop.close();
        }
        assertEquals(1, runners.get());
    }

    /**
     * A poll that throws (a driver's bug, or a timer refused to code inside the poll as the loop
     * closes) is reported, and the loop goes on: it used to end the loop's runner, after which
     * {@code close()} waited forever for work that nobody ran.
     */
    @Test
    void aPollThatThrowsIsReportedAndTheLoopRunsOnAndCloses() throws Exception {
        AtomicBoolean failNext = new AtomicBoolean();
        IoDriverFactory f = l -> new RecordingDriver(l) {
            @Override
            public int poll(long timeoutNanos) {
                if (failNext.getAndSet(false)) {
                    throw new IllegalStateException("the driver broke");
                }
                return super.poll(timeoutNanos);
            }
        };
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        List<Object> sources = new CopyOnWriteArrayList<>();
        EventLoop loop = quiet("spi-poll-throws").ioDriver(f).exceptionHandler((l, error, source) -> {
            reported.add(error);
            sources.add(source);
        }).build();
        onLoop(loop, () -> {
            failNext.set(true); // the poll of the next turn throws
            return null;
        });
        assertEquals("ran", onLoop(loop, () -> "ran"), "the loop runs tasks after the failed poll");
        CompletableFuture.runAsync(loop::close);
        loop.terminationFuture().get(5, TimeUnit.SECONDS); // before the fix: the carrier had died, and this timed out
        assertEquals(1, reported.size(), reported.toString());
        assertEquals("the driver broke", reported.get(0).getMessage());
        assertTrue(String.valueOf(sources.get(0)).contains("poll"), String.valueOf(sources.get(0)));
    }

    @Test
    void closingANewLoopClosesItsDriver() {
        Factory f = new Factory();
        EventLoop loop = quiet("spi-close-new").ioDriver(f).build();
        loop.close();
        assertEquals(1, f.driver.closes.get());
        assertEquals(0, f.driver.polls.get());
    }

    @Test
    void anIdleLoopWaitsUntilItsNextDeadline() throws Exception {
        Factory f = new Factory();
        try (EventLoop loop = quiet("spi-deadline").ioDriver(f).build()) {
            RecordingDriver d = f.driver;
            onLoop(loop, d::forget);
            assertEquals(Long.MAX_VALUE, d.nextBlockingPoll(), "with no timers, the loop waits for a wakeup");
            long delay = Duration.ofSeconds(8).toNanos();
            TimerHandle h = onLoop(loop, () -> {
                d.forget();
                return loop.schedule(() -> { }, Duration.ofSeconds(8));
            });
            long timeout = d.nextBlockingPoll();
            assertTrue(timeout > 0 && timeout != Long.MAX_VALUE, "poll timeout " + timeout);
            assertTrue(timeout <= delay, "polls past the deadline: " + timeout);
            assertTrue(timeout > delay / 2, "wakes far too early for an 8 s timer: " + timeout);
            // cancelling the only timer: back to an unbounded wait
            assertTrue(h.cancel());
            assertEquals(Long.MAX_VALUE, d.nextBlockingPoll());
            assertEquals(0, onLoop(loop, () -> loop.stats().pendingTimers()));
        }
    }

    @Test
    void aVirtualClockLoopWaitsUnboundedAndTheAdvanceWakesIt() throws Exception {
        Factory f = new Factory();
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("spi-virtual").clock(clock).ioDriver(f).build()) {
            RecordingDriver d = f.driver;
            CompletableFuture<Long> fired = new CompletableFuture<>();
            onLoop(loop, () -> {
                d.forget();
                return loop.schedule(() -> fired.complete(loop.now()), Duration.ofSeconds(3));
            });
            // a manual virtual clock does not move while the loop waits: no real-time timeout
            assertEquals(Long.MAX_VALUE, d.nextBlockingPoll());
            int before = d.wakeups.get();
            clock.advance(Duration.ofSeconds(3));
            assertEquals(Duration.ofSeconds(3).toNanos(), await(fired));
            assertTrue(d.wakeups.get() > before, "the advance woke the driver");
        }
    }

    @Test
    void aThresholdClockWaitsForTheThreshold() throws Exception {
        Factory f = new Factory();
        VirtualClock clock = VirtualClock.autoAdvancing(Duration.ofMinutes(5));
        try (EventLoop loop = quiet("spi-threshold").clock(clock).ioDriver(f).build()) {
            RecordingDriver d = f.driver;
            onLoop(loop, () -> {
                d.forget();
                return loop.schedule(() -> { }, Duration.ofHours(1));
            });
            assertEquals(Duration.ofMinutes(5).toNanos(), d.nextBlockingPoll());
        }
    }

    @Test
    void aSubmissionFromAnotherThreadWakesTheBlockedPoll() throws Exception {
        Factory f = new Factory();
        try (EventLoop loop = quiet("spi-wakeup").ioDriver(f).build()) {
            RecordingDriver d = f.driver;
            onLoop(loop, d::forget);
            assertEquals(Long.MAX_VALUE, d.nextBlockingPoll());
            // the loop is in (or entering) poll(MAX): only wakeup() can release it
            CompletableFuture<Boolean> ran = new CompletableFuture<>();
            loop.execute(() -> {
                d.forget();
                ran.complete(loop.inLoop());
            });
            assertTrue(await(ran));
            assertTrue(d.wakeups.get() >= 1, "wakeup() was not called");
            // and again for a timer scheduled from another thread
            assertEquals(Long.MAX_VALUE, d.nextBlockingPoll());
            CompletableFuture<Void> fired = new CompletableFuture<>();
            loop.schedule(() -> fired.complete(null), Duration.ZERO);
            await(fired);
            assertTrue(d.wakeups.get() >= 2);
        }
    }

    @Test
    void aFactoryReturningNullIsRejected() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> EventLoop.builder().ioDriver(loop -> null).build());
        assertTrue(e.getMessage().contains("IoDriverFactory"), e.getMessage());
    }
}
