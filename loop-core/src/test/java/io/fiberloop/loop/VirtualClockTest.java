package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.await;
import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static io.fiberloop.loop.TestLoops.settle;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The virtual clock: manual advance, auto-advance, auto-advance with a threshold. */
@Timeout(10)
class VirtualClockTest {
    private static final long S = 1_000_000_000L;

    @Test
    void manualAdvanceFiresExactlyTheDueTimers() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("vclock-manual").clock(clock).build()) {
            assertSame(clock, loop.clock());
            List<String> seen = new ArrayList<>(); // loop-confined
            loop.schedule(() -> seen.add("10s@" + loop.now() / S), Duration.ofSeconds(10));
            loop.schedule(() -> seen.add("5s@" + loop.now() / S), Duration.ofSeconds(5));
            settle(loop);
            assertEquals(List.of(), onLoop(loop, () -> List.copyOf(seen)), "time does not move by itself");

            assertEquals(9 * S, clock.advance(Duration.ofSeconds(9)));
            settle(loop);
            assertEquals(List.of("5s@9"), onLoop(loop, () -> List.copyOf(seen)));
            assertEquals(1, onLoop(loop, () -> loop.stats().pendingTimers()));

            clock.advance(Duration.ofSeconds(1));
            settle(loop);
            assertEquals(List.of("5s@9", "10s@10"), onLoop(loop, () -> List.copyOf(seen)));
            assertEquals(10 * S, loop.now());
            assertEquals(10 * S, clock.nanoTime());
        }
    }

    @Test
    void advanceWakesALoopThatWaitsForATimer() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("vclock-wake").clock(clock).build()) {
            CompletableFuture<Long> fired = new CompletableFuture<>();
            loop.schedule(() -> fired.complete(loop.now()), Duration.ofMinutes(1));
            settle(loop); // the loop now waits, with nothing to do but the timer
            clock.advance(Duration.ofMinutes(2));
            assertEquals(120 * S, await(fired)); // no further submission: the advance alone woke it
        }
    }

    @Test
    void aClockCannotGoBack() {
        VirtualClock clock = LoopClock.virtual();
        assertThrows(IllegalArgumentException.class, () -> clock.advance(Duration.ofNanos(-1)));
        assertEquals(0, clock.nanoTime());
        assertFalse(clock.isAutoAdvancing());
        assertThrows(IllegalArgumentException.class, () -> VirtualClock.autoAdvancing(Duration.ofMillis(-1)));
    }

    @Test
    void autoAdvanceFiresAnHourTimerAndTheClockReadsOneHour() throws Exception {
        VirtualClock clock = LoopClock.autoAdvancing();
        assertTrue(clock.isAutoAdvancing());
        assertEquals(Duration.ZERO, clock.autoAdvanceThreshold());
        try (EventLoop loop = quiet("vclock-auto").clock(clock).build()) {
            CompletableFuture<Long> firedAt = new CompletableFuture<>();
            TimerHandle h = loop.schedule(() -> firedAt.complete(loop.now()), Duration.ofHours(1));
            assertEquals(3600 * S, await(firedAt));
            assertEquals(3600 * S, clock.nanoTime());
            assertTrue(h.hasFired());
        }
    }

    @Test
    void autoAdvanceJumpsToEachDeadlineInTurn() throws Exception {
        VirtualClock clock = LoopClock.autoAdvancing();
        try (EventLoop loop = quiet("vclock-auto-steps").clock(clock).build()) {
            List<Long> seen = new ArrayList<>();
            CompletableFuture<List<Long>> done = new CompletableFuture<>();
            loop.execute(() -> {
                loop.schedule(() -> seen.add(loop.now() / S), Duration.ofHours(3));
                loop.schedule(() -> seen.add(loop.now() / S), Duration.ofHours(1));
                loop.schedule(() -> {
                    seen.add(loop.now() / S);
                    // scheduled from a callback, relative to the jumped-to time
                    loop.schedule(() -> seen.add(loop.now() / S), Duration.ofSeconds(30));
                }, Duration.ofHours(2));
                loop.schedule(() -> done.complete(List.copyOf(seen)), Duration.ofHours(4));
            });
            assertEquals(List.of(3600L, 7200L, 7230L, 10800L), await(done));
        }
    }

    @Test
    void autoAdvanceWaitsWhileTasksAreReady() throws Exception {
        VirtualClock clock = LoopClock.autoAdvancing();
        try (EventLoop loop = quiet("vclock-auto-busy").clock(clock).build()) {
            List<String> seen = new ArrayList<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            loop.execute(() -> {
                loop.schedule(() -> {
                    seen.add("timer@" + loop.now() / S);
                    done.complete(List.copyOf(seen));
                }, Duration.ofSeconds(1));
                loop.execute(new Runnable() {
                    int i;

                    @Override
                    public void run() {
                        seen.add("task" + i + "@" + loop.now() / S);
                        if (++i < 5) {
                            loop.execute(this);
                        }
                    }
                });
            });
            assertEquals(List.of("task0@0", "task1@0", "task2@0", "task3@0", "task4@0", "timer@1"), await(done));
        }
    }

    @Test
    void autoAdvanceWithAThresholdFiresAnHourTimer() throws Exception {
        VirtualClock clock = VirtualClock.autoAdvancing(Duration.ofMillis(20));
        assertEquals(Duration.ofMillis(20), clock.autoAdvanceThreshold());
        try (EventLoop loop = quiet("vclock-threshold").clock(clock).build()) {
            CompletableFuture<Long> firedAt = new CompletableFuture<>();
            loop.schedule(() -> firedAt.complete(loop.now()), Duration.ofHours(1));
            assertEquals(3600 * S, await(firedAt));
            assertEquals(3600 * S, clock.nanoTime());
        }
    }

    @Test
    void autoAdvanceWithAThresholdDoesNotJumpWhenWorkArrivesFirst() throws Exception {
        // A threshold far longer than the test: the loop must not jump while it is still waiting.
        VirtualClock clock = VirtualClock.autoAdvancing(Duration.ofMinutes(10));
        try (EventLoop loop = quiet("vclock-threshold-work").clock(clock).build()) {
            TimerHandle h = loop.schedule(() -> { }, Duration.ofHours(1));
            settle(loop); // the loop now waits for the threshold
            assertEquals(0L, onLoop(loop, loop::now), "the clock jumped although work arrived");
            settle(loop);
            assertEquals(0L, clock.nanoTime());
            assertFalse(h.hasFired());
        }
    }
}
