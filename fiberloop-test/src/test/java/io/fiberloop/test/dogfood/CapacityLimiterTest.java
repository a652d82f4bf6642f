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

/** CapacityLimiter: FIFO tokens, borrower identity, statistics, changing the total, cancellation, try and timed forms. */
@Timeout(20)
@FiberLoopTest
class CapacityLimiterTest {

    @Test
    void tokensGoToWaitersInArrivalOrder(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        CapacityLimiter limiter = CapacityLimiter.create(2);
        List<Task<Void>> tasks = new ArrayList<>();
        int[] arrivalDelay = {5, 1, 4, 2, 3}; // arrival order: w1, w3, w4, w2, w0
        for (int i = 0; i < 5; i++) {
            int n = i;
            tasks.add(Fibers.spawn(() -> {
                Fibers.sleep(Duration.ofSeconds(arrivalDelay[n]));
                limiter.withToken(() -> {
                    events.add("w" + n + " at " + t.now());
                    Fibers.sleep(Duration.ofSeconds(10));
                    return null;
                });
                return null;
            }));
        }
        Fibers.awaitAll(tasks);
        assertEquals(0, limiter.borrowedTokens());
        assertEquals(List.of("w1 at PT1S", "w3 at PT2S", "w4 at PT11S", "w2 at PT12S", "w0 at PT21S"), events);
    }

    @Test
    void aBorrowerHoldsAtMostOneTokenAndOnlyAHolderReleases() throws Exception {
        CapacityLimiter limiter = CapacityLimiter.create(3);
        limiter.acquire();
        IllegalStateException twice = assertThrows(IllegalStateException.class, limiter::acquire);
        assertTrue(twice.getMessage().contains("already holds"), twice.getMessage());
        assertThrows(IllegalStateException.class, limiter::tryAcquire);

        Task<Void> stranger = Fibers.spawn("stranger", () -> {
            limiter.release();
            return null;
        });
        IllegalStateException notHolder = assertThrows(IllegalStateException.class, stranger::join);
        assertTrue(notHolder.getMessage().contains("stranger") && notHolder.getMessage().contains("holds no token"),
                notHolder.getMessage());

        // a token held on behalf of an object, released by another fiber
        Object job = "job-1";
        limiter.acquireOnBehalfOf(job);
        CapacityLimiter.Statistics s = limiter.statistics();
        assertEquals(2, s.borrowedTokens());
        assertEquals(3, s.totalTokens());
        assertEquals(List.of(Fiber.current(), job), s.borrowers());
        assertEquals(0, s.tasksWaiting());
        assertEquals(1, limiter.availableTokens());
        Fibers.spawn(() -> {
            limiter.releaseOnBehalfOf(job);
            return null;
        }).join();
        assertEquals(1, limiter.borrowedTokens());
        limiter.release();
        assertEquals(0, limiter.borrowedTokens());
        assertThrows(IllegalStateException.class, limiter::release);
    }

    @Test
    void raisingTheTotalServesWaitersAndLoweringItTakesNothingBack(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        CapacityLimiter limiter = CapacityLimiter.create(1);
        limiter.acquire();
        List<Task<Void>> tasks = new ArrayList<>();
        for (String name : List.of("A", "B", "C")) {
            tasks.add(Fibers.spawn(() -> {
                limiter.acquire();
                events.add(name + " at " + t.now());
                Fibers.sleep(Duration.ofSeconds(5));
                limiter.release();
                return null;
            }));
        }
        Fibers.yieldNow();
        assertEquals(3, limiter.statistics().tasksWaiting());
        Fibers.sleep(Duration.ofSeconds(1));
        limiter.totalTokens(3);                 // two more tokens: A and B, at once
        assertEquals(3, limiter.borrowedTokens());
        assertEquals(1, limiter.statistics().tasksWaiting());
        limiter.totalTokens(1);                 // nobody loses a token
        assertEquals(3, limiter.borrowedTokens());
        assertEquals(0, limiter.availableTokens());
        limiter.release();                      // 2 borrowed, total 1: C still waits
        Fibers.sleep(Duration.ofSeconds(1));
        assertEquals(1, limiter.statistics().tasksWaiting());
        Fibers.awaitAll(tasks);
        assertEquals(List.of("A at PT1S", "B at PT1S", "C at PT6S"), events);
    }

    @Test
    void cancelledWaitersNeitherTakeNorLoseATokens(TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        CapacityLimiter limiter = CapacityLimiter.create(1);
        limiter.acquire();
        List<Task<Void>> tasks = new ArrayList<>();
        for (String name : List.of("A", "B", "C")) {
            tasks.add(Fibers.spawn(() -> {
                boolean got = limiter.tryAcquire(Duration.ofHours(1)); // a lost token: "false at PT1H"
                events.add(name + " " + got + " at " + t.now());
                if (got) {
                    limiter.release();
                }
                return null;
            }));
        }
        Fibers.yieldNow();
        tasks.get(1).cancel();                  // B, while waiting
        assertThrows(CancelledException.class, tasks.get(1)::join);
        assertEquals(2, limiter.statistics().tasksWaiting());
        limiter.release();                      // handed to A ...
        assertEquals(List.of(tasks.get(0).fiber()), limiter.statistics().borrowers());
        tasks.get(0).cancel();                  // ... which is cancelled before it resumes: C gets it
        assertThrows(CancelledException.class, tasks.get(0)::join);
        tasks.get(2).join();
        assertEquals(0, limiter.borrowedTokens());
        assertEquals(1, limiter.availableTokens());
        assertEquals(List.of("C true at PT0S"), events);
    }

    @Test
    void tryAndTimedForms(EventLoop loop, TestLoop t) throws Exception {
        List<String> events = new ArrayList<>();
        CapacityLimiter limiter = CapacityLimiter.create(1);
        assertTrue(limiter.tryAcquireOnBehalfOf("x"));
        assertFalse(limiter.tryAcquire());
        assertFalse(limiter.tryAcquire(Duration.ZERO));
        events.add("timed " + limiter.tryAcquire(Duration.ofSeconds(2)) + " at " + t.now());
        assertEquals(0, limiter.statistics().tasksWaiting());
        loop.schedule(() -> limiter.releaseOnBehalfOf("x"), Duration.ofSeconds(3)); // from a timer callback
        events.add("timed " + limiter.tryAcquireOnBehalfOf("y", Duration.ofSeconds(10)) + " at " + t.now());
        assertEquals(List.of("y"), limiter.statistics().borrowers());
        assertEquals(List.of("timed false at PT2S", "timed true at PT5S"), events);
    }
}
