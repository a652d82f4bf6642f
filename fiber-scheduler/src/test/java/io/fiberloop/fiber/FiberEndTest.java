package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.Fiber.State;
import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Where a fiber's end goes when no ancestor can take it (issue 19 item 9): a fiber without a live
 * parent hands its result or failure to the fiber that last switched into it, which is never left
 * suspended; and a task suspended in {@code switchTo} still receives its cancellation.
 */
@Timeout(20)
class FiberEndTest {

    @Test
    void aParentlessFiberReturnsItsResultToTheFiberThatSwitchedIntoIt() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            Task<Object> t = Fibers.spawn(loop, () -> new Fiber(() -> "result", null).switchTo());
            assertEquals("result", t.get());
        }
    }

    @Test
    void aParentlessFiberThatThrowsRaisesInTheFiberThatSwitchedIntoIt() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String seen = loop.run(() -> {
                Fiber f = new Fiber(() -> {
                    throw new IllegalStateException("boom");
                }, null);
                return assertThrows(IllegalStateException.class, f::switchTo).getMessage();
            });
            assertEquals("boom", seen);
        }
    }

    @Test
    void aFiberCreatedInALoopCallbackReturnsToWhoeverStartedIt() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String r = loop.run(() -> {
                CompletableFuture<Fiber> made = new CompletableFuture<>();
                loop.execute(() -> made.complete(new Fiber(() -> "made in a callback")));
                Fiber f = Fibers.await(made);
                assertNull(f.parent(), "a loop callback is not a fiber: no parent");
                return (String) f.switchTo();
            });
            assertEquals("made in a callback", r);
        }
    }

    @Test
    void aParentlessFiberThatSwitchedAwayAndBackStillReturnsToItsStarter() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber b = new Fiber(() -> {
                    Fiber c = new Fiber(() -> "c done");   // parent b
                    out.add("b got " + c.switchTo());      // c ends: its parent b resumes
                    return "b done";
                }, null);
                out.add("main got " + b.switchTo());      // b ends: nobody above it, main started it
                out.add("b " + b.state());
                return out;
            });
            assertEquals(List.of("b got c done", "main got b done", "b ENDED"), events);
        }
    }

    @Test
    void aFiberWhoseParentsHaveAllEndedReturnsToTheFiberThatSwitchedIntoIt() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            Task<String> t = Fibers.spawn(loop, () -> {
                Fiber p = new Fiber(() -> { }, null).name("p");
                Fiber child = new Fiber(() -> "orphan's result", p);
                p.switchTo();                               // p ends at once
                assertEquals(State.ENDED, p.state());
                Fiber starter = new Fiber(() -> child.switchTo(), null);
                return "starter got " + starter.switchTo(); // starter returns what child handed it
            });
            assertEquals("starter got orphan's result", t.get());
        }
    }

    @Test
    void aTaskSuspendedInSwitchToIsCancelled() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<Void> inside = new CompletableFuture<>();
            List<String> events = new ArrayList<>();
            Task<Object> t = Fibers.spawn(loop, () -> {
                Fiber waiter = new Fiber(() -> {
                    inside.complete(null);
                    return Fibers.await(new CompletableFuture<String>()); // never completes
                }, null);
                try {
                    return waiter.switchTo();
                } catch (CancelledException e) {
                    events.add("switchTo raised " + e.getClass().getSimpleName());
                    throw e;
                }
            });
            inside.get();
            t.cancel();
            assertThrows(CancelledException.class, t::join);
            assertEquals(Future.State.CANCELLED, t.state());
            assertEquals(List.of("switchTo raised CancelledException"), events);
        }
    }

    @Test
    void aDeadlineReachesAFiberSuspendedInSwitchTo() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String r = loop.run(() -> {
                Fiber stuck = new Fiber(() -> Fibers.await(new CompletableFuture<String>()), null);
                try {
                    return (String) Fibers.withTimeout(Duration.ofMillis(20), () -> stuck.switchTo());
                } catch (FiberTimeoutException e) {
                    return "timed out, stuck is " + stuck.state();
                }
            });
            assertEquals("timed out, stuck is SUSPENDED", r);
        }
    }
}
