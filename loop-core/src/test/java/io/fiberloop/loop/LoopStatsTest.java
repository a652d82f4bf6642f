package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static io.fiberloop.loop.TestLoops.settle;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Exact counters after a known workload. */
@Timeout(10)
class LoopStatsTest {

    @Test
    void countersAreExactAfterAKnownWorkload() throws Exception {
        try (EventLoop loop = quiet("stats").build()) {
            LoopStats fresh = loop.stats();
            assertEquals(0, fresh.tasksRun());
            assertEquals(0, fresh.timersFired());
            assertEquals(0, fresh.continuationsRun());
            int tasks = 500;
            int timers = 70;
            CountDownLatch all = new CountDownLatch(tasks + timers);
            for (int i = 0; i < tasks; i++) {
                loop.execute(all::countDown);
            }
            for (int i = 0; i < timers; i++) {
                loop.schedule(all::countDown, Duration.ofMillis(i % 7));
            }
            all.await();
            // read on the loop: counts everything that ran before this task
            LoopStats s = onLoop(loop, loop::stats);
            assertEquals(tasks + timers, s.tasksRun(), "tasksRun counts tasks and timer callbacks");
            assertEquals(timers, s.timersFired());
            assertEquals(0, s.continuationsRun(), "a loop without fibers runs no continuations");
            assertEquals(0, s.pendingTimers());
            assertEquals(0, s.queueDepth());
            assertFalse(s.maxLag().isNegative());
            assertFalse(s.meanLag().isNegative());
            assertTrue(s.maxLag().compareTo(s.meanLag()) >= 0);
            assertFalse(s.longestTask().isNegative());
            assertFalse(s.meanTask().isNegative());
            assertEquals(0, s.stalls());
            // the snapshot task itself is counted afterwards
            assertEquals(tasks + timers + 1, onLoop(loop, loop::stats).tasksRun());
        }
    }

    @Test
    void longestTaskIsTimedForTheFirstTaskAndThenOneInSixtyFour() throws Exception {
        try (EventLoop loop = quiet("stats-longest").build()) {
            long spin = Duration.ofMillis(5).toNanos();
            CountDownLatch done = new CountDownLatch(1);
            loop.execute(() -> {                       // task #0 is always sampled
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < spin) {
                    Thread.onSpinWait();
                }
                done.countDown();
            });
            done.await();
            LoopStats s = onLoop(loop, loop::stats);
            assertTrue(s.longestTask().toNanos() >= spin, "the sampled first task spun 5 ms: " + s.longestTask());
            assertTrue(s.meanTask().toNanos() > 0);
        }
    }

    @Test
    void queueDepthAndPendingTimersOnTheLoop() throws Exception {
        try (EventLoop loop = quiet("stats-depth").build()) {
            LoopStats s = onLoop(loop, () -> {
                for (int i = 0; i < 5; i++) {
                    loop.execute(() -> { });
                }
                for (int i = 0; i < 3; i++) {
                    loop.schedule(() -> { }, Duration.ofHours(1));
                }
                return loop.stats();
            });
            assertEquals(5, s.queueDepth());
            assertEquals(3, s.pendingTimers());
        }
    }

    @Test
    void lagIsHowLateTimersFiredOnTheLoopsClock() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("stats-lag").clock(clock).build()) {
            loop.schedule(() -> { }, Duration.ofSeconds(5));
            loop.schedule(() -> { }, Duration.ofSeconds(9));
            settle(loop);
            clock.advance(Duration.ofSeconds(9)); // both fire at 9 s: 4 s and 0 s late
            settle(loop);
            LoopStats s = onLoop(loop, loop::stats);
            assertEquals(2, s.timersFired());
            assertEquals(Duration.ofSeconds(4), s.maxLag());
            assertEquals(Duration.ofSeconds(2), s.meanLag());
        }
    }

    @Test
    void statsFromAnotherThreadCatchUp() throws Exception {
        try (EventLoop loop = quiet("stats-foreign").build()) {
            CountDownLatch ran = new CountDownLatch(100);
            for (int i = 0; i < 100; i++) {
                loop.execute(ran::countDown);
            }
            ran.await();
            settle(loop);
            // settle's two tasks have run too; the racy snapshot may miss at most the last one
            long seen = loop.stats().tasksRun();
            assertTrue(seen >= 101 && seen <= 102, "tasksRun from another thread: " + seen);
        }
    }
}
