package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.Fiber.State;
import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Illegal switches raise {@link FiberError} with a message that says what was wrong; python-fibers'
 * {@code fibers.error} cases plus the loop-specific ones (a fiber waiting in an await, other loops,
 * no loop at all).
 */
@Timeout(20)
class FiberErrorTest {

    private static void assertMessage(Throwable e, String... fragments) {
        String m = e.getMessage();
        assertNotNull(m, "no message");
        for (String f : fragments) {
            assertTrue(m.contains(f), "message '" + m + "' should contain '" + f + "'");
        }
    }

    @Test
    void switchingToItselfFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current().name("root");
                assertMessage(assertThrows(FiberError.class, main::switchTo), "cannot switch", "root", "to itself");
                assertMessage(assertThrows(FiberError.class, () -> main.switchTo("v")), "to itself");
                assertMessage(assertThrows(FiberError.class, () -> main.throwInto(new RuntimeException("x"))), "to itself");
                Fiber child = new Fiber(() -> {
                    Fiber me = Fiber.current();
                    FiberError e = assertThrows(FiberError.class, me::switchTo);
                    out.add("child: " + (e.getMessage().contains("to itself")) + ", still " + me.state());
                });
                child.switchTo();
                out.add("main " + main.state() + ", child " + child.state());
                return out;
            });
            assertEquals(List.of("child: true, still RUNNING", "main RUNNING, child ENDED"), events);
        }
    }

    @Test
    void switchingToAnEndedFiberFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                Fiber f = new Fiber(() -> 42).name("answer");
                assertEquals(42, f.switchTo());
                assertFalse(f.isAlive());
                assertMessage(assertThrows(FiberError.class, f::switchTo), "answer", "has ended");
                assertMessage(assertThrows(FiberError.class, () -> f.switchTo("v")), "has ended");
                assertMessage(assertThrows(FiberError.class, () -> f.throwInto(new RuntimeException("x"))), "has ended");
                // the failed switches left the caller running
                assertEquals(State.RUNNING, Fiber.current().state());
                return null;
            });
        }
    }

    @Test
    void passingAValueToAnUnstartedFiberFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber f = new Fiber(() -> {
                    out.add("f ran");
                    return "f done";
                }).name("lazy");
                assertMessage(assertThrows(FiberError.class, () -> f.switchTo("too early")), "lazy", "not started", "switchTo()");
                out.add("after error: " + f.state());
                out.add("main got " + f.switchTo());
                return out;
            });
            assertEquals(List.of("after error: NEW", "f ran", "main got f done"), events);
        }
    }

    @Test
    void passingNullExplicitlyToAnUnstartedFiberAlsoFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                Fiber f = new Fiber(() -> { });
                assertMessage(assertThrows(FiberError.class, () -> f.switchTo(null)), "not started");
                assertEquals(State.NEW, f.state());
                return null;
            });
        }
    }

    @Test
    void switchingToAFiberSleepingInTheLoopFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                CompletableFuture<Fiber> sleeping = new CompletableFuture<>();
                Task<String> sleeper = Fibers.spawn("sleeper", () -> {
                    sleeping.complete(Fiber.current());
                    Fibers.sleep(Duration.ofHours(1));
                    return "woke";
                });
                Fiber f = Fibers.await(sleeping);
                assertSame(sleeper.fiber(), f);
                out.add(f.toString());
                assertMessage(assertThrows(FiberError.class, f::switchTo), "sleeper", "await", "not in switchTo()");
                assertMessage(assertThrows(FiberError.class, () -> f.switchTo("v")), "await");
                assertMessage(assertThrows(FiberError.class, () -> f.throwInto(new RuntimeException("x"))), "await");
                out.add("after errors: " + f);
                sleeper.cancel();
                assertThrows(CancelledException.class, sleeper::join);
                out.add("cancelled: " + f.state());
                return out;
            });
            assertEquals(List.of(
                    "Fiber[sleeper, SUSPENDED in await]",
                    "after errors: Fiber[sleeper, SUSPENDED in await]",
                    "cancelled: ENDED"), events);
        }
    }

    @Test
    void switchingToAFiberAwaitingAFutureFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String r = loop.run(() -> {
                CompletableFuture<String> gate = new CompletableFuture<>();
                CompletableFuture<Fiber> waiting = new CompletableFuture<>();
                Task<String> waiter = Fibers.spawn(() -> {
                    waiting.complete(Fiber.current());
                    return "got " + Fibers.await(gate);
                });
                Fiber f = Fibers.await(waiting);
                assertEquals(State.SUSPENDED, f.state());
                assertMessage(assertThrows(FiberError.class, f::switchTo), "await");
                gate.complete("gate");
                return waiter.join();
            });
            assertEquals("got gate", r);
        }
    }

    @Test
    void reparentingThatMakesACycleFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                Fiber main = Fiber.current();
                Fiber a = new Fiber(() -> { }).name("a");
                Fiber b = new Fiber(() -> { }, a).name("b");
                Fiber c = new Fiber(() -> { }, b).name("c");
                assertMessage(assertThrows(FiberError.class, () -> a.parent(a)), "cycle");
                assertMessage(assertThrows(FiberError.class, () -> a.parent(b)), "cycle", "a", "b");
                assertMessage(assertThrows(FiberError.class, () -> a.parent(c)), "cycle");
                assertMessage(assertThrows(FiberError.class, () -> main.parent(c)), "cycle");
                assertSame(main, a.parent());
                assertSame(a, b.parent());
                assertSame(b, c.parent());
                // legal re-parenting still works, and so does clearing the parent
                c.parent(a);
                assertSame(a, c.parent());
                b.parent(null);
                assertNull(b.parent());
                a.parent(b);
                assertSame(b, a.parent());
                return null;
            });
        }
    }

    @Test
    void reparentingOntoAnEndedFiberFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                Fiber ended = new Fiber(() -> { }).name("gone");
                ended.switchTo();
                Fiber f = new Fiber(() -> { });
                Fiber before = f.parent();
                assertMessage(assertThrows(FiberError.class, () -> f.parent(ended)), "gone", "has ended");
                assertSame(before, f.parent());
                // test_finished_parent: the constructor refuses an ended parent too
                assertMessage(assertThrows(FiberError.class, () -> new Fiber(() -> { }, ended)), "has ended");
                return null;
            });
        }
    }

    @Test
    void switchingFromALoopCallbackFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String r = loop.run(() -> {
                Fiber f = new Fiber(() -> { });
                CompletableFuture<String> outcome = new CompletableFuture<>();
                loop.execute(() -> {
                    try {
                        f.switchTo();
                        outcome.complete("no error");
                    } catch (FiberError e) {
                        outcome.complete(e.getMessage());
                    } catch (Throwable t) {
                        outcome.complete("wrong: " + t);
                    }
                });
                String m = Fibers.await(outcome);
                assertEquals(State.NEW, f.state());
                return m;
            });
            assertTrue(r.contains("must be called from a fiber"), r);
        }
    }

    /** test_switch_to_another_thread and test_threaded_reparent: a fiber of loop A used from loop B. */
    @Test
    void crossLoopSwitchThrowAndReparentFail() throws Exception {
        try (EventLoop a = FiberLoops.builder().name("loop-a").build();
                EventLoop b = FiberLoops.builder().name("loop-b").build()) {
            CompletableFuture<Fiber> handoff = new CompletableFuture<>();
            CompletableFuture<String> done = new CompletableFuture<>();
            Task<String> onA = Fibers.spawn(a, () -> {
                Fiber main = Fiber.current();
                Fiber af = new Fiber(() -> {
                    main.switchTo("suspended");
                    return "af done";
                }).name("af");
                assertEquals("suspended", af.switchTo());
                handoff.complete(af);
                String fromB = Fibers.await(done);
                return fromB + "; af " + af.state() + ", then got " + af.switchTo();
            });
            AtomicReference<Fiber> bFiber = new AtomicReference<>();
            List<String> events = b.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber af = Fibers.await(handoff);
                Fiber me = Fiber.current();
                bFiber.set(me);
                FiberError e = assertThrows(FiberError.class, af::switchTo);
                assertMessage(e, "loop-a", "loop-b", "af");
                out.add("switch refused");
                assertMessage(assertThrows(FiberError.class, () -> af.switchTo("v")), "loop-a");
                assertMessage(assertThrows(FiberError.class, () -> af.throwInto(new RuntimeException("x"))), "loop-a");
                out.add("throw refused");
                Fiber local = new Fiber(() -> { });
                assertMessage(assertThrows(FiberError.class, () -> local.parent(af)), "same loop", "loop-a");
                assertMessage(assertThrows(FiberError.class, () -> new Fiber(() -> { }, af)), "same loop");
                out.add("reparent refused");
                assertEquals(State.RUNNING, me.state());
                done.complete("b finished");
                return out;
            });
            assertEquals(List.of("switch refused", "throw refused", "reparent refused"), events);
            assertEquals("b finished; af SUSPENDED, then got af done", onA.get(10, TimeUnit.SECONDS));
            // and the other way: a fiber of loop B cannot become the parent of a fiber of loop A
            Fiber fromB = bFiber.get();
            Task<String> back = Fibers.spawn(a, () -> {
                Fiber local = new Fiber(() -> { });
                try {
                    local.parent(fromB);
                    return "accepted";
                } catch (FiberError err) {
                    return "refused";
                }
            });
            assertEquals("refused", back.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void creatingAFiberOutsideAnyLoopFails() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Fiber(() -> { }));
        assertMessage(e, "new Fiber", "EventLoop.run");
        assertThrows(IllegalStateException.class, () -> new Fiber(() -> "x"));
        assertMessage(assertThrows(IllegalStateException.class, Fiber::current), "not a fiber");
        assertNull(Fiber.currentOrNull());
    }

    @Test
    void switchingFromAPlainThreadFails() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<Fiber> handoff = new CompletableFuture<>();
            CompletableFuture<Void> release = new CompletableFuture<>();
            Task<String> t = Fibers.spawn(loop, () -> {
                Fiber f = new Fiber(() -> "ran");
                handoff.complete(f);
                Fibers.await(release);
                return f.state() + " " + f.switchTo();
            });
            Fiber f = handoff.get(10, TimeUnit.SECONDS);
            assertMessage(assertThrows(FiberError.class, f::switchTo), "must be called from a fiber");
            release.complete(null);
            assertEquals("NEW ran", t.get(10, TimeUnit.SECONDS));
        }
    }
}
