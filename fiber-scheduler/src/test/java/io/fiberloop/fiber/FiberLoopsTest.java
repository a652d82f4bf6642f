package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopGroup;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Asking for fibers is explicit: {@link FiberLoops} builds loops that host fibers, and a loop from
 * {@link EventLoop#create()} hosts none, even with this module on the class path (nothing is
 * discovered through a service loader).
 */
@Timeout(20)
class FiberLoopsTest {

    @Test
    void aFiberLoopRunsMainInAFiber() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            assertTrue(FiberLoops.hostsFibers(loop));
            String r = loop.run(() -> {
                Fiber me = Fiber.current();
                return me.state() + " on a virtual thread: " + Thread.currentThread().isVirtual()
                        + ", spawned: " + Fibers.spawn(() -> "ok").join();
            });
            assertEquals("RUNNING on a virtual thread: true, spawned: ok", r);
        }
        assertThrows(NullPointerException.class, () -> FiberLoops.hostsFibers(null));
    }

    @Test
    void aPlainLoopHostsNoFibersAndSaysWhereToGetOne() throws Exception {
        try (EventLoop loop = EventLoop.create()) {
            assertFalse(FiberLoops.hostsFibers(loop));
            String r = loop.run(() -> "fiber " + Fiber.currentOrNull() + ", virtual " + Thread.currentThread().isVirtual()
                    + ", carrier " + Thread.currentThread().getName().equals(loop.name()));
            assertEquals("fiber null, virtual false, carrier true", r);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Fibers.spawn(loop, () -> "x"));
            assertTrue(e.getMessage().contains("does not host fibers") && e.getMessage().contains("FiberLoops.newLoop()"), e.getMessage());
            IllegalStateException inMain = loop.run(() -> assertThrows(IllegalStateException.class, () -> Fibers.spawn(() -> "x")));
            assertTrue(inMain.getMessage().contains("FiberLoops"), inMain.getMessage());
        }
    }

    @Test
    void liveTasksCountsTheTasksStartedAndNotEnded() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            assertEquals(0, FiberLoops.liveTasks(loop));
            String r = loop.run(() -> {
                Task<Void> a = Fibers.spawn(() -> {
                    Fibers.sleep(java.time.Duration.ofDays(1));
                    return null;
                });
                Task<Void> b = Fibers.spawn(() -> {
                    Fibers.sleep(java.time.Duration.ofDays(1));
                    return null;
                });
                Fibers.yieldNow();
                int both = FiberLoops.liveTasks(loop);
                a.cancel();
                Fibers.awaitAllSettled(java.util.List.of(a));
                int one = FiberLoops.liveTasks(loop);
                b.cancel();
                Fibers.awaitAllSettled(java.util.List.of(b));
                return both + " " + one + " " + FiberLoops.liveTasks(loop);
            });
            assertEquals("3 2 1", r, "main's own task, then the two sleepers, one by one");
        }
        try (EventLoop plain = EventLoop.create()) {
            assertEquals(0, FiberLoops.liveTasks(plain));
        }
    }

    @Test
    void aGroupOfFiberLoops() throws Exception {
        try (LoopGroup group = FiberLoops.newGroup(2, b -> b.name("fibers-" + System.identityHashCode(b)))) {
            for (EventLoop loop : group) {
                assertTrue(FiberLoops.hostsFibers(loop), loop.toString());
                assertTrue(loop.name().startsWith("fibers-"), loop.name());
                assertEquals(loop.name(), Fibers.spawn(loop, () -> EventLoop.current().name()).get(10, TimeUnit.SECONDS));
            }
        }
    }
}
