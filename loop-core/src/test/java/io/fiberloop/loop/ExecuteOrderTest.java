package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.await;
import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** FIFO order of {@code execute}, from the loop and from other threads, and the turn structure. */
@Timeout(10)
class ExecuteOrderTest {

    @Test
    void tasksFromAnotherThreadRunInSubmissionOrder() throws Exception {
        try (EventLoop loop = quiet("fifo-foreign").build()) {
            List<Integer> seen = new ArrayList<>(); // loop-confined
            CompletableFuture<List<Integer>> done = new CompletableFuture<>();
            for (int i = 0; i < 10_000; i++) {
                int n = i;
                loop.execute(() -> seen.add(n));
            }
            loop.execute(() -> done.complete(List.copyOf(seen)));
            assertEquals(IntStream.range(0, 10_000).boxed().toList(), await(done));
        }
    }

    @Test
    void tasksFromTheLoopRunInSubmissionOrder() throws Exception {
        try (EventLoop loop = quiet("fifo-local").build()) {
            List<Integer> seen = new ArrayList<>();
            CompletableFuture<List<Integer>> done = new CompletableFuture<>();
            loop.execute(() -> {
                for (int i = 0; i < 1000; i++) {
                    int n = i;
                    loop.execute(() -> seen.add(n));
                }
                loop.execute(() -> done.complete(List.copyOf(seen)));
            });
            assertEquals(IntStream.range(0, 1000).boxed().toList(), await(done));
        }
    }

    @Test
    void localAndForeignSubmissionsKeepOneFifoOrder() throws Exception {
        try (EventLoop loop = quiet("fifo-mixed").build()) {
            List<String> seen = new ArrayList<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            loop.execute(() -> {
                loop.execute(() -> seen.add("x (loop)"));
                // y is submitted from another thread, and has been submitted before z is.
                Thread t = Thread.ofPlatform().start(() -> loop.execute(() -> seen.add("y (foreign)")));
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                loop.execute(() -> seen.add("z (loop)"));
                loop.execute(() -> done.complete(List.copyOf(seen)));
            });
            assertEquals(List.of("x (loop)", "y (foreign)", "z (loop)"), await(done));
        }
    }

    @Test
    void executeOnTheLoopNeverRunsTheTaskInline() throws Exception {
        try (EventLoop loop = quiet("no-inline").build()) {
            List<String> seen = new ArrayList<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            loop.execute(() -> {
                loop.execute(() -> {
                    seen.add("task");
                    loop.execute(() -> seen.add("nested task"));
                    seen.add("task: execute returned");
                    loop.execute(() -> done.complete(List.copyOf(seen)));
                });
                seen.add("execute returned");
            });
            assertEquals(List.of("execute returned", "task", "task: execute returned", "nested task"), await(done));
        }
    }

    @Test
    void executeFromAnotherThreadReturnsBeforeTheTaskRuns() throws Exception {
        try (EventLoop loop = quiet("no-inline-foreign").build()) {
            CountDownLatch returned = new CountDownLatch(1);
            CompletableFuture<Boolean> sawReturn = new CompletableFuture<>();
            CompletableFuture<Thread> ranOn = new CompletableFuture<>();
            loop.execute(() -> {
                ranOn.complete(Thread.currentThread());
                try {
                    // Had execute run this inline, the caller could not have counted down yet.
                    sawReturn.complete(returned.await(5, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    sawReturn.completeExceptionally(e);
                }
            });
            returned.countDown();
            assertTrue(await(sawReturn), "the task ran before execute() returned to its caller");
            assertNotSame(Thread.currentThread(), await(ranOn));
        }
    }

    @Test
    void tasksRunOnTheCarrierThreadNamedAfterTheLoop() throws Exception {
        try (EventLoop loop = quiet("named-carrier").build()) {
            assertFalse(loop.inLoop());
            assertEquals("named-carrier", onLoop(loop, () -> Thread.currentThread().getName()));
            assertTrue(onLoop(loop, loop::inLoop));
            Thread first = onLoop(loop, Thread::currentThread);
            assertEquals(first, onLoop(loop, Thread::currentThread), "every task runs on the one carrier");
        }
    }

    @Test
    void tasksSubmittedDuringATurnRunAfterTheTasksAlreadyQueued() throws Exception {
        try (EventLoop loop = quiet("turn-order").build()) {
            List<String> seen = new ArrayList<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            CountDownLatch gate = new CountDownLatch(1);
            loop.execute(() -> {
                seen.add("gate");
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            loop.execute(() -> {
                seen.add("a");
                loop.execute(() -> seen.add("a2 (submitted by a)"));
            });
            loop.execute(() -> seen.add("b"));
            loop.execute(() -> seen.add("c"));
            loop.execute(() -> loop.execute(() -> done.complete(List.copyOf(seen))));
            gate.countDown();
            assertEquals(List.of("gate", "a", "b", "c", "a2 (submitted by a)"), await(done));
        }
    }

    @Test
    void aTaskThatResubmitsItselfLetsDueTimersFireBetweenItsRuns() throws Exception {
        // A resubmitted task runs on the next turn, and each turn fires the due timers first: so a
        // timer that becomes due while the chain runs fires right after the run that made it due.
        VirtualClock clock = LoopClock.virtual();
        try (EventLoop loop = quiet("turns").clock(clock).build()) {
            List<String> seen = new ArrayList<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            loop.execute(() -> {
                loop.schedule(() -> seen.add("timer"), Duration.ofSeconds(1));
                loop.execute(new Runnable() {
                    int i;

                    @Override
                    public void run() {
                        i++;
                        seen.add("x" + i);
                        if (i == 3) {
                            clock.advance(Duration.ofSeconds(1));
                        }
                        if (i < 6) {
                            loop.execute(this);
                        } else {
                            done.complete(List.copyOf(seen));
                        }
                    }
                });
            });
            assertEquals(List.of("x1", "x2", "x3", "timer", "x4", "x5", "x6"), await(done));
        }
    }

    @Test
    void currentNamesTheLoopOfTheCallingCode() throws Exception {
        try (EventLoop loop = quiet("current").build(); EventLoop other = quiet("current-other").build()) {
            assertSame(loop, onLoop(loop, EventLoop::current));
            assertSame(loop, onLoop(loop, EventLoop::currentOrNull));
            assertSame(other, onLoop(other, EventLoop::current));
            assertNull(EventLoop.currentOrNull());
            IllegalStateException e = assertThrows(IllegalStateException.class, EventLoop::current);
            assertTrue(e.getMessage().contains("not on an event loop"), e.getMessage());
        }
    }

    @Test
    void executeRejectsNull() {
        try (EventLoop loop = quiet("null-task").build()) {
            assertThrows(NullPointerException.class, () -> loop.execute(null));
        }
    }
}
