package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.Fiber.State;
import io.fiberloop.loop.EventLoop;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Garbage collection, ported from python-fibers' {@code test_gc.py}: a fiber that becomes
 * unreachable is collected whatever its state, and a suspended one is never resumed to be
 * collected (its {@code finally} blocks do not run). Relies on {@code -Djdk.trackAllThreads=false},
 * which the build's surefire configuration sets.
 *
 * <p>Each fiber is created in a separate method, so that no frame of the test keeps a strong
 * reference to it; the test holds only weak references.
 */
@Timeout(60)
class FiberGcTest {

    @BeforeAll
    static void trackAllThreadsIsOff() {
        assertEquals("false", System.getProperty("jdk.trackAllThreads"),
                "these tests need -Djdk.trackAllThreads=false (set in the parent pom's surefire argLine)");
    }

    private static volatile Object sink;

    /** Runs System.gc() up to 50 times, with a small allocation in between, until all are cleared. */
    private static boolean collected(WeakReference<?>... refs) {
        for (int round = 0; round < 50; round++) {
            boolean all = true;
            for (WeakReference<?> r : refs) {
                if (r.get() != null) {
                    all = false;
                    break;
                }
            }
            if (all) {
                return true;
            }
            System.gc();
            sink = new byte[64 * 1024];
        }
        for (WeakReference<?> r : refs) {
            if (r.get() != null) {
                return false;
            }
        }
        return true;
    }

    private static EventLoop newLoop() {
        // System.gc() runs on the carrier; keep the watchdog from reporting it as a stall.
        return FiberLoops.builder().watchdog(Duration.ofSeconds(30)).build();
    }

    // ------------------------------------------------------------------ suspended

    /** A child that switched back to main and is never resumed; refs to the fiber and its thread. */
    private static List<WeakReference<Object>> suspendedChild(AtomicBoolean finallyRan, List<String> events) {
        Fiber main = Fiber.current();
        Fiber child = new Fiber(() -> {
            byte[] payload = new byte[1024];
            try {
                events.add("child suspends");
                main.switchTo("suspended " + payload.length);
                events.add("child resumed");
            } finally {
                finallyRan.set(true);
            }
        });
        events.add("main got " + child.switchTo());
        assertEquals(State.SUSPENDED, child.state());
        assertNotNull(child.strand.thread());
        return List.of(new WeakReference<>(child), new WeakReference<>(child.strand.thread()));
    }

    @Test
    void unreachableSuspendedFiberIsCollectedWithoutRunningFinally() throws Exception {
        AtomicBoolean finallyRan = new AtomicBoolean();
        List<String> events = new ArrayList<>();
        try (EventLoop loop = newLoop()) {
            boolean gone = loop.run(() -> {
                List<WeakReference<Object>> refs = suspendedChild(finallyRan, events);
                boolean c = collected(refs.toArray(new WeakReference<?>[0]));
                events.add("collected " + c + ", finally ran " + finallyRan.get());
                return c;
            });
            assertTrue(gone, "the suspended fiber (or its virtual thread) was not garbage collected");
        }
        // closing the loop did not resume it either
        assertFalse(finallyRan.get(), "the finally block of a collected fiber ran");
        assertEquals(List.of("child suspends", "main got suspended 1024", "collected true, finally ran false"), events);
    }

    /** Several suspended fibers, each nested inside the one before (a chain of parents). */
    private static List<WeakReference<Object>> suspendedChain(int n, AtomicBoolean finallyRan) {
        Fiber main = Fiber.current();
        List<WeakReference<Object>> refs = new ArrayList<>();
        Fiber top = new Fiber(() -> descend(1, n, main, finallyRan, refs));
        assertEquals("bottom", top.switchTo());
        refs.add(new WeakReference<>(top));
        return refs;
    }

    private static void descend(int depth, int n, Fiber main, AtomicBoolean finallyRan, List<WeakReference<Object>> refs) {
        try {
            refs.add(new WeakReference<>(Fiber.current().strand.thread()));
            if (depth == n) {
                main.switchTo("bottom");
            } else {
                Fiber child = new Fiber(() -> descend(depth + 1, n, main, finallyRan, refs));
                refs.add(new WeakReference<>(child));
                child.switchTo();
            }
        } finally {
            finallyRan.set(true);
        }
    }

    @Test
    void unreachableChainOfSuspendedFibersIsCollected() throws Exception {
        AtomicBoolean finallyRan = new AtomicBoolean();
        try (EventLoop loop = newLoop()) {
            int[] count = new int[1];
            boolean gone = loop.run(() -> {
                List<WeakReference<Object>> refs = suspendedChain(10, finallyRan);
                count[0] = refs.size();
                return collected(refs.toArray(new WeakReference<?>[0]));
            });
            assertEquals(20, count[0]);
            assertTrue(gone, "a chain of suspended fibers was not garbage collected");
        }
        assertFalse(finallyRan.get());
    }

    // ------------------------------------------------------------------ cycles

    /** Two fibers that reference each other, both suspended (test_circular_fiber, with live fibers). */
    private static List<WeakReference<Object>> suspendedCycle(AtomicBoolean finallyRan) {
        Fiber main = Fiber.current();
        Fiber[] pair = new Fiber[2];
        pair[0] = new Fiber(() -> {
            Fiber other = pair[1];
            try {
                main.switchTo("first suspended");
                other.switchTo();
            } finally {
                finallyRan.set(true);
            }
        });
        pair[1] = new Fiber(() -> {
            Fiber other = pair[0];
            try {
                main.switchTo("second suspended");
                other.switchTo();
            } finally {
                finallyRan.set(true);
            }
        });
        assertEquals("first suspended", pair[0].switchTo());
        assertEquals("second suspended", pair[1].switchTo());
        pair[1].parent(pair[0]);
        return List.of(new WeakReference<>(pair[0]), new WeakReference<>(pair[1]),
                new WeakReference<>(pair[0].strand.thread()), new WeakReference<>(pair[1].strand.thread()));
    }

    @Test
    void suspendedFibersInAReferenceCycleAreCollected() throws Exception {
        AtomicBoolean finallyRan = new AtomicBoolean();
        try (EventLoop loop = newLoop()) {
            boolean gone = loop.run(() -> collected(suspendedCycle(finallyRan).toArray(new WeakReference<?>[0])));
            assertTrue(gone, "two suspended fibers referencing each other were not garbage collected");
        }
        assertFalse(finallyRan.get());
    }

    /** A never-started fiber that references itself through its target (test_circular_fiber). */
    private static WeakReference<Object> selfReferencingNewFiber() {
        Fiber[] self = new Fiber[1];
        self[0] = new Fiber(() -> self[0].name());
        assertEquals(State.NEW, self[0].state());
        return new WeakReference<>(self[0]);
    }

    // ------------------------------------------------------------------ never started, ended

    /** test_inactive_ref. */
    private static WeakReference<Object> neverStarted() {
        Fiber f = new Fiber(() -> { });
        assertEquals(State.NEW, f.state());
        return new WeakReference<>(f);
    }

    @Test
    void neverStartedFibersAreCollected() throws Exception {
        try (EventLoop loop = newLoop()) {
            boolean gone = loop.run(() -> collected(neverStarted(), selfReferencingNewFiber()));
            assertTrue(gone, "a never-started fiber was not garbage collected");
        }
    }

    /** test_dead_circular_ref: a fiber that ended (returning the current fiber, as in the Python test). */
    private static List<WeakReference<Object>> finished() {
        Fiber f = new Fiber(() -> Fiber.current());
        Object result = f.switchTo();
        assertSame(f, result);
        assertEquals(State.ENDED, f.state());
        Fiber thrown = new Fiber(() -> {
            throw new IllegalStateException("ended by an exception");
        });
        assertThrows(IllegalStateException.class, thrown::switchTo);
        return List.of(new WeakReference<>(f), new WeakReference<>(f.strand.thread()), new WeakReference<>(thrown),
                new WeakReference<>(thrown.strand.thread()));
    }

    @Test
    void finishedFibersAreCollected() throws Exception {
        try (EventLoop loop = newLoop()) {
            boolean gone = loop.run(() -> collected(finished().toArray(new WeakReference<?>[0])));
            assertTrue(gone, "a finished fiber was not garbage collected");
        }
    }

    /** A suspended fiber whose thread the test does not look at, abandoned in bulk: all are collected. */
    private static List<WeakReference<Object>> manySuspended(int n, AtomicBoolean finallyRan) {
        Fiber main = Fiber.current();
        List<WeakReference<Object>> refs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Fiber f = new Fiber(() -> {
                try {
                    main.switchTo();
                } finally {
                    finallyRan.set(true);
                }
            });
            f.switchTo();
            refs.add(new WeakReference<>(f));
        }
        return refs;
    }

    @Test
    void manyAbandonedSuspendedFibersAreCollected() throws Exception {
        AtomicBoolean finallyRan = new AtomicBoolean();
        try (EventLoop loop = newLoop()) {
            boolean gone = loop.run(() -> collected(manySuspended(1000, finallyRan).toArray(new WeakReference<?>[0])));
            assertTrue(gone, "abandoned suspended fibers were not garbage collected");
        }
        assertFalse(finallyRan.get());
    }
}
