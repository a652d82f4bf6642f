package io.fiberloop.test.dogfood;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
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

/** Lock: FIFO hand-over, no barging, cancellation safety, try and timed forms, owner checks. */
@Timeout(20)
@FiberLoopTest
class LockTest {

    @Test
    void waitersGetTheLockInArrivalOrderAndNobodyBargesIn(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        lock.lock();
        List<Task<Void>> tasks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int n = i;
            tasks.add(Fibers.spawn("w" + n, () -> {
                Fibers.sleep(Duration.ofSeconds(4 - n)); // arrive in the order w3, w2, w1, w0
                lock.lock();
                try {
                    events.add("w" + n + " got it at " + t.now());
                    Fibers.sleep(Duration.ofSeconds(1));
                } finally {
                    lock.unlock();
                }
                return null;
            }));
        }
        Fibers.sleep(Duration.ofSeconds(10));
        assertEquals(4, lock.waiting());
        lock.unlock();
        // handed straight to the oldest waiter, which has not run yet: no barging
        assertTrue(lock.isLocked());
        assertSame(tasks.get(3).fiber(), lock.owner());
        assertFalse(lock.tryLock());
        Fibers.awaitAll(tasks);
        assertFalse(lock.isLocked());
        assertEquals(0, lock.waiting());
        assertEquals(List.of("w3 got it at PT10S", "w2 got it at PT11S", "w1 got it at PT12S", "w0 got it at PT13S"), events);
    }

    @Test
    void aWaiterCancelledWhileWaitingLeavesTheQueueAndTheNextIsServed() throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        lock.lock();
        List<Task<Void>> tasks = new ArrayList<>();
        for (String name : List.of("A", "B", "C")) {
            tasks.add(Fibers.spawn(() -> {
                lock.lock();
                events.add(name);
                lock.unlock();
                return null;
            }));
        }
        Fibers.yieldNow(); // all three queue
        assertEquals(3, lock.waiting());
        tasks.get(1).cancel();
        assertThrows(CancelledException.class, tasks.get(1)::join);
        assertEquals(2, lock.waiting());
        lock.unlock();
        tasks.get(0).join();
        tasks.get(2).join();
        assertFalse(lock.isLocked());
        assertEquals(List.of("A", "C"), events);
    }

    @Test
    void aWaiterCancelledAfterTheLockWasHandedToItHandsItOn(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        lock.lock();
        Task<Void> a = Fibers.spawn(() -> {
            lock.lock();
            events.add("A got it");
            lock.unlock();
            return null;
        });
        Task<Void> b = Fibers.spawn(() -> {
            boolean got = lock.tryLock(Duration.ofHours(1)); // a lost lock shows as "false at PT1H"
            events.add("B got it=" + got + " at " + t.now() + ", owner=" + (lock.owner() == Fiber.current()));
            if (got) {
                lock.unlock();
            }
            return null;
        });
        Fibers.yieldNow();
        lock.unlock();
        assertSame(a.fiber(), lock.owner()); // granted to A, which has not resumed yet
        a.cancel();
        assertThrows(CancelledException.class, a::join);
        b.join();
        assertFalse(lock.isLocked());
        assertEquals(List.of("B got it=true at PT0S, owner=true"), events);
    }

    @Test
    void tryLockNeverSuspends(EventLoop loop) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        assertTrue(lock.tryLock());
        assertTrue(lock.isHeldByCurrentFiber());
        Task<Boolean> other = Fibers.spawn(() -> {
            events.add("other runs");
            boolean got = lock.tryLock(); // held by main: false, at once
            events.add("other tried");
            return got;
        });
        Task<Void> noise = Fibers.spawn(() -> {
            events.add("noise");
            return null;
        });
        assertFalse(other.join());
        noise.join();
        assertEquals(List.of("other runs", "other tried", "noise"), events); // nothing ran in between
        lock.unlock();
        Task<Boolean> third = Fibers.spawn(lock::tryLock);
        assertTrue(third.join());
        assertSame(third.fiber(), lock.owner()); // it ended holding it: the lock stays held
        assertFalse(lock.tryLock());
        assertEquals(0, loop.now());
    }

    @Test
    void timedTryLockGivesUpOnTheVirtualClockAndLeavesTheQueue(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        Task<Void> holder = Fibers.spawn(() -> {
            lock.lock();
            Fibers.sleep(Duration.ofSeconds(10));
            lock.unlock();
            return null;
        });
        Fibers.yieldNow();
        Task<Void> impatient = Fibers.spawn(() -> {
            events.add("impatient " + lock.tryLock(Duration.ofSeconds(3)) + " at " + t.now());
            return null;
        });
        Task<Void> patient = Fibers.spawn(() -> {
            events.add("patient " + lock.tryLock(Duration.ofSeconds(30)) + " at " + t.now());
            lock.unlock();
            return null;
        });
        Fibers.yieldNow();
        assertEquals(2, lock.waiting());
        impatient.join();
        assertEquals(1, lock.waiting()); // the timed-out waiter left the queue
        Fibers.awaitAll(List.of(holder, patient));
        assertFalse(lock.isLocked());
        assertTrue(lock.tryLock(Duration.ZERO)); // free: taken without a timer
        lock.unlock();
        assertEquals(List.of("impatient false at PT3S", "patient true at PT10S"), events);
    }

    @Test
    void misuseThrowsWithAMessageThatNamesTheOwner() throws Exception {
        Lock lock = Lock.create();
        IllegalStateException free = assertThrows(IllegalStateException.class, lock::unlock);
        assertTrue(free.getMessage().contains("not locked"), free.getMessage());

        Task<Void> holder = Fibers.spawn("the-holder", () -> {
            lock.lock();
            Fibers.sleep(Duration.ofSeconds(1));
            lock.unlock();
            return null;
        });
        Fibers.yieldNow();
        IllegalStateException notOwner = assertThrows(IllegalStateException.class, lock::unlock);
        assertTrue(notOwner.getMessage().contains("the-holder"), notOwner.getMessage());
        assertTrue(lock.isLocked()); // the failed unlock changed nothing
        holder.join();

        lock.lock();
        IllegalStateException reentrant = assertThrows(IllegalStateException.class, lock::lock);
        assertTrue(reentrant.getMessage().contains("not reentrant"), reentrant.getMessage());
        assertThrows(IllegalStateException.class, lock::tryLock);
        lock.unlock();
        assertFalse(lock.isLocked());
    }

    @Test
    void withLockUnlocksWhenTheBodyThrows() throws Exception {
        Lock lock = Lock.create();
        assertEquals(7, lock.withLock(() -> lock.isHeldByCurrentFiber() ? 7 : 0));
        assertThrows(IllegalArgumentException.class, () -> lock.withLock(() -> {
            throw new IllegalArgumentException("boom");
        }));
        assertFalse(lock.isLocked());
    }
}
