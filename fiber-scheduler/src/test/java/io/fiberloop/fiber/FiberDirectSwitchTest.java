package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A switch transfers control directly: while fibers switch among themselves, nothing else queued on
 * the loop (a new task, a loop callback, a due timer, a fiber woken from an await) runs in between;
 * the queued work runs only once the switching fiber suspends in a loop wait.
 */
@Timeout(20)
class FiberDirectSwitchTest {

    /** What {@link #queueWork} queues, sorted. */
    private static final List<String> QUEUED = List.of("callback", "new task", "timer", "woken task");

    /**
     * Queues one of each kind of loop work (a woken fiber, a new task, a callback, a timer due now);
     * each records itself in {@code out}. Returns a future completed when all have run.
     */
    private static CompletableFuture<Void> queueWork(EventLoop loop, List<String> out) {
        // a task that is already suspended in an await, to be woken below
        CompletableFuture<Void> parked = new CompletableFuture<>();
        CompletableFuture<Void> wake = new CompletableFuture<>();
        Task<Void> woken = Fibers.spawn(() -> {
            parked.complete(null);
            Fibers.await(wake);
            out.add("woken task");
            return null;
        });
        Fibers.await(parked);
        Fibers.yieldNow();
        assertEquals("Fiber[" + woken.fiber().name() + ", SUSPENDED in await]", woken.fiber().toString());

        Task<Void> task = Fibers.spawn(() -> {
            out.add("new task");
            return null;
        });
        CompletableFuture<Void> callback = new CompletableFuture<>();
        loop.execute(() -> {
            out.add("callback");
            callback.complete(null);
        });
        CompletableFuture<Void> timer = new CompletableFuture<>();
        loop.schedule(() -> {
            out.add("timer");
            timer.complete(null);
        }, Duration.ZERO);
        wake.complete(null); // unparks the woken task: its continuation is now queued
        return CompletableFuture.allOf(woken.toCompletableFuture(), task.toCompletableFuture(), callback, timer);
    }

    private static void assertQueuedWorkRanAfter(List<String> expectedPrefix, List<String> events) {
        assertEquals(expectedPrefix.size() + QUEUED.size(), events.size(), events.toString());
        assertEquals(expectedPrefix, events.subList(0, expectedPrefix.size()), events.toString());
        List<String> tail = new ArrayList<>(events.subList(expectedPrefix.size(), events.size()));
        tail.sort(null);
        assertEquals(QUEUED, tail, events.toString());
    }

    @Test
    void chainOfSwitchesRunsNothingElseInBetween() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber b = new Fiber(() -> {
                    out.add("b");
                    out.add("b got " + main.switchTo("from b"));
                    return "b done";
                });
                Fiber a = new Fiber(() -> {
                    out.add("a");
                    out.add("a got " + b.switchTo());
                    return "a done";
                });
                CompletableFuture<Void> all = queueWork(loop, out);
                out.add("main");
                out.add("main got " + a.switchTo());
                out.add("main got " + b.switchTo("to b"));
                out.add("main awaits");
                Fibers.await(all);
                return out;
            });
            assertQueuedWorkRanAfter(List.of("main", "a", "b", "main got from b", "b got to b", "main got b done", "main awaits"), events);
        }
    }

    @Test
    void endingFiberHandsControlStraightToItsParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                CompletableFuture<Void> all = queueWork(loop, out);
                Fiber child = new Fiber(() -> {
                    Fiber grandchild = new Fiber(() -> {
                        out.add("grandchild ends");
                        return "gc";
                    });
                    out.add("child got " + grandchild.switchTo());
                    return "child";
                });
                out.add("main got " + child.switchTo());
                Fibers.await(all);
                return out;
            });
            assertQueuedWorkRanAfter(List.of("grandchild ends", "child got gc", "main got child"), events);
        }
    }

    @Test
    void exceptionsAndThrowIntoTransferDirectly() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                CompletableFuture<Void> all = queueWork(loop, out);
                Fiber catcher = new Fiber(() -> {
                    try {
                        main.switchTo("catcher ready");
                    } catch (IllegalStateException e) {
                        out.add("catcher caught " + e.getMessage());
                    }
                    throw new IllegalArgumentException("escapes");
                });
                out.add("main got " + catcher.switchTo());
                try {
                    catcher.throwInto(new IllegalStateException("thrown"));
                } catch (IllegalArgumentException e) {
                    out.add("main caught " + e.getMessage());
                }
                Fiber unstarted = new Fiber(() -> out.add("never"));
                try {
                    unstarted.throwInto(new IllegalStateException("unstarted"));
                } catch (IllegalStateException e) {
                    out.add("main caught " + e.getMessage());
                }
                Fibers.await(all);
                return out;
            });
            assertQueuedWorkRanAfter(List.of("main got catcher ready", "catcher caught thrown", "main caught escapes", "main caught unstarted"), events);
        }
    }

    /** The queued work does run as soon as the switching fibers suspend in a loop wait (here yieldNow). */
    @Test
    void queuedWorkRunsWhenTheFiberYields() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                CompletableFuture<Void> all = queueWork(loop, out);
                Fiber child = new Fiber(() -> {
                    out.add("child");
                    main.switchTo();
                    out.add("child resumed");
                });
                child.switchTo();
                out.add("main back");
                Fibers.await(all);
                out.add("all ran");
                child.switchTo();
                return out;
            });
            assertEquals(List.of("child", "main back"), events.subList(0, 2));
            assertEquals(List.of("all ran", "child resumed"), events.subList(events.size() - 2, events.size()));
            List<String> middle = new ArrayList<>(events.subList(2, events.size() - 2));
            middle.sort(null);
            assertEquals(QUEUED, middle);
        }
    }

    /** Many round trips between two fibers: a ready task waits for all of them to finish. */
    @Test
    void longPingPongIsNotInterleavedWithReadyTasks() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Task<Void> other = Fibers.spawn(() -> {
                    out.add("other task");
                    return null;
                });
                Fiber ponger = new Fiber(() -> {
                    Object v = main.switchTo(0);
                    while (true) {
                        v = main.switchTo((Integer) v + 1);
                    }
                });
                int n = (Integer) ponger.switchTo();
                for (int i = 0; i < 1000; i++) {
                    n = (Integer) ponger.switchTo(n);
                }
                out.add("pings done " + n);
                other.join();
                return out;
            });
            assertEquals(List.of("pings done 1000", "other task"), events);
        }
    }
}
