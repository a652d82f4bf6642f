package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.StallReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The JFR events of loops and tasks, recorded with the project's fiberloop.jfc. */
@Timeout(30)
class JfrEventsTest {

    @Test
    void aRecordingWithFiberloopJfcHasTheStallsFailuresAndCancellations() throws Exception {
        Path file = Files.createTempFile("fiberloop-loop", ".jfr");
        CompletableFuture<StallReport> stalled = new CompletableFuture<>();
        try (Recording rec = new Recording(Configuration.create(Path.of("..", "fiberloop.jfc")))) {
            rec.start();
            try (EventLoop loop = FiberLoops.builder().name("recorded").watchdog(Duration.ofMillis(50)).onStall(stalled::complete).build()) {
                loop.execute(() -> {
                    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                    while (System.nanoTime() < end) {
                        Thread.onSpinWait(); // holds the carrier: a stall
                    }
                });
                stalled.get(10, TimeUnit.SECONDS);
                Task<Void> boom = Fibers.spawn(loop, "boom", () -> {
                    throw new IllegalStateException("expected by JfrEventsTest");
                });
                assertThrows(IllegalStateException.class, boom::join);
                Task<Void> sleeper = Fibers.spawn(loop, "sleeper", () -> {
                    Fibers.sleep(Duration.ofDays(1));
                    return null;
                });
                sleeper.cancel();
                assertThrows(CancelledException.class, sleeper::join);
            }
            rec.stop();
            rec.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        Files.delete(file);
        List<RecordedEvent> stalls = ofLoop(events, "io.fiberloop.LoopStall");
        assertTrue(stalls.stream().anyMatch(stall -> stall.getDuration("stalledFor").toMillis() >= 50
                && stall.getString("running").contains(JfrEventsTest.class.getName())), stalls.toString()); // a fiber loop: the work is in "running"
        RecordedEvent failed = only(events, "io.fiberloop.TaskFailed");
        assertEquals("boom", failed.getString("task"));
        assertEquals("recorded", failed.getString("loop"));
        assertEquals(IllegalStateException.class.getName(), failed.getString("exception"));
        assertEquals("expected by JfrEventsTest", failed.getString("message"));
        RecordedEvent cancelled = only(events, "io.fiberloop.TaskCancelled");
        assertEquals("sleeper", cancelled.getString("task"));
    }

    /** The events of {@code type} from this test's loop. */
    private static List<RecordedEvent> ofLoop(List<RecordedEvent> events, String type) {
        return events.stream().filter(e -> e.getEventType().getName().equals(type) && "recorded".equals(e.getString("loop"))).toList();
    }

    private static RecordedEvent only(List<RecordedEvent> events, String type) {
        List<RecordedEvent> of = ofLoop(events, type);
        assertEquals(1, of.size(), type + ": " + of);
        return of.get(0);
    }
}
