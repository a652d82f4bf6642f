package io.fiberloop.fiber.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The JFR event {@code io.fiberloop.FiberParkedHoldingLock}, recorded with the project's
 * fiberloop.jfc (threshold 20 ms): a fiber suspended for 200 ms holding a lock is reported, with
 * its name, the locks, where it waited and its stack; the same wait without a lock, a condition
 * wait (which releases the lock) and a wait for the lock itself are not.
 */
@Timeout(60)
class ParkedHoldingLockEventTest {
    private static final Duration LONG = Duration.ofMillis(200);

    @Test
    void aFiberSuspendedForLongHoldingALockIsRecordedAndOnlyThen() throws Exception {
        Path file = Files.createTempFile("fiberloop-locks", ".jfr");
        try (Recording rec = new Recording(Configuration.create(Path.of("..", "fiberloop.jfc")))) {
            rec.start();
            try (EventLoop loop = FiberLoops.builder().name("locks").build()) {
                loop.run(() -> {
                    Lock warmUp = Lock.named("warm-up"); // loads and instruments the event's class before the waits below
                    warmUp.withLock(() -> {
                        Fibers.sleep(Duration.ofMillis(1));
                        return null;
                    });
                    Lock accounts = Lock.named("accounts");
                    Lock unnamed = Lock.create();
                    Lock guarded = Lock.named("guarded");
                    Condition ready = guarded.newCondition();
                    boolean[] flag = new boolean[1];
                    Task<Void> holder = Fibers.spawn("holder", () -> {
                        accounts.lock();
                        try {
                            unnamed.withLock(() -> {
                                Fibers.sleep(LONG); // suspended holding both
                                return null;
                            });
                        } finally {
                            accounts.unlock();
                        }
                        return null;
                    });
                    Task<Void> handed = Fibers.spawn("handed", () -> {
                        accounts.lock(); // waits for the holder: parked, not holding a lock
                        try {
                            Fibers.sleep(LONG); // now holding it, handed over while it waited
                        } finally {
                            accounts.unlock();
                        }
                        Fibers.sleep(LONG); // released: not reported
                        return null;
                    });
                    Task<Void> free = Fibers.spawn("free", () -> {
                        Fibers.sleep(LONG);
                        return null;
                    });
                    Task<Void> waiter = Fibers.spawn("waiter", () -> guarded.withLock(() -> {
                        ready.awaitUntil(() -> flag[0]); // releases the lock while it waits
                        return null;
                    }));
                    Task<Void> signaller = Fibers.spawn("signaller", () -> {
                        Fibers.sleep(LONG);
                        guarded.withLock(() -> {
                            flag[0] = true;
                            ready.signalAll();
                            return null;
                        });
                        return null;
                    });
                    for (Task<Void> t : List.of(holder, handed, free, waiter, signaller)) {
                        t.join();
                    }
                    return null;
                });
            }
            rec.stop();
            rec.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("io.fiberloop.FiberParkedHoldingLock") && "locks".equals(e.getString("loop")))
                .toList();
        Files.delete(file);

        RecordedEvent holder = only(events, "holder");
        assertTrue(holder.getString("locks").matches("Lock@[0-9a-f]+, Lock 'accounts'"), "innermost first: " + holder.getString("locks"));
        assertEquals("Fibers.sleep", holder.getString("parkedOn"));
        List<RecordedFrame> frames = holder.getStackTrace().getFrames();
        assertTrue(frames.stream().anyMatch(f -> f.getMethod().getType().getName().equals(ParkedHoldingLockEventTest.class.getName())),
                "the stack is where the fiber waited: " + holder.getStackTrace());

        RecordedEvent handed = only(events, "handed");
        assertEquals("Lock 'accounts'", handed.getString("locks"));
        assertEquals("Fibers.sleep", handed.getString("parkedOn"));

        assertEquals(List.of(), named(events, "free"), "no lock held, no event");
        assertEquals(List.of(), named(events, "waiter"), "a condition wait releases the lock");
        assertEquals(List.of(), named(events, "signaller"), "its long sleep held no lock");
        assertEquals(2, events.stream().filter(e -> !e.getString("locks").equals("Lock 'warm-up'")).count(), events.toString());
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String fiber) {
        return events.stream().filter(e -> fiber.equals(e.getString("fiber"))).toList();
    }

    private static RecordedEvent only(List<RecordedEvent> events, String fiber) {
        List<RecordedEvent> of = named(events, fiber);
        assertEquals(1, of.size(), fiber + ": " + events);
        return of.get(0);
    }

    @Test
    void aLockIsNamedForDiagnosticsAndABlankNameIsRefused() {
        Lock accounts = Lock.named("accounts");
        assertEquals("accounts", accounts.name());
        assertTrue(accounts.toString().startsWith("Lock['accounts', free"), accounts.toString());
        assertEquals(null, Lock.create().name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Lock.named(" "));
        assertTrue(e.getMessage().contains("Lock.create()"), e.getMessage());
    }
}
