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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Condition: FIFO signals, re-acquiring the lock, cancellation (lock first, signal handed on), timed waits. */
@Timeout(20)
@FiberLoopTest
class ConditionTest {

    @Test
    void signalWakesTheLongestWaiterFirst(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        Condition cond = lock.newCondition();
        List<Task<Void>> tasks = new ArrayList<>();
        int[] arrivalDelay = {3, 1, 2}; // arrival order: w1, w2, w0
        for (int i = 0; i < 3; i++) {
            int n = i;
            tasks.add(Fibers.spawn(() -> {
                Fibers.sleep(Duration.ofSeconds(arrivalDelay[n]));
                lock.withLock(() -> {
                    cond.await();
                    events.add("w" + n + " at " + t.now() + " holding=" + lock.isHeldByCurrentFiber());
                    return null;
                });
                return null;
            }));
        }
        Fibers.sleep(Duration.ofSeconds(5));
        for (int i = 0; i < 3; i++) {
            lock.withLock(() -> {
                assertEquals(3, cond.waiting() + events.size());
                cond.signal();
                return null;
            });
            Fibers.sleep(Duration.ofSeconds(1));
        }
        Fibers.awaitAll(tasks);
        assertEquals(List.of("w1 at PT5S holding=true", "w2 at PT6S holding=true", "w0 at PT7S holding=true"), events);
    }

    @Test
    void signalAllWakesEveryoneAndTheyRetakeTheLockOneAfterTheOther(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        Condition cond = Condition.create(lock);
        List<Task<Void>> tasks = new ArrayList<>();
        for (String name : List.of("A", "B", "C")) {
            tasks.add(Fibers.spawn(() -> lock.withLock(() -> {
                cond.await();
                events.add(name + " at " + t.now());
                Fibers.sleep(Duration.ofSeconds(1)); // holds the lock: the others wait for it
                return null;
            })));
        }
        Fibers.yieldNow();
        lock.lock();
        cond.signalAll();
        assertEquals(0, cond.waiting());
        Fibers.sleep(Duration.ofSeconds(10)); // nobody resumes while the signaller holds the lock
        events.add("signaller unlocks at " + t.now());
        lock.unlock();
        Fibers.awaitAll(tasks);
        assertEquals(List.of("signaller unlocks at PT10S", "A at PT10S", "B at PT11S", "C at PT12S"), events);
    }

    @Test
    void aCancelledWaiterRetakesTheLockBeforeTheExceptionSurfaces(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        Condition cond = lock.newCondition();
        Task<Void> waiter = Fibers.spawn(() -> {
            lock.lock();
            try {
                cond.await();
                events.add("returned?!");
            } catch (CancelledException e) {
                events.add("waiter sees CancelledException at " + t.now() + " holding=" + lock.isHeldByCurrentFiber());
                throw e;
            } finally {
                lock.unlock();
            }
            return null;
        });
        Fibers.yieldNow(); // the waiter waits; the lock is free
        lock.lock();
        waiter.cancel();
        Fibers.sleep(Duration.ofSeconds(5)); // the cancelled waiter waits for the lock, shielded
        events.add("main unlocks at " + t.now());
        lock.unlock();
        assertThrows(CancelledException.class, waiter::join);
        assertFalse(lock.isLocked());
        assertEquals(0, cond.waiting());
        assertEquals(List.of("main unlocks at PT5S", "waiter sees CancelledException at PT5S holding=true"), events);
    }

    @Test
    void aSignalDeliveredToACancelledWaiterIsHandedToTheNext(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        Condition cond = lock.newCondition();
        Task<Void> a = Fibers.spawn(() -> lock.withLock(() -> {
            cond.await();
            events.add("A returned?!");
            return null;
        }));
        Task<Void> b = Fibers.spawn(() -> lock.withLock(() -> {
            events.add("B signalled=" + cond.await(Duration.ofHours(1)) + " at " + t.now());
            return null;
        }));
        Fibers.yieldNow();
        lock.withLock(() -> {
            cond.signal(); // to A, the longest waiter
            a.cancel();    // before A resumes
            return null;
        });
        assertThrows(CancelledException.class, a::join);
        b.join();
        assertEquals(List.of("B signalled=true at PT0S"), events);
    }

    @Test
    void timedAwaitReturnsFalseOnTimeoutHoldingTheLock(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        Lock lock = Lock.create();
        Condition cond = lock.newCondition();
        lock.lock();
        events.add("timed out: " + !cond.await(Duration.ofSeconds(3)) + " at " + t.now() + " holding=" + lock.isHeldByCurrentFiber());
        assertEquals(0, cond.waiting());
        assertFalse(cond.await(Duration.ZERO));
        Deque<String> jobs = new ArrayDeque<>();
        Fibers.spawn(() -> {
            Fibers.sleep(Duration.ofSeconds(2));
            lock.withLock(() -> {
                jobs.add("job");
                cond.signal();
                return null;
            });
            return null;
        });
        cond.awaitUntil(() -> !jobs.isEmpty());
        events.add("got " + jobs.poll() + " at " + t.now());
        events.add("predicate " + cond.awaitUntil(() -> !jobs.isEmpty(), Duration.ofSeconds(4)) + " at " + t.now());
        lock.unlock();
        assertEquals(List.of("timed out: true at PT3S holding=true", "got job at PT5S", "predicate false at PT9S"), events);
    }

    @Test
    void awaitAndSignalNeedTheLock() throws Exception {
        Condition cond = Condition.create();
        IllegalStateException e1 = assertThrows(IllegalStateException.class, cond::await);
        assertTrue(e1.getMessage().contains("not locked"), e1.getMessage());
        assertThrows(IllegalStateException.class, cond::signal);
        assertThrows(IllegalStateException.class, cond::signalAll);
        Task<Void> holder = Fibers.spawn("cond-holder", () -> {
            cond.lock().lock();
            Fibers.sleep(Duration.ofSeconds(1));
            cond.lock().unlock();
            return null;
        });
        Fibers.yieldNow();
        IllegalStateException e2 = assertThrows(IllegalStateException.class, () -> cond.await(Duration.ofSeconds(1)));
        assertTrue(e2.getMessage().contains("cond-holder"), e2.getMessage());
        holder.join();
    }
}
