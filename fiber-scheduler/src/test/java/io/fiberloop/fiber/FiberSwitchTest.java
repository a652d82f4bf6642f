package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.Fiber.State;
import io.fiberloop.loop.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Explicit switching, ported from python-fibers' {@code test_fibers.py}: values passed both ways,
 * {@code Fiber.current()}, {@code isAlive}, states and names, two interleaved children, and
 * recursive children.
 */
@Timeout(20)
class FiberSwitchTest {

    @Test
    void switchingBackAndForthPassesValuesBothWays() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<Object> events = loop.run(() -> {
                List<Object> out = new ArrayList<>();
                Fiber main = Fiber.current();
                AtomicReference<Fiber> childRef = new AtomicReference<>();
                Fiber child = new Fiber(() -> {
                    Fiber me = Fiber.current();
                    out.add("child: current is child " + (me == childRef.get()));
                    out.add("child: " + me.state() + " alive=" + me.isAlive() + ", main " + main.state() + " alive=" + main.isAlive());
                    out.add("child: got " + main.switchTo("to main 1"));
                    out.add("child: current is still child " + (Fiber.current() == me));
                    out.add("child: got " + main.switchTo("to main 2"));
                    return "child result";
                });
                childRef.set(child);
                child.name("kid");
                out.add("main: current is main " + (Fiber.current() == main) + ", " + main.state());
                out.add("main: parent of kid is main " + (child.parent() == main));
                out.add("main: " + child + " alive=" + child.isAlive());
                out.add("main: got " + child.switchTo());
                out.add("main: " + child + " alive=" + child.isAlive());
                out.add("main: got " + child.switchTo("to child 1"));
                out.add("main: got " + child.switchTo("to child 2"));
                out.add("main: " + child + " alive=" + child.isAlive());
                out.add("main: current is main " + (Fiber.current() == main));
                return out;
            });
            assertEquals(List.of(
                    "main: current is main true, RUNNING",
                    "main: parent of kid is main true",
                    "main: Fiber[kid, NEW] alive=true",
                    "child: current is child true",
                    "child: RUNNING alive=true, main SUSPENDED alive=true",
                    "main: got to main 1",
                    "main: Fiber[kid, SUSPENDED in switchTo] alive=true",
                    "child: got to child 1",
                    "child: current is still child true",
                    "main: got to main 2",
                    "child: got to child 2",
                    "main: got child result",
                    "main: Fiber[kid, ENDED] alive=false",
                    "main: current is main true"), events);
        }
    }

    @Test
    void typedSwitchesCheckTheValueHandedBack() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber child = new Fiber(() -> {
                    String got = main.switchToAs(1, String.class);   // hands main an Integer
                    out.add("child got " + got.toUpperCase());
                    main.switchTo(2.5);                               // a Double, where main expects an Integer
                    return null;
                });
                Integer first = child.switchToAs(Integer.class);
                out.add("main got " + (first + 1));
                ClassCastException e = assertThrows(ClassCastException.class, () -> child.switchToAs("ping", Integer.class));
                assertTrue(e.getMessage().startsWith("switchToAs(Integer.class): " + main) && e.getMessage().contains("java.lang.Double"),
                        e.getMessage());
                assertNull(child.switchToAs(Integer.class), "null passes: the child ends and hands over null");
                IllegalArgumentException primitive = assertThrows(IllegalArgumentException.class, () -> child.switchToAs(int.class));
                assertTrue(primitive.getMessage().contains("Integer.class"), primitive.getMessage());
                return out;
            });
            assertEquals(List.of("main got 2", "child got PING"), events);
        }
    }

    @Test
    void mainSeesItselfRunningAndChildSeesMainSuspendedInSwitch() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current().name("root");
                out.add(main.toString());
                Fiber child = new Fiber(() -> {
                    out.add(main.toString());
                    out.add(Fiber.current().toString());
                });
                child.name("c");
                Object v = child.switchTo();
                out.add("runnable target returned " + v);
                out.add(child.toString());
                return out;
            });
            assertEquals(List.of(
                    "Fiber[root, RUNNING]",
                    "Fiber[root, SUSPENDED in switchTo]",
                    "Fiber[c, RUNNING]",
                    "runnable target returned null",
                    "Fiber[c, ENDED]"), events);
        }
    }

    @Test
    void generatedNamesAreUniqueAndShownByToString() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            loop.run(() -> {
                Fiber a = new Fiber(() -> { });
                Fiber b = new Fiber(() -> { });
                assertTrue(a.name().startsWith("fiber-"), a.name());
                assertNotEquals(a.name(), b.name());
                assertEquals("Fiber[" + a.name() + ", NEW]", a.toString());
                assertSame(loop, a.loop());
                return null;
            });
        }
    }

    /** python-fibers' test_simple: the child switches to its parent and is resumed. */
    @Test
    void simpleSwitchToParent() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<Integer> lst = loop.run(() -> {
                List<Integer> out = new ArrayList<>();
                Fiber g = new Fiber(() -> {
                    out.add(1);
                    Fiber.current().parent().switchTo();
                    out.add(3);
                });
                out.add(0);
                g.switchTo();
                out.add(2);
                g.switchTo();
                out.add(4);
                assertEquals(State.ENDED, g.state());
                return out;
            });
            assertEquals(List.of(0, 1, 2, 3, 4), lst);
        }
    }

    /** python-fibers' test_two_children, with the exact interleaving. */
    @Test
    void twoChildrenInterleave() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber f1 = new Fiber(() -> {
                    for (int i = 1; i <= 3; i++) {
                        out.add("f1." + i + " got " + main.switchTo("f1." + i));
                    }
                    return "f1 done";
                });
                Fiber f2 = new Fiber(() -> {
                    for (int i = 1; i <= 3; i++) {
                        out.add("f2." + i + " got " + main.switchTo("f2." + i));
                    }
                    return "f2 done";
                });
                out.add("main got " + f1.switchTo());
                out.add("main got " + f2.switchTo());
                for (int round = 1; round <= 3; round++) {
                    out.add("main got " + f1.switchTo("m" + round + "->f1"));
                    out.add("main got " + f2.switchTo("m" + round + "->f2"));
                }
                out.add("alive " + f1.isAlive() + " " + f2.isAlive());
                return out;
            });
            assertEquals(List.of(
                    "main got f1.1",
                    "main got f2.1",
                    "f1.1 got m1->f1",
                    "main got f1.2",
                    "f2.1 got m1->f2",
                    "main got f2.2",
                    "f1.2 got m2->f1",
                    "main got f1.3",
                    "f2.2 got m2->f2",
                    "main got f2.3",
                    "f1.3 got m3->f1",
                    "main got f1 done",
                    "f2.3 got m3->f2",
                    "main got f2 done",
                    "alive false false"), events);
        }
    }

    /** python-fibers' test_two_children, literally: the second child ends before the first. */
    @Test
    void twoChildrenEndInEitherOrder() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Runnable f = () -> {
                    out.add(Fiber.current().name() + " 1");
                    Fiber.current().parent().switchTo();
                    out.add(Fiber.current().name() + " 2");
                };
                Fiber g = new Fiber(f).name("g");
                Fiber h = new Fiber(f).name("h");
                g.switchTo();
                h.switchTo();
                h.switchTo();
                out.add("h alive " + h.isAlive());
                g.switchTo();
                out.add("g alive " + g.isAlive());
                return out;
            });
            assertEquals(List.of("g 1", "h 1", "h 2", "h alive false", "g 2", "g alive false"), events);
        }
    }

    /** python-fibers' test_two_recursive_children. */
    @Test
    void twoRecursiveChildren() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber g = new Fiber(() -> {
                    out.add("h start");
                    Fiber i = new Fiber(() -> {
                        out.add("f start");
                        Fiber.current().parent().switchTo();
                        out.add("f never resumed");
                    });
                    i.switchTo();
                    out.add("h after f switched to its parent (h)");
                });
                g.switchTo();
                out.add("main after g ended: " + g.state());
                return out;
            });
            assertEquals(List.of("h start", "f start", "h after f switched to its parent (h)", "main after g ended: ENDED"), events);
        }
    }

    /** Each fiber creates a child and starts it, down to depth 10; results propagate up. */
    @Test
    void recursiveChildrenDepthTen() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = new ArrayList<>();
            Object result = loop.run(() -> nest(1, 10, events));
            assertEquals("10<9<8<7<6<5<4<3<2<1", result);
            List<String> expected = new ArrayList<>();
            for (int d = 1; d <= 10; d++) {
                expected.add("enter " + d);
            }
            for (int d = 10; d >= 1; d--) {
                expected.add("leave " + d);
            }
            assertEquals(expected, events);
        }
    }

    private static Object nest(int depth, int max, List<String> events) {
        events.add("enter " + depth);
        Fiber me = Fiber.current();
        Object below;
        if (depth < max) {
            Fiber child = new Fiber(() -> nest(depth + 1, max, events));
            assertSame(me, child.parent());
            below = child.switchTo();
            assertFalse(child.isAlive());
            assertSame(me, Fiber.current());
        } else {
            below = null;
        }
        events.add("leave " + depth);
        return below == null ? String.valueOf(depth) : below + "<" + depth;
    }

    /** A child switches to a sibling rather than to its parent; the sibling's end goes to its own parent. */
    @Test
    void childrenSwitchAmongThemselves() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Fiber main = Fiber.current();
                Fiber[] b = new Fiber[1];
                Fiber a = new Fiber(() -> {
                    out.add("a got " + b[0].switchTo());
                    return "a done";
                });
                b[0] = new Fiber(() -> {
                    out.add("b got " + main.switchTo("b to main"));
                    out.add("b got " + a.switchTo("b to a"));
                    return "never";
                });
                out.add("main got " + a.switchTo());
                // a is suspended in b.switchTo(); b in main.switchTo(). Resume b, which resumes a, which ends.
                out.add("main got " + b[0].switchTo("main to b"));
                out.add("a " + a.state() + ", b " + b[0].state());
                return out;
            });
            assertEquals(List.of(
                    "main got b to main",
                    "b got main to b",
                    "a got b to a",
                    "main got a done",
                    "a ENDED, b SUSPENDED"), events);
        }
    }
}
