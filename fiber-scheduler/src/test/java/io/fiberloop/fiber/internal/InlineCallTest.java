package io.fiberloop.fiber.internal;

import static org.junit.jupiter.api.Assertions.*;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.FiberLoops;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.LoopFixture;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.StallReport;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An inline call ({@link Inline#call}) is a task only once something needs one, and from then on
 * the task it would have been from the start: asked for from inside, suspended (in a fiberloop
 * wait or a JDK blocking call), cancelled from outside, failed, spawning, stalled.
 */
@Timeout(20)
class InlineCallTest {

    /** Makes a call in a loop task and runs it there, on the work fiber; returns the call once {@code Inline.run} returned. */
    private static <T> InlineCall<T> runInline(EventLoop loop, String name, Callable<T> body) throws Exception {
        CompletableFuture<InlineCall<T>> ran = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                InlineCall<T> call = Inline.call(FiberHost.of(loop), name, body);
                Inline.run(call);
                ran.complete(call);
            } catch (Throwable e) {
                ran.completeExceptionally(e);
            }
        });
        return ran.get(10, TimeUnit.SECONDS);
    }

    /** Runs {@code r} in a loop task and waits for it. */
    private static <T> T onLoop(EventLoop loop, Callable<T> r) throws Exception {
        CompletableFuture<T> done = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                done.complete(r.call());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return done.get(10, TimeUnit.SECONDS);
    }

    @Test
    void answeringAtOnceMakesNoTask() throws Exception {
        try (EventLoop loop = LoopFixture.virtualLoop()) {
            InlineCall<Integer> call = runInline(loop, "quick", () -> 42);
            assertTrue(call.isDone());
            assertFalse(call.isTask(), "a call that answered at once made no task");
            assertEquals(0, onLoop(loop, () -> FiberLoops.liveTasks(loop)));
            // asked for afterwards: the task it would have been, succeeded
            Task<Integer> t = onLoop(loop, call::task);
            assertEquals(Task.State.SUCCESS, t.state());
            assertEquals(42, t.resultNow());
            assertEquals("quick", t.name());
            assertEquals(0, onLoop(loop, () -> FiberLoops.liveTasks(loop)));
        }
    }

    @Test
    void theLiveTasksCountARunningCall() throws Exception {
        try (EventLoop loop = LoopFixture.virtualLoop()) {
            InlineCall<Integer> call = runInline(loop, "counter", () -> FiberLoops.liveTasks(loop));
            assertEquals(1, onLoop(loop, call::task).resultNow(), "the call counts itself, as the task it would have been");
        }
    }

    @Test
    void askingForTheCurrentFiberThenSuspendingKeepsOneTask() throws Exception {
        try (EventLoop loop = LoopFixture.virtualLoop()) {
            AtomicReference<Fiber> first = new AtomicReference<>();
            AtomicReference<String> whileSuspended = new AtomicReference<>();
            InlineCall<String> call = runInline(loop, "asker", () -> {
                Fiber me = Fiber.current();
                first.set(me);
                assertEquals("asker", me.name());
                assertEquals(1, FiberLoops.liveTasks(loop));
                // a loop task that runs while the call sleeps: the loop's work went on without it
                loop.execute(() -> whileSuspended.set(me.state() + " " + FiberLoops.liveTasks(loop)));
                Fibers.sleep(Duration.ofMillis(10));
                assertSame(me, Fiber.current(), "the same fiber after the suspension");
                assertEquals("asker", Thread.currentThread().getName(), "a suspended task's thread carries its name");
                return "done";
            });
            assertEquals("SUSPENDED 1", whileSuspended.get());
            assertTrue(call.isTask());
            Task<String> t = call.task();
            assertSame(first.get(), t.fiber());
            assertEquals("done", t.resultNow());
            assertEquals(Fiber.State.ENDED, t.fiber().state());
            assertEquals(0, onLoop(loop, () -> FiberLoops.liveTasks(loop)));
        }
    }

    @Test
    void cancelledFromOutsideAfterItSuspended() throws Exception {
        try (EventLoop loop = LoopFixture.virtualLoop()) {
            AtomicReference<String> unwound = new AtomicReference<>();
            AtomicReference<InlineCall<Void>> self = new AtomicReference<>();
            CompletableFuture<InlineCall<Void>> ran = new CompletableFuture<>();
            loop.execute(() -> {
                InlineCall<Void> call = Inline.call(FiberHost.of(loop), "victim", () -> {
                    // a loop callback cancels the call once it waits, as a closing connection does
                    loop.execute(() -> assertTrue(self.get().cancel()));
                    try {
                        Fibers.await(new CompletableFuture<Void>()); // never completes
                        unwound.set("not cancelled");
                    } catch (CancelledException e) {
                        unwound.set("cancelled: " + e.getMessage());
                        throw e;
                    }
                    return null;
                });
                self.set(call);
                Inline.run(call);
                ran.complete(call);
            });
            InlineCall<Void> call = ran.get(10, TimeUnit.SECONDS);
            assertEquals("cancelled: task 'victim' was cancelled", unwound.get());
            assertTrue(call.isCancelled());
            assertEquals(Task.State.CANCELLED, call.task().state());
            assertFalse(onLoop(loop, call::cancel), "a done call cannot be cancelled again");
            assertEquals(0, onLoop(loop, () -> FiberLoops.liveTasks(loop)));
        }
    }

    @Test
    void cancelledBeforeItRunsNeverRuns() throws Exception {
        try (EventLoop loop = LoopFixture.virtualLoop()) {
            AtomicReference<String> ran = new AtomicReference<>("no");
            InlineCall<Void> call = onLoop(loop, () -> {
                InlineCall<Void> c = Inline.call(FiberHost.of(loop), "never", () -> {
                    ran.set("yes");
                    return null;
                });
                assertTrue(c.cancel());
                Inline.run(c);
                return c;
            });
            assertEquals("no", ran.get());
            assertTrue(call.isCancelled());
            assertEquals(0, onLoop(loop, () -> FiberLoops.liveTasks(loop)));
        }
    }

    @Test
    void aFailureGoesThroughATask() throws Exception {
        try (EventLoop loop = LoopFixture.virtualLoop()) {
            FiberHost host = FiberHost.of(loop);
            onLoop(loop, () -> {
                host.keepFailures();
                return null;
            });
            InlineCall<Void> call = runInline(loop, "thrower", () -> {
                throw new IllegalStateException("boom");
            });
            assertTrue(call.isDone());
            assertTrue(call.isTask(), "the failure is reported through a task");
            List<Throwable> unretrieved = onLoop(loop, host::unretrievedFailures);
            assertEquals(1, unretrieved.size(), unretrieved::toString);
            assertEquals("task 'thrower' failed and nobody joined it", unretrieved.get(0).getMessage());
            Task<Void> t = call.task();
            assertEquals(Task.State.FAILED, t.state());
            assertEquals("boom", t.exceptionNow().getMessage());
            assertEquals(0, onLoop(loop, () -> FiberLoops.liveTasks(loop)));
        }
    }

    @Test
    void aSpawnedChildKnowsItsSpawner() throws Exception {
        try (EventLoop loop = LoopFixture.virtualLoop()) {
            AtomicReference<String> seen = new AtomicReference<>();
            InlineCall<String> call = runInline(loop, "parent", () -> {
                Task<String> child = Fibers.spawn(() -> "child's");
                assertSame(Fiber.current(), child.fiber().spawner());
                seen.set(child.name());
                return child.join();
            });
            assertTrue(seen.get().matches("task-\\d+ from 'parent'"), seen.get());
            assertEquals("child's", call.task().resultNow());
        }
    }

    @Test
    void aJdkBlockingCallMakesItATaskAsItLeavesTheCarrier() throws Exception {
        try (EventLoop loop = LoopFixture.virtualLoop()) {
            CountDownLatch latch = new CountDownLatch(1);
            AtomicReference<String> whileBlocked = new AtomicReference<>();
            AtomicReference<InlineCall<Fiber>> self = new AtomicReference<>();
            CompletableFuture<InlineCall<Fiber>> ran = new CompletableFuture<>();
            loop.execute(() -> {
                InlineCall<Fiber> call = Inline.call(FiberHost.of(loop), "blocker", () -> {
                    // runs on the work fiber that takes over while this one blocks
                    loop.execute(() -> {
                        InlineCall<Fiber> c = self.get();
                        whileBlocked.set(c.isTask() + " " + FiberLoops.liveTasks(loop) + " " + c.task().fiber().state());
                        latch.countDown();
                    });
                    latch.await(); // a JDK blocking call: the work fiber's thread parks without asking for its task
                    assertEquals("blocker", Thread.currentThread().getName());
                    return Fiber.current();
                });
                self.set(call);
                Inline.run(call);
                ran.complete(call);
            });
            InlineCall<Fiber> call = ran.get(10, TimeUnit.SECONDS);
            assertEquals("true 1 RUNNING", whileBlocked.get(), "made a task as it blocked, before the loop went on");
            assertSame(call.task().fiber(), call.task().resultNow(), "and the body found that task afterwards");
        }
    }

    @Test
    void theWatchdogNamesAStalledCallThatIsNoTask() throws Exception {
        List<StallReport> reports = new CopyOnWriteArrayList<>();
        Duration threshold = Duration.ofMillis(50);
        try (EventLoop loop = FiberLoops.builder().watchdog(threshold).onStall(reports::add).build()) {
            InlineCall<Boolean> call = runInline(loop, "GET /stuck", () -> {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (System.nanoTime() < end && reports.stream().noneMatch(r -> r.running() != null && r.running().startsWith("Fiber[GET /stuck"))) {
                    Thread.onSpinWait();
                }
                return true;
            });
            assertFalse(call.isTask(), "the watchdog named it without making it a task");
            StallReport r = reports.stream().filter(x -> x.running() != null && x.running().startsWith("Fiber[GET /stuck")).findFirst()
                    .orElseThrow(() -> new AssertionError("no report names the call: " + reports));
            assertTrue(r.running().startsWith("Fiber[GET /stuck, RUNNING]"), r::describe);
            assertTrue(r.running().contains("at io.fiberloop.fiber.internal.InlineCallTest."), r::describe);
        }
    }
}
