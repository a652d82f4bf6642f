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
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** await of futures (cross-thread, fast path, plain Future) and the several-at-once helpers. */
@Timeout(20)
class AwaitTest {

    @Test
    void awaitAFutureCompletedByAnotherPlatformThread() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<String> cf = new CompletableFuture<>();
            CountDownLatch mainSuspended = new CountDownLatch(1);
            Thread completer = Thread.ofPlatform().name("completer").start(() -> {
                try {
                    mainSuspended.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                order.add("completer completes");
                cf.complete("value");
            });
            String got = loop.run(() -> {
                Thread me = Thread.currentThread();
                // runs only once main has suspended in await
                Task<Void> other = Fibers.spawn(() -> {
                    order.add("other ran");
                    mainSuspended.countDown();
                    return null;
                });
                order.add("main awaits");
                String v = Fibers.await(cf);
                order.add("main resumed on loop=" + (EventLoop.currentOrNull() == loop) + " same thread=" + (Thread.currentThread() == me));
                other.join();
                return v;
            });
            completer.join();
            assertEquals("value", got);
            assertEquals(List.of("main awaits", "other ran", "completer completes", "main resumed on loop=true same thread=true"), order);
        }
    }

    @Test
    void awaitOfACompleteFutureDoesNotSuspend() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<Void> other = Fibers.spawn(() -> {
                    out.add("other");
                    return null;
                });
                out.add("v=" + Fibers.await(CompletableFuture.completedFuture("done")));
                out.add("v2=" + Fibers.await((java.util.concurrent.CompletionStage<String>) CompletableFuture.completedFuture("stage")));
                IllegalStateException boom = new IllegalStateException("failed already");
                assertSame(boom, assertThrows(IllegalStateException.class, () -> Fibers.await(CompletableFuture.failedFuture(boom))));
                out.add("after failed");
                other.join();
                out.add("joined");
                return out;
            });
            assertEquals(List.of("v=done", "v2=stage", "after failed", "other", "joined"), order);
        }
    }

    @Test
    void awaitRethrowsUncheckedUnchangedWrapsCheckedAndMapsCancellation() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                CompletableFuture<String> a = new CompletableFuture<>();
                CompletableFuture<String> b = new CompletableFuture<>();
                CompletableFuture<String> c = new CompletableFuture<>();
                IllegalArgumentException unchecked = new IllegalArgumentException("u");
                java.io.IOException checked = new java.io.IOException("c");
                Fibers.spawn(() -> {
                    a.completeExceptionally(unchecked);
                    b.completeExceptionally(checked);
                    c.cancel(false);
                    return null;
                });
                assertSame(unchecked, assertThrows(IllegalArgumentException.class, () -> Fibers.await(a)));
                assertSame(checked, assertThrows(java.util.concurrent.CompletionException.class, () -> Fibers.await(b)).getCause());
                assertThrows(CancelledException.class, () -> Fibers.await(c));
                // the caller itself is not cancelled by that: it can still suspend
                Fibers.sleep(Duration.ofSeconds(1));
                return null;
            });
        }
    }

    @Test
    void awaitOfAPlainFutureRunByAnotherThread() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch mainSuspended = new CountDownLatch(1);
            FutureTask<String> ft = new FutureTask<>(() -> {
                order.add("future task runs");
                return "from FutureTask";
            });
            Thread runner = Thread.ofPlatform().name("runner").start(() -> {
                try {
                    mainSuspended.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                ft.run();
            });
            FutureTask<String> failing = new FutureTask<>(() -> {
                throw new IllegalStateException("ft failed");
            });
            failing.run(); // done already: the fast path
            String got = loop.run(() -> {
                Task<Void> other = Fibers.spawn(() -> {
                    order.add("other ran");
                    mainSuspended.countDown();
                    return null;
                });
                order.add("main awaits");
                Future<String> plain = ft;
                String v = Fibers.await(plain);
                order.add("main resumed");
                other.join();
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> Fibers.await((Future<String>) failing));
                assertEquals("ft failed", e.getMessage());
                return v;
            });
            runner.join();
            assertEquals("from FutureTask", got);
            assertEquals(List.of("main awaits", "other ran", "future task runs", "main resumed"), order);
        }
    }

    @Test
    void awaitOnAPlainThreadBlocksIt() throws Exception {
        CompletableFuture<String> cf = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> cf.complete("x"));
        assertEquals("x", Fibers.await(cf));
    }

    @Test
    void awaitInALoopCallbackThrows() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<Throwable> got = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    Fibers.await(new CompletableFuture<>());
                    got.complete(null);
                } catch (Throwable e) {
                    got.complete(e);
                }
            });
            Throwable e = got.get(10, TimeUnit.SECONDS);
            assertInstanceOf(IllegalStateException.class, e);
            assertTrue(e.getMessage().startsWith("await() was called from a loop callback"), e.getMessage());
        }
    }

    @Test
    void awaitAllReturnsValuesInTheOrderGiven() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> values = loop.run(() -> {
                Task<String> a = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(3)); return "a"; });
                Task<String> b = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(1)); return "b"; });
                Task<String> c = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(2)); return "c"; });
                CompletableFuture<String> d = CompletableFuture.completedFuture("d");
                return Fibers.awaitAll(List.of(a, b, c, d));
            });
            assertEquals(List.of("a", "b", "c", "d"), values);
            assertEquals(Duration.ofHours(3).toNanos(), loop.now());
        }
    }

    @Test
    void awaitAllFailsFastCancelsTheRestAndWaitsForThem() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = new ArrayList<>();
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            loop.run(() -> {
                Task<String> slow = Fibers.spawn(() -> {
                    try {
                        Fibers.sleep(Duration.ofHours(5));
                        return "slow";
                    } catch (CancelledException e) {
                        events.add("slow cancelled at " + Duration.ofNanos(loop.now()));
                        throw e;
                    }
                });
                Task<String> failing = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofHours(1));
                    events.add("failing throws");
                    throw boom;
                });
                assertSame(boom, assertThrows(IllegalArgumentException.class, () -> Fibers.awaitAll(List.of(slow, failing))));
                events.add("awaitAll threw");
                assertThrows(CancelledException.class, slow::join);
                events.add("slow joined");
                assertTrue(slow.isCancelled());
                return null;
            });
            assertEquals(List.of("failing throws", "slow cancelled at PT1H", "awaitAll threw", "slow joined"), events);
            assertEquals(Duration.ofHours(1).toNanos(), loop.now());
        }
    }

    @Test
    void awaitAllSettledWaitsForEveryOneWhateverTheOutcome() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Task<String> ok = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(3)); return "ok"; });
                Task<String> bad = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofHours(1));
                    throw new IllegalStateException("bad");
                });
                Task<String> cancelled = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(9)); return "never"; });
                Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofHours(2));
                    cancelled.cancel();
                    return null;
                });
                List<Task<String>> settled = Fibers.awaitAllSettled(List.of(ok, bad, cancelled));
                assertEquals(List.of(ok, bad, cancelled), settled);
                assertEquals(Duration.ofHours(3).toNanos(), loop.now());
                assertEquals(List.of(Future.State.SUCCESS, Future.State.FAILED, Future.State.CANCELLED),
                        settled.stream().map(Future::state).toList());
                assertEquals("ok", ok.resultNow());
                assertEquals("bad", bad.exceptionNow().getMessage());
                return null;
            });
        }
    }

    @Test
    void awaitAnyReturnsTheFirstOnceTheOthersAreCancelledAndUnwound() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> events = new ArrayList<>();
            loop.run(() -> {
                Task<String> slow = Fibers.spawn(() -> {
                    try {
                        Fibers.sleep(Duration.ofHours(2));
                        return "slow";
                    } finally {
                        events.add("slow finally");
                    }
                });
                Task<String> fast = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(1)); return "fast"; });
                Task<String> slower = Fibers.spawn(() -> {
                    try {
                        Fibers.sleep(Duration.ofHours(3));
                        return "slower";
                    } finally {
                        events.add("slower finally");
                    }
                });
                events.add("any=" + Fibers.awaitAny(List.of(slow, fast, slower)));
                assertThrows(CancelledException.class, slow::join);
                assertThrows(CancelledException.class, slower::join);
                assertTrue(slow.isCancelled());
                assertTrue(slower.isCancelled());
                assertEquals(Future.State.SUCCESS, fast.state());
                return null;
            });
            assertEquals(List.of("slow finally", "slower finally", "any=fast"), events, "the losers have unwound before awaitAny returns");
            assertEquals(Duration.ofHours(1).toNanos(), loop.now());
        }
    }

    @Test
    void awaitAnyRethrowsTheFirstFailure() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                IllegalStateException boom = new IllegalStateException("first");
                Task<String> a = Fibers.spawn(() -> { Fibers.sleep(Duration.ofHours(2)); return "a"; });
                Task<String> b = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofHours(1));
                    throw boom;
                });
                assertSame(boom, assertThrows(IllegalStateException.class, () -> Fibers.awaitAny(List.of(a, b))));
                assertThrows(CancelledException.class, a::join);
                assertThrows(IllegalArgumentException.class, () -> Fibers.awaitAny(List.of()));
                return null;
            });
        }
    }
}
