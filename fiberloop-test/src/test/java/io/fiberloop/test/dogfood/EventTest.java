package io.fiberloop.test.dogfood;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.CancelledException;
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

/** Event: set wakes every waiter in order, clear, cancellation, timed waits. */
@Timeout(20)
@FiberLoopTest
class EventTest {

    @Test
    void setWakesEveryWaiterInTheOrderTheyStartedWaiting(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Event ready = Event.create();
        List<Task<Void>> tasks = new ArrayList<>();
        int[] arrivalDelay = {2, 3, 1}; // arrival order: w2, w0, w1
        for (int i = 0; i < 3; i++) {
            int n = i;
            tasks.add(Fibers.spawn(() -> {
                Fibers.sleep(Duration.ofSeconds(arrivalDelay[n]));
                ready.await();
                events.add("w" + n + " at " + t.now());
                return null;
            }));
        }
        Fibers.sleep(Duration.ofSeconds(5));
        assertEquals(3, ready.waiting());
        assertFalse(ready.isSet());
        ready.set();
        assertEquals(0, ready.waiting());
        Fibers.awaitAll(tasks);
        assertEquals(List.of("w2 at PT5S", "w0 at PT5S", "w1 at PT5S"), events);
    }

    @Test
    void waitersWokenBySetReturnEvenIfTheEventIsClearedBeforeTheyRun(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Event e = Event.create();
        Task<Void> w = Fibers.spawn(() -> {
            e.await();
            events.add("woken, set=" + e.isSet());
            return null;
        });
        Fibers.yieldNow();
        e.set();
        e.clear();
        w.join();
        events.add("later await: " + e.await(Duration.ofSeconds(1)) + " at " + t.now());
        assertEquals(List.of("woken, set=false", "later await: false at PT1S"), events);
    }

    @Test
    void awaitOnASetEventReturnsWithoutSuspending() throws Exception {
        List<String> events = new ArrayList<>();
        Event e = Event.create();
        e.set();
        Fibers.spawn(() -> events.add("other"));
        e.await();
        assertTrue(e.await(Duration.ofSeconds(1)));
        assertTrue(e.await(Duration.ZERO));
        events.add("main passed");
        Fibers.yieldNow();
        assertEquals(List.of("main passed", "other"), events);
    }

    @Test
    void aCancelledWaiterLeavesAndTheOthersAreStillWoken() throws Exception {
        List<String> events = new ArrayList<>();
        Event e = Event.create();
        Task<Void> a = Fibers.spawn(() -> {
            e.await();
            events.add("A woke?!");
            return null;
        });
        Task<Void> b = Fibers.spawn(() -> {
            e.await();
            events.add("B woke");
            return null;
        });
        Fibers.yieldNow();
        assertEquals(2, e.waiting());
        a.cancel();
        assertThrows(CancelledException.class, a::join);
        assertEquals(1, e.waiting());
        e.set();
        b.join();
        assertEquals(List.of("B woke"), events);
    }

    @Test
    void timedAwaitUsesTheVirtualClock(EventLoop loop, TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Event e = Event.create();
        events.add(e.await(Duration.ofSeconds(5)) + " at " + t.now());
        assertEquals(0, e.waiting());
        assertFalse(e.await(Duration.ZERO));
        loop.schedule(e::set, Duration.ofSeconds(3)); // set from a timer callback
        events.add(e.await(Duration.ofSeconds(60)) + " at " + t.now());
        assertEquals(List.of("false at PT5S", "true at PT8S"), events);
    }
}
