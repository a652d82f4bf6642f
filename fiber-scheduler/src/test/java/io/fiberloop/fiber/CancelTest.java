package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;
import static io.fiberloop.fiber.LoopFixture.virtualLoop;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Task cancellation: cooperative, level-triggered, shielded cleanup, JDK interrupts. */
@Timeout(20)
class CancelTest {

    @Test
    void cancellingASleepingTaskRaisesCancelledExceptionInIt() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> t = Fibers.spawn(() -> {
                    try {
                        out.add("sleeping");
                        Fibers.sleep(Duration.ofHours(1));
                        out.add("woke");
                        return "no";
                    } catch (CancelledException e) {
                        out.add("cancelled: " + e.getMessage());
                        throw e;
                    } finally {
                        out.add("finally");
                    }
                });
                Fibers.yieldNow(); // t starts and parks in sleep
                assertEquals(Future.State.RUNNING, t.state());
                assertEquals(Fiber.State.SUSPENDED, t.fiber().state());
                assertTrue(t.cancel());
                // cooperative: the task is done only once its fiber has unwound
                assertFalse(t.isDone());
                out.add("cancel requested");
                CancelledException ce = assertThrows(CancelledException.class, t::join);
                out.add("join threw " + ce.getClass().getSimpleName());
                assertEquals(Future.State.CANCELLED, t.state());
                assertTrue(t.isCancelled());
                assertTrue(t.isDone());
                assertEquals(Fiber.State.ENDED, t.fiber().state());
                assertThrows(CancelledException.class, t::get); // a CancellationException, as Future.get promises
                return out;
            });
            assertEquals(5, events.size(), events::toString);
            assertEquals(List.of("sleeping", "cancel requested"), events.subList(0, 2));
            assertTrue(events.get(2).startsWith("cancelled: task '") && events.get(2).endsWith("' was cancelled"), events.get(2));
            assertEquals(List.of("finally", "join threw CancelledException"), events.subList(3, 5));
            assertEquals(0, loop.now()); // the hour never passed
        }
    }

    @Test
    void cancelBeforeItStartsMeansItNeverRuns() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            AtomicBoolean ran = new AtomicBoolean();
            loop.run(() -> {
                Task<String> t = Fibers.spawn(() -> {
                    ran.set(true);
                    return "ran";
                });
                assertTrue(t.cancel());
                assertThrows(CancelledException.class, t::join);
                assertTrue(t.isCancelled());
                Fibers.sleep(Duration.ofSeconds(1));
                return null;
            });
            assertFalse(ran.get());

            // from a plain thread, while the loop is held busy so that it cannot start the task first
            AtomicBoolean release = new AtomicBoolean();
            CountDownLatch spinning = new CountDownLatch(1);
            Task<Void> spinner = Fibers.spawn(loop, () -> {
                spinning.countDown();
                while (!release.get()) {
                    Thread.onSpinWait();
                }
                return null;
            });
            assertTrue(spinning.await(10, TimeUnit.SECONDS));
            Task<String> t2 = Fibers.spawn(loop, () -> {
                ran.set(true);
                return "ran";
            });
            boolean requested = t2.cancel();
            release.set(true);
            spinner.join();
            assertTrue(requested);
            assertThrows(CancelledException.class, t2::join);
            assertTrue(t2.isCancelled());
            assertFalse(ran.get());
        }
    }

    @Test
    void cancelFromAnotherPlatformThread() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> events = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch waiting = new CountDownLatch(1);
            Task<String> t = Fibers.spawn(loop, () -> {
                try {
                    loop.execute(waiting::countDown); // runs once this fiber has suspended
                    return Fibers.await(new CompletableFuture<String>());
                } catch (CancelledException e) {
                    events.add("cancelled on " + (EventLoop.currentOrNull() == loop ? "loop" : "?"));
                    throw e;
                } finally {
                    events.add("finally");
                }
            });
            assertTrue(waiting.await(10, TimeUnit.SECONDS));
            CompletableFuture<Boolean> cancelled = new CompletableFuture<>();
            Thread.ofPlatform().name("canceller").start(() -> cancelled.complete(t.cancel()));
            assertTrue(cancelled.get(10, TimeUnit.SECONDS));
            assertThrows(CancelledException.class, t::join);
            events.add("joined");
            assertTrue(t.isCancelled());
            assertEquals(List.of("cancelled on loop", "finally", "joined"), events);
        }
    }

    @Test
    void cancellationIsLevelTriggered() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> t = Fibers.spawn(() -> {
                    try {
                        Fibers.sleep(Duration.ofHours(1));
                    } catch (CancelledException swallowed) {
                        out.add("first");
                    }
                    out.add("check=" + (Fiber.current().state() == Fiber.State.RUNNING));
                    try {
                        Fibers.sleep(Duration.ofHours(1));
                        out.add("slept again?!");
                    } catch (CancelledException again) {
                        out.add("second");
                    }
                    try {
                        Fibers.yieldNow();
                    } catch (CancelledException again) {
                        out.add("third");
                    }
                    try {
                        Fibers.checkCancelled();
                    } catch (CancelledException again) {
                        out.add("fourth");
                    }
                    Fibers.await(new CompletableFuture<String>()); // never completes: must throw at once
                    return "zombie";
                });
                Fibers.yieldNow();
                t.cancel();
                assertThrows(CancelledException.class, t::join);
                assertTrue(t.isCancelled());
                return out;
            });
            assertEquals(List.of("first", "check=true", "second", "third", "fourth"), events);
            assertEquals(0, loop.now());
        }
    }

    @Test
    void nonCancellableLetsACancelledTaskSleepForCleanup() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> t = Fibers.spawn(() -> {
                    try {
                        Fibers.sleep(Duration.ofHours(1));
                        return "no";
                    } finally {
                        out.add("cleanup starts at " + Duration.ofNanos(loop.now()));
                        String r = Fibers.nonCancellable(() -> {
                            Fibers.sleep(Duration.ofMinutes(10));
                            return "cleaned";
                        });
                        out.add(r + " at " + Duration.ofNanos(loop.now()));
                        try {
                            Fibers.sleep(Duration.ofMinutes(10)); // outside the shield: cancelled again
                            out.add("slept unshielded?!");
                        } catch (CancelledException e) {
                            out.add("unshielded sleep cancelled");
                        }
                    }
                });
                Fibers.sleep(Duration.ofMinutes(1));
                t.cancel();
                assertThrows(CancelledException.class, t::join);
                out.add("joined at " + Duration.ofNanos(loop.now()));
                return out;
            });
            assertEquals(List.of("cleanup starts at PT1M", "cleaned at PT11M", "unshielded sleep cancelled", "joined at PT11M"), events);
        }
    }

    @Test
    void cancellingATaskInThreadSleepInterruptsIt() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> t = Fibers.spawn(() -> {
                    try {
                        Thread.sleep(Duration.ofHours(1)); // a real hour: only the interrupt ends it
                        out.add("slept?!");
                    } catch (InterruptedException e) {
                        out.add("interrupted");
                    }
                    try {
                        Fibers.checkCancelled();
                    } catch (CancelledException e) {
                        out.add("still cancelled");
                        throw e;
                    }
                    return "no";
                });
                Fibers.yieldNow(); // t is in Thread.sleep now
                assertTrue(t.cancel());
                assertThrows(CancelledException.class, t::join);
                assertTrue(t.isCancelled());
                return out;
            });
            assertEquals(List.of("interrupted", "still cancelled"), events);
        }
    }

    @Test
    void anInterruptedExceptionEscapingACancelledTaskEndsItCancelled() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Task<String> t = Fibers.spawn(() -> {
                    Thread.sleep(Duration.ofHours(1)); // lets InterruptedException propagate, as most code does
                    return "no";
                });
                Fibers.yieldNow();
                assertTrue(t.cancel());
                CancelledException ce = assertThrows(CancelledException.class, t::join);
                assertEquals(Future.State.CANCELLED, t.state());
                assertNotNull(ce);
                return null;
            });
        }
    }

    @Test
    void cancelReturnsFalseWhenAlreadyDone() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Task<String> ok = Fibers.spawn(() -> "ok");
                Task<String> bad = Fibers.spawn(() -> {
                    throw new IllegalStateException("bad");
                });
                Task<String> sleeper = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofHours(1));
                    return "s";
                });
                Fibers.awaitAllSettled(List.of(ok, bad));
                assertFalse(ok.cancel());
                assertFalse(bad.cancel(true));
                assertEquals("ok", ok.join());
                assertEquals(Future.State.FAILED, bad.state());
                assertTrue(sleeper.cancel());
                assertThrows(CancelledException.class, sleeper::join);
                assertFalse(sleeper.cancel());
                assertTrue(sleeper.isCancelled());
                return null;
            });
            Task<String> done = Fibers.spawn(loop, () -> "x");
            assertEquals("x", done.join());
            assertFalse(done.cancel()); // from a plain thread too
        }
    }

    @Test
    void cancellingTheJoinerDoesNotCancelTheJoinedTask() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Task<String> inner = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofHours(2));
                    return "inner";
                });
                Task<String> joiner = Fibers.spawn(inner::join);
                Fibers.sleep(Duration.ofHours(1));
                joiner.cancel();
                assertThrows(CancelledException.class, joiner::join);
                assertFalse(inner.isDone());
                assertEquals("inner", inner.join());
                assertEquals(Duration.ofHours(2).toNanos(), loop.now());
                return null;
            });
        }
    }
}
