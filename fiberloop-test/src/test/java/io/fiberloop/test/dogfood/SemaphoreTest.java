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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Semaphore and BoundedSemaphore: FIFO hand-over, cancellation safety, try and timed forms, over-release. */
@Timeout(20)
@FiberLoopTest
class SemaphoreTest {

    @Test
    void permitsGoToWaitersInArrivalOrderAndNobodyBargesIn(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Semaphore sem = Semaphore.create(2);
        sem.acquire();
        sem.acquire();
        List<Task<Void>> tasks = new ArrayList<>();
        int[] arrivalDelay = {3, 1, 4, 2}; // arrival order: w1, w3, w0, w2
        for (int i = 0; i < 4; i++) {
            int n = i;
            tasks.add(Fibers.spawn(() -> {
                Fibers.sleep(Duration.ofSeconds(arrivalDelay[n]));
                sem.withPermit(() -> {
                    events.add("w" + n + " at " + t.now());
                    Fibers.sleep(Duration.ofSeconds(10));
                    return null;
                });
                return null;
            }));
        }
        Fibers.sleep(Duration.ofSeconds(5));
        assertEquals(4, sem.waiting());
        sem.release();
        // the permit went straight to the oldest waiter: none to take
        assertEquals(0, sem.availablePermits());
        assertFalse(sem.tryAcquire());
        sem.release();
        Fibers.awaitAll(tasks);
        assertEquals(2, sem.availablePermits());
        assertEquals(List.of("w1 at PT5S", "w3 at PT5S", "w0 at PT15S", "w2 at PT15S"), events);
    }

    @Test
    void aWaiterCancelledWhileWaitingTakesNoPermit() throws Exception {
        List<String> events = new ArrayList<>();
        Semaphore sem = Semaphore.create(0);
        List<Task<Void>> tasks = new ArrayList<>();
        for (String name : List.of("A", "B", "C")) {
            tasks.add(Fibers.spawn(() -> {
                sem.acquire();
                events.add(name);
                return null;
            }));
        }
        Fibers.yieldNow();
        tasks.get(1).cancel();
        assertThrows(CancelledException.class, tasks.get(1)::join);
        assertEquals(2, sem.waiting());
        sem.release();
        sem.release();
        tasks.get(0).join();
        tasks.get(2).join();
        assertEquals(0, sem.availablePermits());
        sem.release();
        assertEquals(1, sem.availablePermits());
        assertEquals(List.of("A", "C"), events);
    }

    @Test
    void aWaiterCancelledAfterAPermitWasHandedToItPassesItOn(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Semaphore sem = Semaphore.create(0);
        Task<Void> a = Fibers.spawn(() -> {
            sem.acquire();
            events.add("A");
            return null;
        });
        Task<Void> b = Fibers.spawn(() -> {
            events.add("B " + sem.tryAcquire(Duration.ofHours(1)) + " at " + t.now()); // a lost permit: "false at PT1H"
            return null;
        });
        Fibers.yieldNow();
        sem.release();           // handed to A, which has not resumed
        a.cancel();
        assertThrows(CancelledException.class, a::join);
        b.join();                // B got A's permit
        assertEquals(0, sem.availablePermits());
        assertEquals(0, sem.waiting());
        assertEquals(List.of("B true at PT0S"), events);
    }

    @Test
    void aReleaseFromALoopCallbackWakesAWaiter(EventLoop loop, TestLoop t) throws Exception {
        Semaphore sem = Semaphore.create(0);
        loop.schedule(sem::release, Duration.ofSeconds(2)); // a timer callback
        sem.acquire();
        String got = "acquired at " + t.now();
        assertEquals("acquired at PT2S", got);
    }

    @Test
    void tryAcquireNeverSuspendsAndTheTimedFormUsesTheVirtualClock(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Semaphore sem = Semaphore.create(1);
        assertTrue(sem.tryAcquire());
        assertFalse(sem.tryAcquire());
        assertFalse(sem.tryAcquire(Duration.ZERO));
        events.add("timed " + sem.tryAcquire(Duration.ofSeconds(5)) + " at " + t.now());
        assertEquals(0, sem.waiting()); // the timed-out waiter left the queue
        Fibers.spawn(() -> {
            Fibers.sleep(Duration.ofSeconds(2));
            sem.release();
            return null;
        });
        events.add("timed " + sem.tryAcquire(Duration.ofSeconds(30)) + " at " + t.now());
        // a permit released after a timeout goes to the count, not to the departed waiter
        sem.release();
        assertEquals(1, sem.availablePermits());
        assertEquals(List.of("timed false at PT5S", "timed true at PT7S"), events);
    }

    @Test
    void aCancelledFiberCannotAcquireEvenAFreePermit() throws Exception {
        Semaphore sem = Semaphore.create(1);
        CompletableFuture<Void> never = new CompletableFuture<>();
        Task<String> t = Fibers.spawn(() -> {
            try {
                Fibers.await(never);
            } catch (CancelledException swallowed) {
                // keeps going: cancellation is level-triggered
            }
            sem.acquire();
            return "acquired?!";
        });
        Fibers.yieldNow();
        t.cancel();
        assertThrows(CancelledException.class, t::join);
        assertEquals(1, sem.availablePermits());
    }

    @Test
    void boundedSemaphoreRefusesOverRelease() throws Exception {
        BoundedSemaphore sem = BoundedSemaphore.create(2);
        assertEquals(2, sem.maxPermits());
        IllegalStateException over = assertThrows(IllegalStateException.class, sem::release);
        assertTrue(over.getMessage().contains("released more often than acquired"), over.getMessage());
        assertEquals(2, sem.availablePermits());
        sem.acquire();
        sem.acquire();
        sem.release();
        sem.release();
        assertThrows(IllegalStateException.class, sem::release);
        assertEquals(2, sem.availablePermits());
    }

    @Test
    void boundedSemaphoreHandsOnAPermitOfACancelledWaiterWithoutExceedingItsBound(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        BoundedSemaphore sem = BoundedSemaphore.create(1);
        sem.acquire();
        Task<Void> a = Fibers.spawn(() -> {
            sem.acquire();
            events.add("A");
            return null;
        });
        Task<Void> b = Fibers.spawn(() -> {
            events.add("B " + sem.tryAcquire(Duration.ofSeconds(1)) + " at " + t.now());
            sem.release();
            return null;
        });
        Fibers.yieldNow();
        sem.release(); // to A
        a.cancel();
        assertThrows(CancelledException.class, a::join);
        b.join();
        assertEquals(1, sem.availablePermits());
        assertThrows(IllegalStateException.class, sem::release);
        assertEquals(List.of("B true at PT0S"), events);
    }
}
