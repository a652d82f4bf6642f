package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.await;
import static io.fiberloop.loop.TestLoops.busySpin;
import static io.fiberloop.loop.TestLoops.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The watchdog reports work that holds the carrier, and only that. */
@Timeout(20)
class WatchdogTest {
    private static final Duration THRESHOLD = Duration.ofMillis(50);
    private static final Duration SLOW = Duration.ofMillis(300);

    @Test
    void aSlowTaskIsReportedWithTheLoopsNameAndTheCarriersStack() throws Exception {
        List<StallReport> reports = new CopyOnWriteArrayList<>();
        CompletableFuture<StallReport> first = new CompletableFuture<>();
        try (EventLoop loop = EventLoop.builder().name("watched").watchdog(THRESHOLD)
                .onStall(r -> {
                    reports.add(r);
                    first.complete(r);
                })
                .build()) {
            CountDownLatch spun = new CountDownLatch(1);
            loop.execute(() -> {
                busySpin(SLOW);
                spun.countDown();
            });
            StallReport r = await(first);
            assertTrue(spun.await(10, TimeUnit.SECONDS));
            assertEquals("watched", r.loopName());
            assertTrue(r.stalledFor().compareTo(THRESHOLD) >= 0, "reported after " + r.stalledFor());
            assertTrue(r.carrierStack().stream().anyMatch(f -> f.getClassName().startsWith(WatchdogTest.class.getName())
                            && f.getMethodName().contains("aSlowTaskIsReportedWithTheLoopsNameAndTheCarriersStack")),
                    "the carrier stack should show the slow task's frame: " + r.carrierStack());
            assertTrue(r.describe().contains("watched"), r.describe());
            assertEquals(1, reports.size(), "one stall, one report: " + reports);
            assertEquals(1L, onLoop(loop, () -> loop.stats().stalls()));
        }
    }

    @Test
    void statsTellAnotherThreadThatTheLoopIsStalledUntilItMovesOn() throws Exception {
        CompletableFuture<StallReport> reported = new CompletableFuture<>();
        try (EventLoop loop = EventLoop.builder().name("held").watchdog(THRESHOLD).onStall(reported::complete).build()) {
            assertEquals(Duration.ZERO, loop.stats().stalledFor());
            CountDownLatch release = new CountDownLatch(1);
            loop.execute(() -> {
                try {
                    release.await(); // holds the carrier until the test has looked
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            await(reported);
            LoopStats during = loop.stats(); // read from this thread: the loop cannot answer
            assertTrue(during.stalled(), "stalled while held: " + during);
            assertTrue(during.stalledFor().compareTo(THRESHOLD) >= 0, "stalled for " + during.stalledFor());
            release.countDown();
            LoopStats after = onLoop(loop, loop::stats); // the loop ran again: no longer stalled
            assertEquals(Duration.ZERO, after.stalledFor(), after.toString());
            assertEquals(1L, after.stalls());
        }
    }

    @Test
    void anIdleLoopWaitingForATimerIsNotReported() throws Exception {
        List<StallReport> reports = new CopyOnWriteArrayList<>();
        try (EventLoop loop = EventLoop.builder().name("idle-watched").watchdog(THRESHOLD)
                .onStall(reports::add)
                .build()) {
            CountDownLatch fired = new CountDownLatch(1);
            // idle for six thresholds, blocked waiting for the timer
            loop.schedule(fired::countDown, SLOW);
            assertTrue(fired.await(10, TimeUnit.SECONDS));
            assertEquals(List.of(), reports);
            assertEquals(0L, onLoop(loop, () -> loop.stats().stalls()));
        }
    }

    @Test
    void theWatchdogCanBeSwitchedOff() throws Exception {
        List<StallReport> offReports = new CopyOnWriteArrayList<>();
        CompletableFuture<StallReport> controlReport = new CompletableFuture<>();
        try (EventLoop off = EventLoop.builder().name("unwatched").watchdog(null).onStall(offReports::add).build();
                EventLoop zero = EventLoop.builder().name("unwatched-zero").watchdog(Duration.ZERO).onStall(offReports::add).build();
                EventLoop control = EventLoop.builder().name("control").watchdog(THRESHOLD).onStall(controlReport::complete).build()) {
            CountDownLatch done = new CountDownLatch(3);
            for (EventLoop loop : List.of(off, zero, control)) {
                loop.execute(() -> {
                    busySpin(SLOW);
                    done.countDown();
                });
            }
            // the control loop, stalled at the same time, proves the watchdog was watching
            assertEquals("control", await(controlReport).loopName());
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertEquals(List.of(), offReports);
            assertEquals(0L, onLoop(off, () -> off.stats().stalls()));
        }
    }

    @Test
    void aNegativeThresholdIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> EventLoop.builder().watchdog(Duration.ofMillis(-1)));
    }
}
