package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.Fiber.State;
import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Exceptions between fibers, ported from python-fibers' {@code test_fibers.py} (test_exception,
 * test_send_exception) and {@code test_throw.py}: an exception escaping a child goes to its
 * (possibly reassigned) parent; {@code throwInto} raises in a suspended fiber, and into an unstarted
 * fiber ends it and sends the exception to its nearest started ancestor.
 */
@Timeout(20)
class FiberExceptionTest {

    static final class SomeError extends RuntimeException {
        SomeError(String m) {
            super(m);
        }
    }

    @Test
    void exceptionEscapingChildIsRaisedFromParentsSwitch() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber child = new Fiber(() -> {
                    out.add("child runs");
                    throw new SomeError("boom");
                });
                SomeError e = assertThrows(SomeError.class, child::switchTo);
                out.add("main caught " + e.getMessage() + ", child " + child.state());
                assertSame(Fiber.current(), Fiber.current());
                assertEquals(State.RUNNING, Fiber.current().state());
                return out;
            });
            assertEquals(List.of("child runs", "main caught boom, child ENDED"), events);
        }
    }

    @Test
    void checkedExceptionOfCallableTargetIsRaisedFromParentsSwitch() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            String r = loop.run(() -> {
                Fiber child = new Fiber(() -> {
                    if (Fiber.current() != null) {
                        throw new java.io.IOException("checked");
                    }
                    return "unreachable";
                });
                try {
                    child.switchTo();
                    return "no exception";
                } catch (Exception e) {
                    return e.getClass().getSimpleName() + ": " + e.getMessage();
                }
            });
            assertEquals("IOException: checked", r);
        }
    }

    /** The exception of a child that ended after being resumed a few times still goes to the parent. */
    @Test
    void exceptionAfterSeveralSwitchesGoesToParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber child = new Fiber(() -> {
                    out.add("child got " + main.switchTo("one"));
                    throw new SomeError("late");
                });
                out.add("main got " + child.switchTo());
                try {
                    child.switchTo("two");
                    out.add("no exception");
                } catch (SomeError e) {
                    out.add("main caught " + e.getMessage());
                }
                return out;
            });
            assertEquals(List.of("main got one", "child got two", "main caught late"), events);
        }
    }

    /** python-fibers' test_exception: g2's exception goes to its new parent g1, whose own exception goes to main. */
    @Test
    void exceptionGoesToReassignedParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> seen = new ArrayList<>();
                Fiber g1 = new Fiber(() -> fmain(seen)).name("g1");
                Fiber g2 = new Fiber(() -> fmain(seen)).name("g2");
                g1.switchTo();
                g2.switchTo();
                g2.parent(g1);
                assertSame(g1, g2.parent());
                assertEquals(List.of(), seen);
                SomeError e = assertThrows(SomeError.class, g2::switchTo);
                seen.add("main caught " + e.getMessage());
                seen.add("g1 " + g1.state() + ", g2 " + g2.state());
                return seen;
            });
            assertEquals(List.of("g1 caught raised by g2", "main caught raised by g1", "g1 ENDED, g2 ENDED"), events);
        }
    }

    private static void fmain(List<String> seen) {
        try {
            Fiber.current().parent().switchTo();
        } catch (SomeError e) {
            seen.add(Fiber.current().name() + " caught " + e.getMessage());
            throw new SomeError("raised by " + Fiber.current().name());
        }
        throw new SomeError("raised by " + Fiber.current().name());
    }

    /** The reassigned parent catches the exception and returns; its value reaches main. */
    @Test
    void reassignedParentCatchesAndReturnsToItsOwnParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber p = new Fiber(() -> {
                    try {
                        out.add("p got " + main.switchTo("p ready"));
                        return "p normal exit";
                    } catch (SomeError e) {
                        return "p caught " + e.getMessage();
                    }
                });
                out.add("main got " + p.switchTo());
                Fiber child = new Fiber(() -> {
                    out.add("child runs");
                    throw new SomeError("boom");
                });
                child.parent(p);
                out.add("main got " + child.switchTo());
                out.add("p " + p.state() + ", child " + child.state());
                return out;
            });
            assertEquals(List.of("main got p ready", "child runs", "main got p caught boom", "p ENDED, child ENDED"), events);
        }
    }

    /** python-fibers' test_send_exception: a crasher whose parent is g1 raises into g1. */
    @Test
    void sendExceptionThroughCrasherChild() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> seen = new ArrayList<>();
                Fiber g1 = new Fiber(() -> fmain(seen)).name("g1");
                g1.switchTo();
                Fiber crasher = new Fiber(() -> {
                    throw new SomeError("key");
                }, g1);
                assertSame(g1, crasher.parent());
                SomeError e = assertThrows(SomeError.class, crasher::switchTo);
                seen.add("main caught " + e.getMessage());
                return seen;
            });
            assertEquals(List.of("g1 caught key", "main caught raised by g1"), events);
        }
    }

    /** A parent that has ended is skipped: the exception goes to the nearest live ancestor. */
    @Test
    void endedParentIsSkipped() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber[] grandchild = new Fiber[1];
                Fiber child = new Fiber(() -> {
                    grandchild[0] = new Fiber(() -> {
                        out.add("grandchild got " + main.switchTo("gc ready"));
                        throw new SomeError("from grandchild");
                    });
                    return grandchild[0].switchTo();
                });
                // child starts grandchild, which switches straight to main; child stays suspended.
                out.add("main got " + child.switchTo());
                // Resume child with a value: it returns it and ends; its parent main receives it.
                out.add("main got " + child.switchTo("child's value"));
                assertSame(child, grandchild[0].parent());
                try {
                    grandchild[0].switchTo("go");
                    out.add("no exception");
                } catch (SomeError e) {
                    out.add("main caught " + e.getMessage());
                }
                return out;
            });
            assertEquals(List.of("main got gc ready", "main got child's value", "grandchild got go", "main caught from grandchild"), events);
        }
    }

    // ------------------------------------------------------------------ throwInto (test_throw.py)

    private static Object switchToParent(Object v) {
        return Fiber.current().parent().switchTo(v);
    }

    /** test_class / test_val: raised at the suspension point, caught, and the fiber switches back. */
    @Test
    void throwIntoSuspendedFiberIsRaisedAtItsSwitch() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber g = new Fiber(() -> {
                    try {
                        switchToParent("ok");
                    } catch (SomeError e) {
                        out.add("g caught " + e.getMessage() + " in " + Fiber.current().name());
                        switchToParent("ok after catch");
                        return;
                    }
                    switchToParent("fail");
                }).name("g");
                out.add("main got " + g.switchTo());
                out.add("main got " + g.throwInto(new SomeError("ciao")));
                out.add("g " + g.state());
                g.switchTo();
                out.add("g " + g.state());
                return out;
            });
            assertEquals(List.of("main got ok", "g caught ciao in g", "main got ok after catch", "g SUSPENDED", "g ENDED"), events);
        }
    }

    /** test_kill: the fiber catches the exception and returns it; it ends. */
    @Test
    void throwIntoKillsFiberThatReturnsTheException() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                Fiber g = new Fiber(() -> {
                    try {
                        switchToParent("ok");
                        switchToParent("fail");
                        return "not killed";
                    } catch (RuntimeException e) {
                        return e;
                    }
                });
                assertEquals("ok", g.switchTo());
                IllegalArgumentException sent = new IllegalArgumentException("kill");
                Object res = g.throwInto(sent);
                assertSame(sent, res);
                assertFalse(g.isAlive());
                assertEquals(State.ENDED, g.state());
                return null;
            });
        }
    }

    /** An uncaught exception thrown into a suspended fiber comes back to the thrower (its parent). */
    @Test
    void uncaughtThrowIntoPropagatesToParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber g = new Fiber(() -> {
                    try {
                        switchToParent("ready");
                    } finally {
                        out.add("g finally");
                    }
                    out.add("g not reached");
                });
                g.switchTo();
                SomeError sent = new SomeError("uncaught");
                SomeError back = assertThrows(SomeError.class, () -> g.throwInto(sent));
                assertSame(sent, back);
                out.add("main caught " + back.getMessage() + ", g " + g.state());
                return out;
            });
            assertEquals(List.of("g finally", "main caught uncaught, g ENDED"), events);
        }
    }

    /** throwInto an unstarted fiber whose parent is the caller: raised in the caller; the target never runs. */
    @Test
    void throwIntoUnstartedFiberRaisesInCallerParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber g = new Fiber(() -> {
                    out.add("g ran");
                });
                SomeError sent = new SomeError("never started");
                SomeError back = assertThrows(SomeError.class, () -> g.throwInto(sent));
                assertSame(sent, back);
                out.add("main caught " + back.getMessage() + ", g " + g.state() + " alive=" + g.isAlive());
                FiberError again = assertThrows(FiberError.class, g::switchTo);
                out.add("switch after: " + again.getMessage());
                return out;
            });
            assertEquals(2, events.size(), events.toString());
            assertEquals("main caught never started, g ENDED alive=false", events.get(0));
            assertTrue(events.get(1).contains("has ended"), events.get(1));
        }
    }

    /**
     * test_throw_goes_to_original_parent: g2 (unstarted) has parent g1 (unstarted). Throwing into g2
     * skips g1, which never started, and raises in main; g1 is untouched.
     */
    @Test
    void throwIntoUnstartedSkipsUnstartedParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber g1 = new Fiber(() -> f1(main, out)).name("g1");
                Fiber g2 = new Fiber(() -> main.switchTo("from f2"), g1).name("g2");
                assertThrows(IndexOutOfBoundsException.class, () -> g2.throwInto(new IndexOutOfBoundsException("idx")));
                out.add("g2 " + g2.state() + " alive=" + g2.isAlive());
                out.add("g1 " + g1.state() + " alive=" + g1.isAlive());
                return out;
            });
            assertEquals(List.of("g2 ENDED alive=false", "g1 NEW alive=true"), events);
        }
    }

    private static String f1(Fiber main, List<String> out) {
        try {
            main.switchTo("f1 ready to catch");
        } catch (IndexOutOfBoundsException e) {
            out.add("f1 caught " + e.getMessage());
            return "caught";
        }
        return "normal exit";
    }

    /** test_throw_goes_to_original_parent2: the unstarted g2's exception goes to its suspended parent g1. */
    @Test
    void throwIntoUnstartedGoesToSuspendedParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber g1 = new Fiber(() -> f1(main, out)).name("g1");
                Fiber g2 = new Fiber(() -> {
                    out.add("g2 ran");
                    return main.switchTo("from f2");
                }, g1).name("g2");
                out.add("main got " + g1.switchTo());
                out.add("main got " + g2.throwInto(new IndexOutOfBoundsException("idx")));
                out.add("g1 " + g1.state() + ", g2 " + g2.state());
                return out;
            });
            assertEquals(List.of("main got f1 ready to catch", "f1 caught idx", "main got caught", "g1 ENDED, g2 ENDED"), events);
        }
    }

    /** test_throw_goes_to_original_parent3: g2 started; the exception is raised in it, escapes, and goes to g1. */
    @Test
    void throwIntoStartedChildEscapesToItsParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber g1 = new Fiber(() -> f1(main, out)).name("g1");
                Fiber g2 = new Fiber(() -> main.switchTo("from f2"), g1).name("g2");
                out.add("main got " + g1.switchTo());
                out.add("main got " + g2.switchTo());
                out.add("main got " + g2.throwInto(new IndexOutOfBoundsException("idx")));
                out.add("g1 " + g1.state() + ", g2 " + g2.state());
                return out;
            });
            assertEquals(List.of("main got f1 ready to catch", "main got from f2", "f1 caught idx", "main got caught", "g1 ENDED, g2 ENDED"), events);
        }
    }

    /** throwInto an unstarted fiber from a sibling: the exception goes to the parent, suspended in switchTo. */
    @Test
    void throwIntoUnstartedFromOtherFiberRaisesInSuspendedParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber target = new Fiber(() -> {
                    out.add("target ran");
                }).name("target");
                Fiber thrower = new Fiber(() -> {
                    out.add("thrower throws");
                    Object back = target.throwInto(new SomeError("to target"));
                    out.add("thrower resumed with " + back);
                    return "thrower done";
                }).name("thrower");
                try {
                    thrower.switchTo();
                    out.add("main: no exception");
                } catch (SomeError e) {
                    out.add("main caught " + e.getMessage() + ", target " + target.state() + ", thrower " + thrower.state());
                }
                // The thrower is suspended in throwInto; resume it and let it finish.
                out.add("main got " + thrower.switchTo("resume"));
                return out;
            });
            assertEquals(List.of(
                    "thrower throws",
                    "main caught to target, target ENDED, thrower SUSPENDED",
                    "thrower resumed with resume",
                    "main got thrower done"), events);
        }
    }

    /** An unstarted fiber whose parent is ended: the exception goes on up to the parent's parent. */
    @Test
    void throwIntoUnstartedWithEndedParentGoesToGrandparent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber[] orphan = new Fiber[1];
                Fiber p = new Fiber(() -> {
                    orphan[0] = new Fiber(() -> out.add("orphan ran"));
                    return "p done";
                });
                out.add("main got " + p.switchTo());
                assertSame(p, orphan[0].parent());
                Fiber thrower = new Fiber(() -> {
                    orphan[0].throwInto(new SomeError("to orphan"));
                    out.add("thrower resumed");
                });
                try {
                    thrower.switchTo();
                    out.add("main: no exception");
                } catch (SomeError e) {
                    out.add("main caught " + e.getMessage() + ", orphan " + orphan[0].state());
                }
                assertSame(main, Fiber.current());
                return out;
            });
            assertEquals(List.of("main got p done", "main caught to orphan, orphan ENDED"), events);
        }
    }
}
