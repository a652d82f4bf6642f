package io.fiberloop.test.dogfood;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.FiberTimeoutException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.sync.*;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.test.FiberLoopTest;
import io.fiberloop.test.TestLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Barrier: arrival indices, generations, the action, breaking by cancellation and timeout, reset, tryAwait. */
@Timeout(20)
@FiberLoopTest
class BarrierTest {

    @Test
    void awaitReturnsArrivalIndicesAndTheBarrierServesSuccessiveGenerations(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        int[] generation = {0};
        Barrier barrier = Barrier.create(3, () -> events.add("action " + ++generation[0] + " at " + t.now()));
        // round 1 arrival order: B, C, A; round 2: A, C, B
        int[][] delays = {{3, 1}, {1, 5}, {2, 3}};
        String[] names = {"A", "B", "C"};
        List<Task<Void>> tasks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int n = i;
            tasks.add(Fibers.spawn(() -> {
                for (int round = 0; round < 2; round++) {
                    Fibers.sleep(Duration.ofSeconds(delays[n][round]));
                    int index = barrier.await();
                    events.add(names[n] + " round " + round + " index " + index + " at " + t.now());
                }
                return null;
            }));
        }
        Fibers.awaitAll(tasks);
        assertFalse(barrier.isBroken());
        assertEquals(0, barrier.waiting());
        assertEquals(List.of(
                "action 1 at PT3S",
                "A round 0 index 2 at PT3S", "B round 0 index 0 at PT3S", "C round 0 index 1 at PT3S",
                "action 2 at PT8S",
                "B round 1 index 2 at PT8S", "A round 1 index 0 at PT8S", "C round 1 index 1 at PT8S"), events);
    }

    @Test
    void aCancelledWaiterBreaksTheBarrierUntilReset(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Barrier barrier = Barrier.create(3);
        Task<Integer> a = Fibers.spawn(barrier::await);
        Task<Void> b = Fibers.spawn(() -> {
            try {
                barrier.await(Duration.ofHours(1)); // an unbroken barrier would time out at PT1H
                events.add("B passed?!");
            } catch (BarrierBrokenException e) {
                events.add("B broken at " + t.now() + ": " + e.getMessage());
            }
            return null;
        });
        Fibers.yieldNow();
        assertEquals(2, barrier.waiting());
        a.cancel();
        assertThrows(CancelledException.class, a::join);
        b.join();
        assertTrue(barrier.isBroken());
        assertThrows(BarrierBrokenException.class, barrier::await);
        assertThrows(BarrierBrokenException.class, barrier::tryAwait);
        barrier.reset();
        assertFalse(barrier.isBroken());
        Task<Integer> x = Fibers.spawn(barrier::await);
        Task<Integer> y = Fibers.spawn(barrier::await);
        Fibers.yieldNow();
        events.add("after reset: main index " + barrier.await() + ", x " + x.join() + ", y " + y.join());
        assertEquals(2, events.size(), events::toString);
        assertTrue(events.get(0).startsWith("B broken at PT0S: the barrier is broken (") && events.get(0).contains("cancelled"), events.get(0));
        assertEquals("after reset: main index 2, x 0, y 1", events.get(1));
    }

    @Test
    void aWaiterCancelledAfterItsGenerationCompletedBreaksNothing() throws Exception {
        Barrier barrier = Barrier.create(2);
        Task<Integer> a = Fibers.spawn(barrier::await);
        Fibers.yieldNow();
        assertEquals(1, barrier.await()); // completes the generation: A is released
        a.cancel();                        // before A resumes
        assertThrows(CancelledException.class, a::join);
        assertFalse(barrier.isBroken());
        Task<Integer> b = Fibers.spawn(barrier::await);
        Fibers.yieldNow();
        assertEquals(1, barrier.await());
        assertEquals(0, b.join());
    }

    @Test
    void aTimedAwaitThatExpiresBreaksTheBarrier(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Barrier barrier = Barrier.create(3);
        Task<Void> patient = Fibers.spawn(() -> {
            try {
                barrier.await(Duration.ofHours(1));
            } catch (BarrierBrokenException e) {
                events.add("patient broken at " + t.now());
            }
            return null;
        });
        Fibers.yieldNow();
        FiberTimeoutException te = assertThrows(FiberTimeoutException.class, () -> barrier.await(Duration.ofSeconds(4)));
        events.add("timed out after " + te.timeout() + " at " + t.now());
        patient.join();
        assertTrue(barrier.isBroken());
        barrier.reset();
        // a timed await that completes the generation returns its index
        Task<Integer> other = Fibers.spawn(() -> barrier.await(Duration.ofSeconds(10)));
        Task<Integer> third = Fibers.spawn(barrier::await);
        Fibers.yieldNow();
        events.add("index " + barrier.await(Duration.ofSeconds(1)) + ", " + other.join() + ", " + third.join());
        assertEquals(List.of("timed out after PT4S at PT4S", "patient broken at PT4S", "index 2, 0, 1"), events);
    }

    @Test
    void tryAwaitArrivesOnlyWhenItCompletesTheGeneration() throws Exception {
        Barrier barrier = Barrier.create(2);
        assertEquals(-1, barrier.tryAwait());
        assertEquals(0, barrier.waiting()); // did not arrive
        Task<Integer> a = Fibers.spawn(barrier::await);
        Fibers.yieldNow();
        assertEquals(1, barrier.waiting());
        assertEquals(1, barrier.tryAwait());
        assertEquals(0, a.join());
        assertEquals(0, barrier.waiting());
    }

    @Test
    void resetBreaksTheCurrentWaitersAndAFailingActionBreaksTheBarrier() throws Exception {
        Barrier barrier = Barrier.create(3);
        Task<Integer> a = Fibers.spawn(barrier::await);
        Fibers.yieldNow();
        barrier.reset();
        BarrierBrokenException e = assertThrows(BarrierBrokenException.class, a::join);
        assertTrue(e.getMessage().contains("reset()"), e.getMessage());
        assertFalse(barrier.isBroken());

        Barrier failing = Barrier.create(2, () -> {
            throw new IllegalStateException("action failed");
        });
        Task<Integer> w = Fibers.spawn(failing::await);
        Fibers.yieldNow();
        IllegalStateException ise = assertThrows(IllegalStateException.class, failing::await);
        assertEquals("action failed", ise.getMessage());
        assertThrows(BarrierBrokenException.class, w::join);
        assertTrue(failing.isBroken());
        failing.abort();
        assertTrue(failing.isBroken());
    }
}
