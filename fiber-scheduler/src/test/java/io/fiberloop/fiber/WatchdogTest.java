package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.StallReport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The loop's watchdog reports a fiber that holds the carrier too long, naming it and its stack. */
@Timeout(20)
class WatchdogTest {
    private static final Duration THRESHOLD = Duration.ofMillis(50);
    private static final Object MONITOR = new Object();

    /** Busy-spins at least {@code min} of real time and until a stall has been reported (at most 10 s). */
    static void spinUntilReported(List<StallReport> reports, Duration min) {
        long start = System.nanoTime();
        long minEnd = start + min.toNanos();
        long maxEnd = start + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            long now = System.nanoTime();
            if (now >= maxEnd || now >= minEnd && reports.stream().anyMatch(r -> r.running() != null && r.running().contains("spin"))) {
                return;
            }
            Thread.onSpinWait();
        }
    }

    static void spinInsideSynchronized(List<StallReport> reports, Duration min) {
        synchronized (MONITOR) {
            spinUntilReported(reports, min);
        }
    }

    private static EventLoop watchedLoop(List<StallReport> reports) {
        return FiberLoops.builder().watchdog(THRESHOLD).onStall(reports::add).build();
    }

    /** The reports about {@code fiberName} (a loaded machine may also report an unrelated slow start-up). */
    private static List<StallReport> reportsAbout(List<StallReport> reports, String fiberName) {
        return reports.stream().filter(r -> r.running() != null && r.running().startsWith("Fiber[" + fiberName + ", ")).toList();
    }

    private static void assertReportNames(List<StallReport> reports, EventLoop loop, String fiberName, String method) {
        List<StallReport> mine = reportsAbout(reports, fiberName);
        assertEquals(1, mine.size(), () -> "one stall, one report; got: " + reports.stream().map(StallReport::describe).toList());
        StallReport r = mine.get(0);
        assertEquals(loop.name(), r.loopName());
        assertTrue(r.stalledFor().compareTo(THRESHOLD) >= 0, r::describe);
        assertTrue(r.running().startsWith("Fiber[" + fiberName + ", RUNNING]"), r::describe);
        assertTrue(r.running().contains("at io.fiberloop.fiber.WatchdogTest." + method + "("), r::describe);
        assertTrue(r.describe().contains(fiberName), r::describe);
        assertTrue(loop.stats().stalls() >= 1);
    }

    @Test
    void aBusySpinningFiberIsReportedWithItsNameAndStack() throws Exception {
        List<StallReport> reports = new CopyOnWriteArrayList<>();
        try (EventLoop loop = watchedLoop(reports)) {
            loop.run(() -> Fibers.spawn("spinner", () -> {
                spinUntilReported(reports, Duration.ofMillis(300));
                return null;
            }).join());
            assertReportNames(reports, loop, "spinner", "spinUntilReported");
        }
    }

    @Test
    void aFiberSpinningInsideASynchronizedBlockIsReported() throws Exception {
        List<StallReport> reports = new CopyOnWriteArrayList<>();
        try (EventLoop loop = watchedLoop(reports)) {
            loop.run(() -> Fibers.spawn("pinned-spinner", () -> {
                spinInsideSynchronized(reports, Duration.ofMillis(300));
                return null;
            }).join());
            assertReportNames(reports, loop, "pinned-spinner", "spinInsideSynchronized");
        }
    }

    /** Class initialisation pins a virtual thread: a blocking call inside it holds the carrier. */
    static final List<StallReport> INIT_REPORTS = new CopyOnWriteArrayList<>();
    static final CountDownLatch INIT_REPORTED = new CountDownLatch(1);

    /** Initialised by the first fiber that touches it (the test class must not touch it first). */
    static final class SlowInit {
        static final String VALUE;

        static {
            // a wait inside <clinit> parks pinned: the carrier itself blocks until the watchdog reports it
            try {
                INIT_REPORTED.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new ExceptionInInitializerError(e);
            }
            VALUE = "initialised";
        }
    }

    @Test
    void aFiberPinnedByClassInitialisationIsReported() throws Exception {
        List<StallReport> reports = INIT_REPORTS;
        try (EventLoop loop = FiberLoops.builder().watchdog(THRESHOLD).onStall(r -> {
            reports.add(r);
            if (r.running() != null && r.running().startsWith("Fiber[class-init, ")) {
                INIT_REPORTED.countDown();
            }
        }).build()) {
            String v = loop.run(() -> Fibers.spawn("class-init", () -> SlowInit.VALUE).join());
            assertEquals("initialised", v);
            List<StallReport> mine = reportsAbout(reports, "class-init");
            assertEquals(1, mine.size(), () -> "got: " + reports.stream().map(StallReport::describe).toList());
            StallReport r = mine.get(0);
            assertTrue(r.running().contains("WatchdogTest$SlowInit.<clinit>"), r::describe);
        }
    }

    @Test
    void aFiberThatSuspendsIsNeverReported() throws Exception {
        List<StallReport> reports = new CopyOnWriteArrayList<>();
        try (EventLoop loop = watchedLoop(reports)) {
            loop.run(() -> {
                Task<Void> t = Fibers.spawn("sleeper", () -> {
                    Fibers.sleep(Duration.ofMillis(200)); // real time: the loop is idle meanwhile
                    return null;
                });
                t.join();
                return null;
            });
            assertEquals(List.of(), reportsAbout(reports, "sleeper"));
            assertEquals(List.of(), reportsAbout(reports, "main"));
        }
    }
}
