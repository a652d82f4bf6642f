package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Fibers.sleep on the loop's (virtual) clock, and yieldNow. */
@Timeout(20)
class TaskSleepTest {

    @Test
    void sleepsFinishInDeadlineOrderOnAnAutoAdvancingClock() throws Exception {
        VirtualClock clock = LoopClock.autoAdvancing();
        try (EventLoop loop = FiberLoops.builder().clock(clock).build()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                List<Task<Void>> tasks = new ArrayList<>();
                for (int h : new int[] {3, 1, 2}) {
                    tasks.add(Fibers.spawn(() -> {
                        Fibers.sleep(Duration.ofHours(h));
                        out.add(h + "h woke at " + Duration.ofNanos(loop.now()));
                        return null;
                    }));
                }
                Fibers.awaitAll(tasks);
                return out;
            });
            assertEquals(List.of("1h woke at PT1H", "2h woke at PT2H", "3h woke at PT3H"), order);
            assertEquals(Duration.ofHours(3).toNanos(), loop.now());
            assertEquals(Duration.ofHours(3).toNanos(), clock.nanoTime());
        }
    }

    @Test
    void sleepOnAManualVirtualClockWaitsForAdvance() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = FiberLoops.builder().clock(clock).build()) {
            List<String> events = new ArrayList<>();
            CompletableFuture<Void> started = new CompletableFuture<>();
            Task<Long> t = Fibers.spawn(loop, () -> {
                events.add("sleeping");
                loop.execute(() -> started.complete(null)); // runs once this fiber has parked in sleep
                Fibers.sleep(Duration.ofMinutes(10));
                events.add("woke");
                return loop.now();
            });
            started.get(10, TimeUnit.SECONDS);
            clock.advance(Duration.ofMinutes(9));
            // a round trip through the loop: the 9-minute advance fired nothing
            CompletableFuture<Boolean> doneAfter9 = new CompletableFuture<>();
            loop.execute(() -> doneAfter9.complete(t.isDone()));
            assertFalse(doneAfter9.get(10, TimeUnit.SECONDS));
            clock.advance(Duration.ofMinutes(1));
            assertEquals(Duration.ofMinutes(10).toNanos(), t.get(10, TimeUnit.SECONDS));
            assertEquals(List.of("sleeping", "woke"), List.copyOf(events));
        }
    }

    @Test
    void yieldNowLetsTheOtherReadyFibersRunOnce() throws Exception {
        try (EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<Void> a = Fibers.spawn(() -> {
                    for (int i = 0; i < 3; i++) {
                        out.add("a" + i);
                        Fibers.yieldNow();
                    }
                    return null;
                });
                Task<Void> b = Fibers.spawn(() -> {
                    for (int i = 0; i < 3; i++) {
                        out.add("b" + i);
                        Fibers.sleep(Duration.ZERO); // sleep(0) yields too
                    }
                    return null;
                });
                Fibers.awaitAll(List.of(a, b));
                return out;
            });
            assertEquals(List.of("a0", "b0", "a1", "b1", "a2", "b2"), order);
            assertEquals(0, loop.now());
        }
    }

    @Test
    void yieldNowInTheMainFiberLetsASpawnedTaskRun() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fibers.spawn(() -> out.add("task"));
                out.add("before yield");
                Fibers.yieldNow();
                out.add("after yield");
                return out;
            });
            assertEquals(List.of("before yield", "task", "after yield"), order);
        }
    }

    @Test
    void sleepInALoopCallbackThrows() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<Throwable> got = new CompletableFuture<>();
            loop.schedule(() -> {
                try {
                    Fibers.sleep(Duration.ofMillis(1));
                    got.complete(null);
                } catch (Throwable e) {
                    got.complete(e);
                }
            }, Duration.ZERO);
            Throwable e = got.get(10, TimeUnit.SECONDS);
            assertInstanceOf(IllegalStateException.class, e);
            assertTrue(e.getMessage().contains("sleep()"), e.getMessage());
        }
    }
}
