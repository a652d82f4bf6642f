package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;
import static io.fiberloop.fiber.LoopFixture.virtualLoop;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** withTimeout / withTimeoutOrNull on the loop's (virtual) clock, nested deadlines. */
@Timeout(20)
class TimeoutTest {

    @Test
    void withTimeoutThrowsAfterTheDeadlineOnceTheBodyHasUnwound() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                FiberTimeoutException e = assertThrows(FiberTimeoutException.class, () -> Fibers.withTimeout(Duration.ofSeconds(1), () -> {
                    try {
                        out.add("body sleeps");
                        Fibers.sleep(Duration.ofHours(1));
                        out.add("body woke?!");
                        return "late";
                    } catch (CancelledException ce) {
                        out.add("body cancelled");
                        throw ce;
                    } finally {
                        out.add("body finally at " + Duration.ofNanos(loop.now()));
                    }
                }));
                out.add("caught " + e.getMessage());
                assertEquals(Duration.ofSeconds(1), e.timeout());
                assertInstanceOf(CancelledException.class, e.getCause());
                // the expired deadline is gone: the fiber may suspend again
                Fibers.sleep(Duration.ofSeconds(1));
                out.add("slept after at " + Duration.ofNanos(loop.now()));
                return out;
            });
            assertEquals(List.of("body sleeps", "body cancelled", "body finally at PT1S", "caught timed out after 1000 ms", "slept after at PT2S"), events);
        }
    }

    @Test
    void withTimeoutOrNullReturnsNull() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String r = loop.run(() -> Fibers.withTimeoutOrNull(Duration.ofMinutes(1), () -> {
                Fibers.await(new CompletableFuture<String>());
                return "never";
            }));
            assertNull(r);
            assertEquals(Duration.ofMinutes(1).toNanos(), loop.now());
        }
    }

    @Test
    void returnsTheValueWhenFastEnoughAndTheDeadlineNoLongerApplies() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                String v = Fibers.withTimeout(Duration.ofHours(1), () -> {
                    Fibers.sleep(Duration.ofSeconds(1));
                    return "fast";
                });
                assertEquals("fast", v);
                assertEquals(Duration.ofSeconds(1).toNanos(), loop.now());
                assertEquals("ok", Fibers.withTimeoutOrNull(Duration.ofSeconds(5), () -> "ok"));
                // past the old deadline: nothing fires into this fiber
                Fibers.sleep(Duration.ofHours(2));
                assertEquals(Duration.ofHours(2).plusSeconds(1).toNanos(), loop.now());
                assertEquals(0, loop.stats().pendingTimers());
                return null;
            });
        }
    }

    @Test
    void anOuterDeadlineWinsOverALongerInnerOne() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                FiberTimeoutException e = assertThrows(FiberTimeoutException.class, () -> Fibers.withTimeout(Duration.ofSeconds(1), () -> {
                    try {
                        return Fibers.withTimeout(Duration.ofHours(1), () -> {
                            Fibers.sleep(Duration.ofHours(2));
                            return "no";
                        });
                    } catch (FiberTimeoutException inner) {
                        out.add("inner converted it?! " + inner.timeout());
                        throw inner;
                    } catch (CancelledException passingThrough) {
                        out.add("inner let it through");
                        throw passingThrough;
                    }
                }));
                out.add("outer threw after " + e.timeout());
                out.add("at " + Duration.ofNanos(loop.now()));
                return out;
            });
            assertEquals(List.of("inner let it through", "outer threw after PT1S", "at PT1S"), events);
        }
    }

    @Test
    void aShorterInnerDeadlineThrowsAndTheOuterBodyContinues() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                String r = Fibers.withTimeout(Duration.ofHours(1), () -> {
                    try {
                        Fibers.withTimeout(Duration.ofSeconds(1), () -> {
                            Fibers.sleep(Duration.ofHours(2));
                            return "no";
                        });
                    } catch (FiberTimeoutException inner) {
                        out.add("inner timed out after " + inner.timeout() + " at " + Duration.ofNanos(loop.now()));
                    }
                    Fibers.sleep(Duration.ofMinutes(10));
                    return "outer done";
                });
                out.add(r + " at " + Duration.ofNanos(loop.now()));
                return out;
            });
            assertEquals(List.of("inner timed out after PT1S at PT1S", "outer done at PT10M1S"), events);
        }
    }

    @Test
    void aOneHourTimeoutCompletesAtOnceOnAnAutoAdvancingClock() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                Object r = loop.run(() -> Fibers.withTimeoutOrNull(Duration.ofHours(1), () -> {
                    Fibers.sleep(Duration.ofDays(1));
                    return "no";
                }));
                assertNull(r);
            });
            assertTrue(loop.now() >= Duration.ofHours(1).toNanos());
            assertTrue(loop.now() < Duration.ofDays(1).toNanos());
        }
    }

    @Test
    void aTimeoutOfATaskCancelsOnlyThatDeadlineNotTheTask() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String r = loop.run(() -> {
                Task<String> t = Fibers.spawn(() -> {
                    String first = Fibers.withTimeoutOrNull(Duration.ofSeconds(1), () -> {
                        Fibers.sleep(Duration.ofHours(1));
                        return "x";
                    });
                    Fibers.sleep(Duration.ofSeconds(1));
                    return "after timeout " + first;
                });
                return t.join();
            });
            assertEquals("after timeout null", r);
        }
    }

    @Test
    void aDeadlineInterruptsAJdkBlockingCall() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Object r = Fibers.withTimeoutOrNull(Duration.ofSeconds(1), () -> {
                    try {
                        Thread.sleep(Duration.ofHours(1)); // a real hour: only the deadline's interrupt ends it
                        return "slept?!";
                    } catch (InterruptedException e) {
                        out.add("interrupted");
                        Fibers.checkCancelled(); // the deadline is still expired: converts to the timeout
                        return "not cancelled?!";
                    }
                });
                out.add("result " + r);
                return out;
            });
            assertEquals(List.of("interrupted", "result null"), events);
        }
    }

    @Test
    void anInterruptedExceptionEscapingAnExpiredBodyBecomesTheTimeout() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            Object r = loop.run(() -> Fibers.withTimeoutOrNull(Duration.ofSeconds(1), () -> {
                Thread.sleep(Duration.ofHours(1)); // lets the deadline's interrupt escape, as most code does
                return "slept?!";
            }));
            assertNull(r);
            assertEquals(Duration.ofSeconds(1).toNanos(), loop.now());
        }
    }

    @Test
    void withTimeoutOutsideAFiberThrows() throws Exception {
        assertThrows(IllegalStateException.class, () -> Fibers.withTimeout(Duration.ofSeconds(1), () -> "x"));
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<Throwable> got = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    Fibers.withTimeout(Duration.ofSeconds(1), () -> "x");
                    got.complete(null);
                } catch (Throwable e) {
                    got.complete(e);
                }
            });
            assertInstanceOf(IllegalStateException.class, got.get(10, TimeUnit.SECONDS));
        }
    }
}
