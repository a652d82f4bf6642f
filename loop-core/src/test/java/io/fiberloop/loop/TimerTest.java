package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.await;
import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static io.fiberloop.loop.TestLoops.settle;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Timers: order, cancellation, past deadlines, scheduling from other threads. */
@Timeout(10)
class TimerTest {

    @Test
    void timersFireInDeadlineOrderAndEqualDeadlinesInSchedulingOrder() throws Exception {
        VirtualClock clock = LoopClock.autoAdvancing();
        try (EventLoop loop = quiet("timer-order").clock(clock).build()) {
            List<String> seen = new ArrayList<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            loop.execute(() -> {
                loop.schedule(() -> seen.add("30ms@" + loop.now()), Duration.ofMillis(30));
                loop.schedule(() -> seen.add("10ms@" + loop.now()), Duration.ofMillis(10));
                loop.schedule(() -> seen.add("a@" + loop.now()), Duration.ofMillis(15));
                loop.schedule(() -> seen.add("20ms@" + loop.now()), Duration.ofMillis(20));
                loop.schedule(() -> seen.add("b@" + loop.now()), Duration.ofMillis(15));
                loop.schedule(() -> seen.add("c@" + loop.now()), Duration.ofMillis(15));
                loop.schedule(() -> done.complete(List.copyOf(seen)), Duration.ofMillis(31));
            });
            assertEquals(List.of("10ms@10000000", "a@15000000", "b@15000000", "c@15000000",
                    "20ms@20000000", "30ms@30000000"), await(done));
        }
    }

    @Test
    void wakeUpsAreTimersInTheSameDeadlineOrder() throws Exception {
        VirtualClock clock = LoopClock.autoAdvancing();
        try (EventLoop loop = quiet("wake-order").clock(clock).build()) {
            List<String> seen = new ArrayList<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            loop.execute(() -> {
                loop.schedule(() -> seen.add("plain@" + loop.now()), Duration.ofMillis(20));
                loop.scheduleWake(() -> seen.add("wake@" + loop.now()), Duration.ofMillis(10));
                loop.scheduleWakeAt(() -> seen.add("wakeAt@" + loop.now()), loop.now() + Duration.ofMillis(20).toNanos());
                TimerHandle cancelled = loop.scheduleWake(() -> seen.add("cancelled"), Duration.ofMillis(25));
                assertTrue(cancelled.cancel());
                loop.schedule(() -> done.complete(List.copyOf(seen)), Duration.ofMillis(30));
            });
            assertEquals(List.of("wake@10000000", "plain@20000000", "wakeAt@20000000"), await(done));
        }
    }

    @Test
    void timersOnTheSystemClockFireInDeadlineOrder() throws Exception {
        try (EventLoop loop = quiet("timer-order-system").build()) {
            List<String> seen = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch fired = new CountDownLatch(4);
            long base = loop.now();
            loop.scheduleAt(() -> { seen.add("50"); fired.countDown(); }, base + 50_000_000);
            loop.scheduleAt(() -> { seen.add("10"); fired.countDown(); }, base + 10_000_000);
            loop.scheduleAt(() -> { seen.add("30"); fired.countDown(); }, base + 30_000_000);
            loop.scheduleAt(() -> { seen.add("30 again"); fired.countDown(); }, base + 30_000_000);
            fired.await();
            assertEquals(List.of("10", "30", "30 again", "50"), seen);
        }
    }

    @Test
    void equalDeadlinesFromAnotherThreadAndFromTheLoopFireInSchedulingOrder() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("timer-equal").clock(clock).build()) {
            List<String> seen = new ArrayList<>();
            long d = Duration.ofSeconds(1).toNanos();
            loop.scheduleAt(() -> seen.add("a (foreign)"), d);
            loop.scheduleAt(() -> seen.add("b (foreign)"), d);
            onLoop(loop, () -> loop.scheduleAt(() -> seen.add("c (loop)"), d));
            loop.scheduleAt(() -> seen.add("d (foreign)"), d);
            clock.advance(Duration.ofSeconds(1));
            settle(loop);
            assertEquals(List.of("a (foreign)", "b (foreign)", "c (loop)", "d (foreign)"), onLoop(loop, () -> List.copyOf(seen)));
        }
    }

    @Test
    void timersScheduledFromManyThreadsAllFireOnceAndKeepPerThreadOrder() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        int threads = 4;
        int perThread = 2000;
        try (EventLoop loop = quiet("timer-threads").clock(clock).build()) {
            List<int[]> seen = new ArrayList<>(); // {thread, index, deadline ms}; loop-confined
            AtomicInteger badDeadlines = new AtomicInteger();
            Thread[] ts = new Thread[threads];
            CountDownLatch start = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                int tid = t;
                ts[t] = Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    for (int i = 0; i < perThread; i++) {
                        int n = i;
                        int ms = 1 + i % 10; // none due before the advance
                        TimerHandle h = loop.schedule(() -> seen.add(new int[] {tid, n, ms}), Duration.ofMillis(ms));
                        if (h.deadlineNanos() != Duration.ofMillis(ms).toNanos()) {
                            badDeadlines.incrementAndGet();
                        }
                    }
                });
            }
            start.countDown();
            for (Thread t : ts) {
                t.join();
            }
            assertEquals(0, badDeadlines.get(), "deadlineNanos() is not now + delay");
            clock.advance(Duration.ofMillis(10));
            settle(loop);
            List<int[]> all = onLoop(loop, () -> List.copyOf(seen));
            assertEquals(threads * perThread, all.size());
            // Deadlines never go back; within one deadline, one thread's timers fire in its order.
            int[][] lastIndex = new int[threads][11];
            for (int[] row : lastIndex) {
                java.util.Arrays.fill(row, -1);
            }
            int lastMs = 0;
            for (int[] e : all) {
                assertTrue(e[2] >= lastMs, "deadline order broken");
                lastMs = e[2];
                assertTrue(e[1] > lastIndex[e[0]][e[2]], "scheduling order broken for thread " + e[0]);
                lastIndex[e[0]][e[2]] = e[1];
            }
            assertEquals(0, onLoop(loop, () -> loop.stats().pendingTimers()));
        }
    }

    @Test
    void cancelBeforeFiringFromAnotherThread() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("timer-cancel").clock(clock).build()) {
            AtomicInteger cancelledRuns = new AtomicInteger();
            AtomicInteger keptRuns = new AtomicInteger();
            // scheduled on the loop, cancelled from this (another) thread
            TimerHandle h = onLoop(loop, () -> loop.schedule(cancelledRuns::incrementAndGet, Duration.ofSeconds(1)));
            TimerHandle kept = loop.schedule(keptRuns::incrementAndGet, Duration.ofSeconds(1));
            assertFalse(h.isCancelled());
            assertFalse(h.hasFired());
            assertTrue(h.cancel(), "the first cancel() cancels");
            assertFalse(h.cancel(), "the second cancel() finds it already cancelled");
            assertTrue(h.isCancelled());
            assertFalse(h.hasFired());
            settle(loop);
            assertEquals(1, onLoop(loop, () -> loop.stats().pendingTimers()), "the cancelled timer was not removed");
            clock.advance(Duration.ofSeconds(2));
            settle(loop);
            assertEquals(0, cancelledRuns.get());
            assertEquals(1, keptRuns.get());
            assertTrue(kept.hasFired());
            assertTrue(h.isCancelled());
            assertFalse(h.hasFired());
        }
    }

    @Test
    void cancelOnTheLoopRemovesTheTimerAtOnce() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("timer-cancel-loop").clock(clock).build()) {
            AtomicInteger runs = new AtomicInteger();
            int pending = onLoop(loop, () -> {
                TimerHandle h = loop.schedule(runs::incrementAndGet, Duration.ofSeconds(1));
                assertTrue(h.cancel());
                assertFalse(h.cancel());
                assertTrue(h.isCancelled());
                return loop.stats().pendingTimers();
            });
            assertEquals(0, pending);
            clock.advance(Duration.ofSeconds(1));
            settle(loop);
            assertEquals(0, runs.get());
        }
    }

    @Test
    void cancelOfATimerScheduledFromAnotherThreadBeforeTheLoopSawIt() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("timer-cancel-early").clock(clock).build()) {
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch gate = new CountDownLatch(1);
            loop.execute(() -> {
                try {
                    gate.await(); // the loop is busy: it cannot take the timer in yet
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            TimerHandle h = loop.schedule(runs::incrementAndGet, Duration.ofSeconds(1));
            assertTrue(h.cancel());
            gate.countDown();
            clock.advance(Duration.ofSeconds(5));
            settle(loop);
            assertEquals(0, runs.get());
            assertEquals(0, onLoop(loop, () -> loop.stats().pendingTimers()));
        }
    }

    @Test
    void aTimerCancelledByAnotherTimerWithTheSameDeadlineDoesNotFire() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("timer-cancel-sibling").clock(clock).build()) {
            List<String> seen = new ArrayList<>();
            AtomicReference<TimerHandle> second = new AtomicReference<>();
            AtomicReference<Boolean> cancelResult = new AtomicReference<>();
            onLoop(loop, () -> {
                loop.schedule(() -> {
                    seen.add("first");
                    cancelResult.set(second.get().cancel());
                }, Duration.ofSeconds(1));
                second.set(loop.schedule(() -> seen.add("second"), Duration.ofSeconds(1)));
                loop.schedule(() -> seen.add("third"), Duration.ofSeconds(1));
                return null;
            });
            clock.advance(Duration.ofSeconds(1));
            settle(loop);
            assertEquals(List.of("first", "third"), onLoop(loop, () -> List.copyOf(seen)));
            assertTrue(cancelResult.get());
        }
    }

    @Test
    void cancelAfterFiringReturnsFalse() throws Exception {
        try (EventLoop loop = quiet("timer-fired").build()) {
            CountDownLatch fired = new CountDownLatch(1);
            TimerHandle h = loop.schedule(fired::countDown, Duration.ZERO);
            fired.await();
            settle(loop);
            assertTrue(h.hasFired());
            assertFalse(h.cancel());
            assertFalse(h.isCancelled());
            assertTrue(h.hasFired());
        }
    }

    @Test
    void hasFiredIsTrueWhileTheCallbackRuns() throws Exception {
        try (EventLoop loop = quiet("timer-running").build()) {
            AtomicReference<TimerHandle> self = new AtomicReference<>();
            CompletableFuture<Boolean> firedInside = new CompletableFuture<>();
            CompletableFuture<Boolean> cancelInside = new CompletableFuture<>();
            CountDownLatch scheduled = new CountDownLatch(1);
            loop.execute(() -> {
                self.set(loop.schedule(() -> {
                    firedInside.complete(self.get().hasFired());
                    cancelInside.complete(self.get().cancel());
                }, Duration.ZERO));
                scheduled.countDown();
            });
            scheduled.await();
            assertTrue(await(firedInside), "hasFired() is true once the callback has started");
            assertFalse(await(cancelInside), "a timer whose callback started cannot be cancelled");
        }
    }

    @Test
    void pastDeadlinesAndNegativeDelaysFireSoon() throws Exception {
        try (EventLoop loop = quiet("timer-past").build()) {
            CountDownLatch fired = new CountDownLatch(3);
            TimerHandle past = loop.scheduleAt(fired::countDown, loop.now() - Duration.ofHours(1).toNanos());
            TimerHandle negative = loop.schedule(fired::countDown, Duration.ofSeconds(-5));
            onLoop(loop, () -> loop.scheduleAt(fired::countDown, Long.MIN_VALUE));
            fired.await();
            assertTrue(past.hasFired());
            assertTrue(negative.hasFired());
        }
    }

    @Test
    void aZeroDelayTimerThatReschedulesItselfDoesNotStarveTasks() throws Exception {
        // on a clock that stands still, the rescheduled timer is due at once, every time
        try (EventLoop loop = quiet("timer-starve").clock(LoopClock.virtual()).build()) {
            CompletableFuture<Integer> taskRanAfter = new CompletableFuture<>();
            AtomicInteger ticks = new AtomicInteger();
            loop.execute(() -> {
                loop.schedule(new Runnable() {
                    @Override
                    public void run() {
                        ticks.incrementAndGet();
                        if (!taskRanAfter.isDone()) {
                            loop.schedule(this, Duration.ZERO);
                        }
                    }
                }, Duration.ZERO);
                loop.execute(() -> taskRanAfter.complete(ticks.get()));
            });
            assertTrue(await(taskRanAfter) <= 2, "the task waited behind a timer that kept rescheduling itself");
        }
    }

    @Test
    void anEnormousDelayDoesNotOverflowIntoThePast() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("timer-huge").clock(clock).build()) {
            clock.advance(Duration.ofSeconds(1));
            AtomicInteger runs = new AtomicInteger();
            TimerHandle h = loop.schedule(runs::incrementAndGet, Duration.ofSeconds(Long.MAX_VALUE));
            TimerHandle h2 = loop.schedule(runs::incrementAndGet, Duration.ofNanos(Long.MAX_VALUE));
            assertEquals(Long.MAX_VALUE, h.deadlineNanos());
            assertEquals(Long.MAX_VALUE, h2.deadlineNanos());
            clock.advance(Duration.ofDays(365));
            settle(loop);
            assertEquals(0, runs.get());
            assertFalse(h.hasFired());
        }
    }

    @Test
    void scheduleRejectsNulls() {
        try (EventLoop loop = quiet("timer-null").build()) {
            assertThrows(NullPointerException.class, () -> loop.schedule(null, Duration.ZERO));
            assertThrows(NullPointerException.class, () -> loop.schedule(() -> { }, null));
            assertThrows(NullPointerException.class, () -> loop.scheduleAt(null, 0));
        }
    }
}
