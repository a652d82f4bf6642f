package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.*;
import static io.fiberloop.fiber.LoopFixture.virtualLoop;
import static io.fiberloop.fiber.LoopFixture.awaitBlocked;

import io.fiberloop.loop.EventLoop;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Spawning, joining, the Future/CompletionStage face of a task, and how failures come back. */
@Timeout(20)
class TaskBasicsTest {

    @Test
    void spawnOnTheCurrentLoopStartsLaterNeverInline() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> t = Fibers.spawn(() -> {
                    out.add("child on " + EventLoop.current().name() + " virtual=" + Thread.currentThread().isVirtual());
                    return "v";
                });
                out.add("after spawn");
                out.add("joined " + t.join());
                return out;
            });
            assertEquals(List.of("after spawn", "child on " + loop.name() + " virtual=true", "joined v"), order);
        }
    }

    @Test
    void namedSpawnNamesTaskAndFiber() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            String seen = loop.run(() -> {
                Task<String> t = Fibers.spawn("worker-7", () -> Fiber.current().name() + "/" + Thread.currentThread().getName());
                assertEquals("worker-7", t.name());
                assertSame(t.fiber(), t.fiber());
                return t.join();
            });
            assertEquals("worker-7/worker-7", seen);
        }
    }

    @Test
    void spawnOnALoopFromAPlainThreadAndJoinBlocksThatThread() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<String> gate = new CompletableFuture<>();
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            Task<String> t = Fibers.spawn(loop, () -> {
                assertSame(loop, EventLoop.currentOrNull());
                String g = Fibers.await(gate);
                order.add("task done");
                return "got " + g;
            });
            CompletableFuture<String> joined = new CompletableFuture<>();
            Thread joiner = Thread.ofPlatform().name("joiner").start(() -> {
                try {
                    String v = t.join();
                    order.add("joiner returned");
                    joined.complete(v);
                } catch (Throwable e) {
                    joined.completeExceptionally(e);
                }
            });
            awaitBlocked(joiner); // join() blocks the plain thread: it cannot return before the gate opens
            assertFalse(joined.isDone());
            order.add("gate opened");
            gate.complete("g");
            assertEquals("got g", joined.get(10, TimeUnit.SECONDS));
            joiner.join();
            assertEquals(List.of("gate opened", "task done", "joiner returned"), order);
        }
    }

    @Test
    void joinFromAFiberSuspendsItAndOtherFibersRun() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<Integer> a = Fibers.spawn(() -> {
                    out.add("a start");
                    Fibers.sleep(Duration.ofHours(1));
                    out.add("a end");
                    return 1;
                });
                Task<Integer> b = Fibers.spawn(() -> {
                    out.add("b start");
                    Fibers.yieldNow();
                    out.add("b after yield");
                    return 2;
                });
                out.add("main joins a");
                out.add("main joined a=" + a.join());
                out.add("b done=" + b.isDone());
                return out;
            });
            assertEquals(List.of("main joins a", "a start", "b start", "b after yield", "a end", "main joined a=1", "b done=true"), order);
        }
    }

    @Test
    void joinInALoopCallbackThrowsWithAHelpfulMessage() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<String> gate = new CompletableFuture<>();
            Task<String> t = Fibers.spawn(loop, () -> Fibers.await(gate));
            CompletableFuture<Throwable> got = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    t.join();
                    got.complete(null);
                } catch (Throwable e) {
                    got.complete(e);
                }
            });
            Throwable e = got.get(10, TimeUnit.SECONDS);
            assertInstanceOf(IllegalStateException.class, e);
            assertTrue(e.getMessage().contains("join()"), e.getMessage());
            assertTrue(e.getMessage().contains("loop callback"), e.getMessage());
            assertTrue(e.getMessage().contains("Fibers.spawn"), e.getMessage());
            gate.complete("ok");
            assertEquals("ok", t.join());
        }
    }

    @Test
    void getInALoopCallbackThrowsInsteadOfBlockingTheLoop() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<String> gate = new CompletableFuture<>();
            Task<String> t = Fibers.spawn(loop, () -> Fibers.await(gate));
            CompletableFuture<Throwable> got = new CompletableFuture<>();
            CompletableFuture<Throwable> gotTimed = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    t.get();
                    got.complete(null);
                } catch (Throwable e) {
                    got.complete(e);
                }
            });
            loop.execute(() -> {
                try {
                    t.get(1, TimeUnit.HOURS);
                    gotTimed.complete(null);
                } catch (Throwable e) {
                    gotTimed.complete(e);
                }
            });
            // Neither callback may block: both must report before the task can complete.
            Throwable e = got.get(10, TimeUnit.SECONDS);
            Throwable e2 = gotTimed.get(10, TimeUnit.SECONDS);
            assertFalse(t.isDone());
            assertInstanceOf(IllegalStateException.class, e);
            assertTrue(e.getMessage().contains("loop callback"), e.getMessage());
            assertInstanceOf(IllegalStateException.class, e2);
            gate.complete("ok");
            assertEquals("ok", t.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void spawnInALoopCallbackUsesThatLoop() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<Task<String>> spawned = new CompletableFuture<>();
            loop.execute(() -> spawned.complete(Fibers.spawn(() -> EventLoop.current().name())));
            assertEquals(loop.name(), spawned.get(10, TimeUnit.SECONDS).join());
        }
    }

    @Test
    void spawnWithoutALoopThrows() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Fibers.spawn(() -> 1));
        assertTrue(e.getMessage().contains("Fibers.spawn(loop, ...)"), e.getMessage());
    }

    @Test
    void statesResultNowExceptionNowAndIsDone() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            loop.run(() -> {
                Task<String> ok = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofMinutes(1));
                    return "fine";
                });
                Task<String> bad = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofMinutes(2));
                    throw boom;
                });
                assertEquals(Future.State.RUNNING, ok.state());
                assertFalse(ok.isDone());
                assertThrows(IllegalStateException.class, ok::resultNow);
                assertThrows(IllegalStateException.class, ok::exceptionNow);
                assertEquals("Task[" + ok.name() + ", RUNNING]", ok.toString());

                Fibers.awaitAllSettled(List.of(ok, bad));
                assertTrue(ok.isDone());
                assertEquals(Future.State.SUCCESS, ok.state());
                assertEquals("fine", ok.resultNow());
                assertThrows(IllegalStateException.class, ok::exceptionNow);
                assertFalse(ok.isCancelled());

                assertTrue(bad.isDone());
                assertEquals(Future.State.FAILED, bad.state());
                assertSame(boom, bad.exceptionNow());
                assertThrows(IllegalStateException.class, bad::resultNow);
                assertFalse(bad.isCancelled());
                return null;
            });
        }
    }

    @Test
    void onCompleteRunsOnTheLoopWithTheResultOrTheFailure() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            List<String> order = loop.run(() -> {
                List<String> out = new ArrayList<>();
                Task<String> ok = Fibers.spawn(() -> {
                    out.add("ok body");
                    return "v";
                });
                Task<String> bad = Fibers.spawn(() -> {
                    out.add("bad body");
                    throw new IllegalStateException("x");
                });
                assertSame(ok, ok.onComplete((v, e) -> out.add("ok callback " + v + " " + e + " onLoop=" + (EventLoop.currentOrNull() == loop))));
                bad.onComplete((v, e) -> out.add("bad callback " + v + " " + e.getMessage()));
                out.add("registered");
                Fibers.awaitAllSettled(List.of(ok, bad));
                // already done: runs at once, on the caller
                ok.onComplete((v, e) -> out.add("late callback " + v));
                return out;
            });
            assertEquals(List.of("registered", "ok body", "ok callback v null onLoop=true", "bad body", "bad callback null x", "late callback v"), order);
        }
    }

    @Test
    void taskAsFutureGetAndGetWithTimeout() throws Exception {
        try (EventLoop loop = FiberLoops.newLoop()) {
            CompletableFuture<String> gate = new CompletableFuture<>();
            Task<String> t = Fibers.spawn(loop, () -> Fibers.await(gate));
            assertThrows(TimeoutException.class, () -> t.get(10, TimeUnit.MILLISECONDS)); // from a plain thread
            assertFalse(t.isDone()); // it keeps running
            gate.complete("late");
            assertEquals("late", t.get());
            assertEquals("late", t.get(1, TimeUnit.SECONDS));

            Task<String> bad = Fibers.spawn(loop, () -> {
                throw new IOException("io");
            });
            ExecutionException ee = assertThrows(ExecutionException.class, bad::get);
            assertInstanceOf(IOException.class, ee.getCause());
        }
    }

    @Test
    void getWithTimeoutInAFiberFollowsTheLoopClock() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Task<String> slow = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofHours(2));
                    return "slow";
                });
                TimeoutException e = assertThrows(TimeoutException.class, () -> slow.get(1, TimeUnit.HOURS));
                assertTrue(e.getMessage().contains(slow.name()), e.getMessage());
                assertEquals(Duration.ofHours(1).toNanos(), loop.now());
                assertFalse(slow.isDone());
                assertEquals("slow", slow.get(2, TimeUnit.HOURS));
                assertEquals(Duration.ofHours(2).toNanos(), loop.now());
                return null;
            });
        }
    }

    @Test
    void toCompletableFutureIsAReadOnlyViewThatComposes() throws Exception {
        assertFalse(CompletableFuture.class.isAssignableFrom(Task.class), "a task is a narrow handle, not a CompletableFuture");
        try (EventLoop loop = virtualLoop()) {
            int v = loop.run(() -> {
                Task<Integer> t = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofSeconds(1));
                    return 21;
                });
                CompletableFuture<Integer> doubled = t.toCompletableFuture().thenApply(x -> x * 2);
                return Fibers.await(doubled.thenCompose(x -> CompletableFuture.completedFuture(x)));
            });
            assertEquals(42, v);
        }
        try (EventLoop loop = FiberLoops.newLoop()) {
            Task<String> t = Fibers.spawn(loop, () -> "a");
            assertEquals("ab", t.toCompletableFuture().thenApply(s -> s + "b").get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void onlyTheFiberCompletesItsTask() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            loop.run(() -> {
                Task<String> t = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofSeconds(1));
                    return "real";
                });
                CompletableFuture<String> view = t.toCompletableFuture();
                assertSame(view, t.toCompletableFuture());
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> view.complete("fake"));
                assertTrue(e.getMessage().contains(t.name()) && e.getMessage().contains("Task.cancel()"), e.getMessage());
                assertThrows(UnsupportedOperationException.class, () -> view.obtrudeValue("fake"));
                assertThrows(UnsupportedOperationException.class, () -> view.completeExceptionally(new RuntimeException()));
                assertThrows(UnsupportedOperationException.class, () -> view.obtrudeException(new RuntimeException()));
                assertThrows(UnsupportedOperationException.class, () -> view.cancel(true));
                assertThrows(UnsupportedOperationException.class, () -> view.orTimeout(1, TimeUnit.SECONDS));
                assertThrows(UnsupportedOperationException.class, () -> view.completeOnTimeout("x", 1, TimeUnit.SECONDS));
                assertThrows(UnsupportedOperationException.class, () -> view.completeAsync(() -> "x", Runnable::run));
                assertFalse(t.isDone());
                assertEquals("real", t.join());
                assertEquals("real", view.getNow(null));
                assertThrows(UnsupportedOperationException.class, () -> view.obtrudeValue("fake"));
                assertEquals("real", t.join());
                return null;
            });
        }
    }

    @Test
    void getAndJoinAgreeOnACancelledTask() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            Task<String> t = loop.run(() -> {
                Task<String> sleeper = Fibers.spawn(() -> {
                    Fibers.sleep(Duration.ofDays(1));
                    return "never";
                });
                Fibers.yieldNow();
                sleeper.cancel();
                return sleeper;
            });
            loop.run(() -> {
                CancelledException viaJoin = assertThrows(CancelledException.class, t::join);
                CancelledException viaGet = assertThrows(CancelledException.class, t::get);
                assertNotNull(viaJoin.getCause(), "the waiter's exception carries the one raised in the task");
                assertSame(viaJoin.getCause(), viaGet.getCause());
                assertEquals(viaJoin.getMessage(), viaGet.getMessage());
                return null;
            });
            // a plain thread gets the same from both
            CancelledException viaGet = assertThrows(CancelledException.class, t::get);
            CancelledException viaJoin = assertThrows(CancelledException.class, t::join);
            assertSame(viaJoin.getCause(), viaGet.getCause());
            assertThrows(CancelledException.class, () -> t.get(1, TimeUnit.SECONDS));
            assertThrows(CancelledException.class, () -> Fibers.await(t));
        }
    }

    @Test
    void joinRethrowsUncheckedUnchangedAndWrapsChecked() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            IllegalArgumentException unchecked = new IllegalArgumentException("unchecked");
            IOException checked = new IOException("checked");
            StackOverflowError error = new StackOverflowError("error");
            loop.run(() -> {
                Task<Object> a = Fibers.spawn(() -> {
                    throw unchecked;
                });
                Task<Object> b = Fibers.spawn(() -> {
                    throw checked;
                });
                Task<Object> c = Fibers.spawn(() -> {
                    throw error;
                });
                assertSame(unchecked, assertThrows(IllegalArgumentException.class, a::join));
                CompletionException ce = assertThrows(CompletionException.class, b::join);
                assertSame(checked, ce.getCause());
                assertSame(error, assertThrows(StackOverflowError.class, c::join));
                return null;
            });
            // and the same from a plain thread
            Task<Object> a = Fibers.spawn(loop, () -> {
                throw unchecked;
            });
            Task<Object> b = Fibers.spawn(loop, () -> {
                throw checked;
            });
            assertSame(unchecked, assertThrows(IllegalArgumentException.class, a::join));
            assertSame(checked, assertThrows(CompletionException.class, b::join).getCause());
        }
    }
}
