package io.fiberloop.fiber;

import static io.fiberloop.fiber.LoopFixture.virtualLoop;
import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.loop.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link CancelScope}, trio's cancel scope: cancelled from outside, a deadline that moves, a shield,
 * and whether it caught its own cancellation. Times are read from an auto-advancing virtual clock.
 */
@Timeout(20)
class CancelScopeTest {

    private static long ms(EventLoop loop) {
        return Duration.ofNanos(loop.now()).toMillis();
    }

    @Test
    void cancelledFromAnotherFiberTheScopeCatchesItAndTheCodeAfterGoesOn() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                CancelScope scope = CancelScope.create();
                Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofMillis(30));
                    scope.cancel();
                    return null;
                });
                String r = scope.run(() -> {
                    try {
                        Fibers.sleep(Duration.ofHours(1));
                        return "slept";
                    } finally {
                        out.add("finally at " + ms(loop));
                    }
                });
                out.add("run returned " + r + ", caught " + scope.cancelledCaught() + ", cancelled " + scope.isCancelled());
                Fibers.sleep(Duration.ofMillis(5)); // the task is not cancelled: it goes on
                out.add("after at " + ms(loop));
                return out;
            });
            assertEquals(List.of("finally at 30", "run returned null, caught true, cancelled true", "after at 35"), events);
        }
    }

    @Test
    void cancelledFromAPlainThreadWhileTheBodyWaitsWhichMayNotMoveItsDeadline() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CancelScope scope = CancelScope.create();
            CompletableFuture<Void> waiting = new CompletableFuture<>();
            Task<String> t = Fibers.spawn(loop, () -> {
                String r = scope.run(() -> {
                    waiting.complete(null);
                    return Fibers.await(new CompletableFuture<String>());
                });
                return r == null ? "caught " + scope.cancelledCaught() : r;
            });
            waiting.get(10, TimeUnit.SECONDS);
            IllegalStateException offLoop = assertThrows(IllegalStateException.class, () -> scope.deadlineAfter(Duration.ofSeconds(1)));
            assertTrue(offLoop.getMessage().contains("cancel() works from any thread"), offLoop.getMessage());
            assertThrows(IllegalStateException.class, () -> scope.shield(true));
            scope.cancel();
            assertEquals("caught true", t.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aScopeCancelledBeforeItRunsStartsCancelled() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String r = loop.run(() -> {
                CancelScope scope = CancelScope.create();
                scope.cancel();
                List<String> ran = new ArrayList<>();
                Object v = scope.run(() -> {
                    ran.add("body starts"); // no suspension point yet: it runs
                    Fibers.yieldNow();      // the first one raises
                    ran.add("never");
                    return "v";
                });
                return ran + " " + v + " " + scope.cancelledCaught();
            });
            assertEquals("[body starts] null true", r);
        }
    }

    @Test
    void theDeadlineMovesWhileTheBodyRuns() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = loop.run(() -> {
                List<String> out = new ArrayList<>();
                CancelScope scope = CancelScope.create().deadlineAfter(Duration.ofMillis(100));
                assertEquals(Long.MAX_VALUE, scope.deadline(), "counted from run()");
                scope.run(() -> {
                    out.add("deadline at " + Duration.ofNanos(scope.deadline()).toMillis());
                    Fibers.sleep(Duration.ofMillis(60));
                    scope.deadlineAfter(Duration.ofMillis(100)); // progress: 100 ms more from now
                    out.add("moved to " + Duration.ofNanos(scope.deadline()).toMillis());
                    try {
                        Fibers.sleep(Duration.ofHours(1));
                    } finally {
                        out.add("cancelled at " + ms(loop));
                    }
                    return null;
                });
                CancelScope earlier = CancelScope.create().deadlineAfter(Duration.ofHours(1));
                earlier.run(() -> {
                    earlier.deadline(loop.now() + Duration.ofMillis(10).toNanos()); // moved earlier
                    Fibers.sleep(Duration.ofHours(1));
                    return null;
                });
                out.add("earlier caught " + earlier.cancelledCaught() + " at " + ms(loop));
                return out;
            });
            assertEquals(List.of("deadline at 100", "moved to 160", "cancelled at 160", "earlier caught true at 170"), events);
        }
    }

    @Test
    void aShieldHidesTheTasksCancellationUntilItEnds() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = new ArrayList<>();
            loop.run(() -> {
                Task<Void> worker = Fibers.spawn(() -> {
                    CancelScope.create().shield(true).run(() -> {
                        Fibers.sleep(Duration.ofMillis(50)); // the cancellation at 10 ms waits
                        events.add("shielded sleep done at " + ms(loop));
                        return null;
                    });
                    try {
                        Fibers.yieldNow();
                        events.add("not cancelled after the shield");
                    } catch (CancelledException e) {
                        events.add("cancelled after the shield at " + ms(loop));
                        throw e;
                    }
                    return null;
                });
                Fibers.sleep(Duration.ofMillis(10));
                worker.cancel();
                assertThrows(CancelledException.class, worker::join);
                return null;
            });
            assertEquals(List.of("shielded sleep done at 50", "cancelled after the shield at 50"), events);
        }
    }

    @Test
    void aShieldedScopesOwnDeadlineStillApplies() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String r = loop.run(() -> {
                CancelScope scope = CancelScope.create().shield(true).deadlineAfter(Duration.ofMillis(20));
                scope.run(() -> {
                    Fibers.sleep(Duration.ofHours(1));
                    return null;
                });
                return scope.cancelledCaught() + " at " + ms(loop);
            });
            assertEquals("true at 20", r);
        }
    }

    @Test
    void turningTheShieldOffDeliversAPendingCancellation() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = new ArrayList<>();
            loop.run(() -> {
                CancelScope shield = CancelScope.create().shield(true);
                Task<Void> worker = Fibers.spawn(() -> {
                    shield.run(() -> {
                        try {
                            Fibers.sleep(Duration.ofHours(1));
                        } catch (CancelledException e) {
                            events.add("cancelled at " + ms(loop));
                            throw e;
                        }
                        return null;
                    });
                    return null;
                });
                Fibers.sleep(Duration.ofMillis(10));
                worker.cancel();                // hidden by the shield
                Fibers.sleep(Duration.ofMillis(10));
                shield.shield(false);           // now it reaches the body
                assertThrows(CancelledException.class, worker::join);
                assertFalse(shield.cancelledCaught(), "the task's cancellation is not the scope's");
                return null;
            });
            assertEquals(List.of("cancelled at 20"), events);
        }
    }

    @Test
    void theOutermostCancelledScopeWinsAndCatchesIt() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String r = loop.run(() -> {
                CancelScope outer = CancelScope.create().deadlineAfter(Duration.ofMillis(10));
                CancelScope inner = CancelScope.create().deadlineAfter(Duration.ofMillis(10));
                outer.run(() -> inner.run(() -> {
                    Fibers.sleep(Duration.ofHours(1));
                    return null;
                }));
                return "outer caught " + outer.cancelledCaught() + ", inner caught " + inner.cancelledCaught()
                        + ", inner cancelled " + inner.isCancelled();
            });
            assertEquals("outer caught true, inner caught false, inner cancelled true", r);
        }
    }

    @Test
    void aBodyThatSwallowsTheCancellationReturnsItsValue() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String r = loop.run(() -> {
                CancelScope scope = CancelScope.create().deadlineAfter(Duration.ofMillis(10));
                String v = scope.run(() -> {
                    try {
                        Fibers.sleep(Duration.ofHours(1));
                    } catch (CancelledException e) {
                        return "swallowed";
                    }
                    return "slept";
                });
                return v + ", caught " + scope.cancelledCaught() + ", cancelled " + scope.isCancelled();
            });
            assertEquals("swallowed, caught false, cancelled true", r);
        }
    }

    @Test
    void aScopeRunsOnceAndOnlyInAFiber() throws Exception {
        CancelScope off = CancelScope.create();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> off.run(() -> "x"));
        assertTrue(e.getMessage().contains("CancelScope.run()") && e.getMessage().contains("fiber"), e.getMessage());
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                CancelScope scope = CancelScope.create();
                assertEquals("once", scope.run(() -> "once"));
                IllegalStateException again = assertThrows(IllegalStateException.class, () -> scope.run(() -> "twice"));
                assertTrue(again.getMessage().contains("runs its body once"), again.getMessage());
                return null;
            });
        }
    }
}
