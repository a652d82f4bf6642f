package io.fiberloop.test;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.TaskScope;
import io.fiberloop.fiber.channel.Channel;
import io.fiberloop.fiber.sync.Event;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What a {@code @FiberLoopTest} test sees: its own fiber loop, a virtual clock, the helpers. */
@FiberLoopTest
class FiberLoopTestTest {
    private static EventLoop previousLoop;

    @Test
    void theTestRunsAsTheMainFiberOfItsOwnLoop(EventLoop loop, VirtualClock clock, TestLoop t, EventOrder order) {
        assertNotNull(Fiber.currentOrNull(), "the test method runs in a fiber");
        assertTrue(loop.inLoop());
        assertSame(clock, loop.clock());
        assertTrue(clock.isAutoAdvancing());
        assertSame(loop, t.loop());
        assertSame(clock, t.clock());
        assertSame(order, t.order());
        assertTrue(t.seed().isEmpty(), "FIFO order without @Explore");
        assertNotSame(previousLoop, loop, "each test gets a fresh loop");
        previousLoop = loop;
    }

    @Test
    void eachTestGetsAFreshLoop(EventLoop loop) {
        assertNotSame(previousLoop, loop);
        previousLoop = loop;
    }

    @Test
    void anHourOfVirtualTimeTakesNoRealTime(TestLoop t) {
        Task<String> reminder = Fibers.spawn(() -> {
            Fibers.sleep(Duration.ofHours(1));
            return "tea";
        });
        assertEquals("tea", reminder.join());
        assertEquals(Duration.ofHours(1), t.now());
    }

    @Test
    void advanceByRunsWhatIsDueOnTheWayAndStopsExactly(TestLoop t, EventLoop loop) {
        List<String> fired = new ArrayList<>();
        loop.schedule(() -> fired.add("1s at " + t.now()), Duration.ofSeconds(1));
        loop.schedule(() -> fired.add("5s at " + t.now()), Duration.ofSeconds(5));
        assertEquals(Duration.ofSeconds(3), t.advanceBy(Duration.ofSeconds(3)));
        assertEquals(List.of("1s at PT1S"), fired);
        t.advanceBy(Duration.ofSeconds(2));
        assertEquals(List.of("1s at PT1S", "5s at PT5S"), fired);
        assertThrows(IllegalArgumentException.class, () -> t.advanceBy(Duration.ofSeconds(-1)));
    }

    @Test
    void advanceUntilIdleRunsEveryTimerAndFiberToTheEnd(TestLoop t) {
        List<String> done = new ArrayList<>();
        try (TaskScope scope = TaskScope.open()) {
            for (int i = 1; i <= 3; i++) {
                int n = i;
                scope.fork(() -> {
                    Fibers.sleep(Duration.ofMinutes(n));
                    done.add("w" + n + " at " + t.now());
                    return null;
                });
            }
            assertEquals(Duration.ofMinutes(3), t.advanceUntilIdle());
            assertEquals(List.of("w1 at PT1M", "w2 at PT2M", "w3 at PT3M"), done);
            scope.join();
        }
    }

    @Test
    void waitAllTasksBlockedReturnsOnceEveryOtherFiberWaits(TestLoop t) {
        Channel<String> jobs = Channel.buffered(10);
        List<String> done = new ArrayList<>();
        Task<Void> worker = Fibers.spawn("worker", () -> {
            for (String j; (j = jobs.receiveOrNull()) != null; ) {
                Fibers.yieldNow();
                Fibers.yieldNow();
                done.add(j);
            }
            return null;
        });
        jobs.send("a");
        jobs.send("b");
        t.waitAllTasksBlocked();
        assertEquals(List.of("a", "b"), done, "the worker took both jobs and waits for the next");
        assertEquals(Duration.ZERO, t.now(), "the clock did not move");
        jobs.close();
        worker.join();
    }

    @Test
    void waitAllTasksBlockedLetsDueCallbacksRunButDoesNotMoveTheClock(TestLoop t, EventLoop loop) {
        Event later = Event.create();
        List<String> ran = new ArrayList<>();
        loop.execute(() -> ran.add("callback"));
        loop.schedule(later::set, Duration.ofSeconds(1));
        t.waitAllTasksBlocked();
        assertEquals(List.of("callback"), ran);
        assertFalse(later.isSet());
        later.await();
        assertEquals(Duration.ofSeconds(1), t.now());
    }

    @Test
    void helpersRefuseToRunOutsideTheLoop(TestLoop t) {
        IllegalStateException e = Fibers.await(CompletableFuture.supplyAsync(
                () -> assertThrows(IllegalStateException.class, t::waitAllTasksBlocked)));
        assertTrue(e.getMessage().contains("call it from the test method"), e.getMessage());
    }

    @Test
    void eventOrderAndSequencerRefuseOtherThreads(EventOrder order) {
        order.expect(1);
        Sequencer seq = Sequencer.create();
        seq.run(0, () -> { });
        IllegalStateException e = Fibers.await(CompletableFuture.supplyAsync(() -> assertThrows(IllegalStateException.class, () -> order.expect(2))));
        assertTrue(e.getMessage().contains("not on a loop"), e.getMessage());
        Fibers.await(CompletableFuture.supplyAsync(() -> assertThrows(IllegalStateException.class, () -> seq.run(1, () -> { }))));
        order.finish(2);
    }

    @Test
    @FiberLoopTest(virtualTimeLimit = "P30D")
    void theMethodsAnnotationWinsOverTheClasss(TestLoop t) {
        Fibers.sleep(Duration.ofDays(20));
        assertEquals(Duration.ofDays(20), t.now());
    }

    @Test
    void eventOrderChecksSteps(EventOrder order) {
        order.expect(1);
        Task<Void> child = Fibers.spawn(() -> {
            order.expect(2);
            return null;
        });
        child.join();
        order.expect(3);
        assertEquals(3, order.lastStep());
        order.finish(4);
        assertTrue(order.isFinished());
        EventOrder other = new EventOrder();
        other.expect(1);
        assertThrows(org.opentest4j.AssertionFailedError.class, () -> other.expect(3));
        assertThrows(org.opentest4j.AssertionFailedError.class, other::expectUnreached);
    }

    @Test
    void sequencerRunsBlocksInTheirOrder() {
        Sequencer seq = Sequencer.create();
        List<String> out = new ArrayList<>();
        Task<Void> a = Fibers.spawn(() -> {
            seq.run(2, () -> out.add("a2"));
            seq.run(3, () -> out.add("a3"));
            return null;
        });
        Task<Void> b = Fibers.spawn(() -> {
            seq.run(1, () -> out.add("b1"));
            seq.run(4, () -> out.add("b4"));
            return null;
        });
        seq.run(0, () -> out.add("main0"));
        Fibers.joinAll(a, b);
        assertEquals(List.of("main0", "b1", "a2", "a3", "b4"), out);
        assertThrows(IllegalArgumentException.class, () -> seq.run(1, () -> { }));
        assertThrows(IllegalArgumentException.class, () -> seq.run(-1, () -> { }));
    }

    @Test
    void aBrokenSequencerFailsLaterStepsAtOnce() {
        Sequencer seq = Sequencer.create();
        Task<Void> later = Fibers.spawn(() -> {
            seq.run(1, () -> fail("must not run"));
            return null;
        });
        assertThrows(ArithmeticException.class, () -> seq.run(0, () -> {
            throw new ArithmeticException("step 0 fails");
        }));
        IllegalStateException e = assertThrows(IllegalStateException.class, later::join);
        assertTrue(e.getMessage().contains("step 0 threw"), e.getMessage());
    }
}
