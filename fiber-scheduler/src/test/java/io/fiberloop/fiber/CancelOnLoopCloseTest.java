package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;
import static io.fiberloop.fiber.LoopFixture.awaitBlocked;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import io.fiberloop.loop.LoopClosedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Closing a loop with live tasks cancels them, runs their finally blocks and releases their joiners. */
@Timeout(20)
class CancelOnLoopCloseTest {

    @Test
    void closeCancelsSleepingTasksAndReleasesAPlainThreadJoinedOnOne() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        // a manual virtual clock: nothing fires by itself, the sleeps would last forever
        EventLoop loop = FiberLoops.builder().clock(LoopClock.virtual()).build();
        CountDownLatch started = new CountDownLatch(3);
        Task<String> a = Fibers.spawn(loop, () -> {
            try {
                loop.execute(started::countDown);
                Fibers.sleep(Duration.ofDays(365));
                return "a";
            } catch (CancelledException e) {
                events.add("a cancelled");
                throw e;
            } finally {
                events.add("a finally");
            }
        });
        Task<String> b = Fibers.spawn(loop, () -> {
            try {
                loop.execute(started::countDown);
                return Fibers.await(new CompletableFuture<String>());
            } finally {
                events.add("b finally");
            }
        });
        Task<String> c = Fibers.spawn(loop, () -> {
            try {
                loop.execute(started::countDown);
                Fibers.sleep(Duration.ofDays(1));
                return "c";
            } finally {
                // cleanup that suspends still gets to run while the loop closes
                Fibers.nonCancellable(() -> {
                    Fibers.yieldNow();
                    return null;
                });
                events.add("c finally after a shielded yield");
            }
        });
        assertTrue(started.await(10, TimeUnit.SECONDS));

        CompletableFuture<Throwable> joinerSaw = new CompletableFuture<>();
        Thread joiner = Thread.ofPlatform().name("joiner").start(() -> {
            try {
                a.join();
                joinerSaw.complete(null);
            } catch (Throwable e) {
                joinerSaw.complete(e);
            }
        });
        awaitBlocked(joiner);
        assertFalse(joinerSaw.isDone());

        loop.close();

        assertInstanceOf(CancelledException.class, joinerSaw.get(10, TimeUnit.SECONDS));
        joiner.join();
        for (Task<String> t : List.of(a, b, c)) {
            assertTrue(t.isDone(), t::toString);
            assertEquals(Future.State.CANCELLED, t.state(), t::toString);
            assertThrows(CancelledException.class, t::join);
        }
        assertTrue(events.containsAll(List.of("a cancelled", "a finally", "b finally", "c finally after a shielded yield")), events::toString);
        assertEquals(4, events.size(), events::toString);
        assertEquals(List.of("a cancelled", "a finally"), events.stream().filter(e -> e.startsWith("a ")).toList());
        assertEquals(EventLoop.State.CLOSED, loop.state());
        assertThrows(LoopClosedException.class, () -> Fibers.spawn(loop, () -> "late"));
    }

    @Test
    void closingFromInsideAFiberCancelsTheOtherTasks() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        EventLoop loop = FiberLoops.builder().clock(LoopClock.autoAdvancing()).build();
        Task<String> sleeper = Fibers.spawn(loop, () -> {
            try {
                Fibers.await(new CompletableFuture<String>());
                return "no";
            } finally {
                events.add("sleeper finally");
            }
        });
        Task<Void> closer = Fibers.spawn(loop, () -> {
            Fibers.yieldNow();
            loop.close(); // on the loop: returns at once, the loop closes once this fiber lets it
            events.add("close requested");
            return null;
        });
        assertNull(closer.get(10, TimeUnit.SECONDS));
        assertThrows(CancelledException.class, sleeper::join);
        loop.terminationFuture().get(10, TimeUnit.SECONDS);
        assertEquals(List.of("close requested", "sleeper finally"), events);
    }
}
