package io.fiberloop.fiber;

import static io.fiberloop.fiber.LoopFixture.virtualLoop;
import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The combinators' rule, trio's and {@code StructuredTaskScope}'s: what a combinator cancels, it
 * waits for. Each loser here needs 20 ms of shielded cleanup after its cancellation; the
 * combinator must return or throw only after that cleanup ran. Times are on a virtual clock.
 */
@Timeout(20)
class CombinatorTest {

    /** A task that sleeps {@code ms} and returns its name, or, cancelled, cleans up for 20 ms. */
    private static Task<String> slowToUnwind(String name, long ms, List<String> events, EventLoop loop) {
        return Fibers.spawn(name, () -> {
            try {
                Fibers.sleep(Duration.ofMillis(ms));
                return name;
            } catch (CancelledException e) {
                Fibers.nonCancellable(() -> {
                    Fibers.sleep(Duration.ofMillis(20));
                    return null;
                });
                events.add(name + " unwound at " + Duration.ofNanos(loop.now()).toMillis());
                throw e;
            }
        });
    }

    @Test
    void awaitAllWaitsForTheTasksItCancelsAfterAFailure() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> fails = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofMillis(10));
                    throw new IllegalStateException("boom");
                });
                Task<String> loser = slowToUnwind("loser", 3_600_000, out, loop);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> Fibers.awaitAll(List.of(fails, loser)));
                out.add("awaitAll threw " + e.getMessage() + " at " + Duration.ofNanos(loop.now()).toMillis() + ", loser " + loser.state());
                assertEquals(0, e.getSuppressed().length, "the cancellations it caused are not failures");
                return out;
            });
            assertEquals(List.of("loser unwound at 30", "awaitAll threw boom at 30, loser CANCELLED"), events);
        }
    }

    @Test
    void awaitAnyWaitsForTheLosersItCancels() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> winner = slowToUnwind("winner", 10, out, loop);
                Task<String> loser = slowToUnwind("loser", 3_600_000, out, loop);
                String w = Fibers.awaitAny(List.of(winner, loser));
                out.add(w + " won; returned at " + Duration.ofNanos(loop.now()).toMillis() + ", loser " + loser.state());
                return out;
            });
            assertEquals(List.of("loser unwound at 30", "winner won; returned at 30, loser CANCELLED"), events);
        }
    }

    @Test
    void aCombinatorWhoseCallerTimesOutCancelsItsTasksAndWaitsForThem() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> a = slowToUnwind("a", 3_600_000, out, loop);
                assertThrows(FiberTimeoutException.class, () -> Fibers.withTimeout(Duration.ofMillis(10), () -> Fibers.awaitAll(List.of(a))));
                out.add("awaitAll timed out at " + Duration.ofNanos(loop.now()).toMillis() + ", a " + a.state());
                Task<String> b = slowToUnwind("b", 3_600_000, out, loop);
                assertThrows(FiberTimeoutException.class, () -> Fibers.withTimeout(Duration.ofMillis(10), () -> Fibers.awaitAllSettled(List.of(b))));
                out.add("awaitAllSettled timed out at " + Duration.ofNanos(loop.now()).toMillis() + ", b " + b.state());
                Task<String> c = slowToUnwind("c", 3_600_000, out, loop);
                assertThrows(FiberTimeoutException.class, () -> Fibers.withTimeout(Duration.ofMillis(10), () -> Fibers.awaitAny(List.of(c))));
                out.add("awaitAny timed out at " + Duration.ofNanos(loop.now()).toMillis() + ", c " + c.state());
                return out;
            });
            assertEquals(List.of("a unwound at 30", "awaitAll timed out at 30, a CANCELLED",
                    "b unwound at 60", "awaitAllSettled timed out at 60, b CANCELLED",
                    "c unwound at 90", "awaitAny timed out at 90, c CANCELLED"), events);
        }
    }

    @Test
    void aJoinThatTimesOutCancelsNothing() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String r = loop.run(() -> {
                Task<String> t = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofMillis(50));
                    return "finished";
                });
                assertThrows(FiberTimeoutException.class, () -> Fibers.withTimeout(Duration.ofMillis(10), t::join));
                assertFalse(t.isDone(), "join does not own the task: it runs on");
                return t.join() + " at " + Duration.ofNanos(loop.now()).toMillis();
            });
            assertEquals("finished at 50", r);
        }
    }

    @Test
    void joinAllGathersTasksOfDifferentTypes() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String page = loop.run(() -> {
                Task<String> user = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofMillis(20));
                    return "alice";
                });
                Task<List<Integer>> orders = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofMillis(10));
                    return List.of(1, 2);
                });
                CompletableFuture<Integer> score = CompletableFuture.completedFuture(7);
                Fibers.joinAll(user, orders, score);
                return user.resultNow() + " " + orders.resultNow() + " " + score.resultNow();
            });
            assertEquals("alice [1, 2] 7", page);
        }
        ForeignJoinAllStressTest.plainThreadJoinsAFailingAndASleepingTask();
    }
}
