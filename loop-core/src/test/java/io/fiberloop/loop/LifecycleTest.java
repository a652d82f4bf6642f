package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.await;
import static io.fiberloop.loop.TestLoops.awaitState;
import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fiberloop.loop.EventLoop.State;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/** States, run/runForever/stop, close. */
@Timeout(10)
class LifecycleTest {

    @Test
    void stateTransitionsFromNewToClosed() throws Exception {
        EventLoop loop = quiet("states").build();
        List<State> seen = new ArrayList<>();
        seen.add(loop.state());
        onLoop(loop, () -> null); // the first submission starts the carrier
        seen.add(loop.state());
        seen.add(loop.run(loop::state));
        seen.add(loop.state());
        CompletableFuture<State> closing = new CompletableFuture<>();
        CompletableFuture<State> queuedSaw = new CompletableFuture<>();
        loop.execute(() -> {
            loop.execute(() -> queuedSaw.complete(loop.state()));
            loop.close(); // from the loop: only starts closing
            closing.complete(loop.state());
        });
        seen.add(await(closing));
        assertEquals(State.CLOSING, await(queuedSaw), "a task queued before close() still runs, while CLOSING");
        await(loop.terminationFuture());
        seen.add(loop.state());
        assertEquals(List.of(State.NEW, State.ACTIVE, State.RUNNING, State.ACTIVE, State.CLOSING, State.CLOSED), seen);
    }

    @Test
    void runReturnsMainsResultAndTheLoopStaysOpen() throws Exception {
        try (EventLoop loop = quiet("run-result").build()) {
            assertEquals("answer", loop.run(() -> "answer"));
            assertEquals(42, loop.run(() -> 42));
            assertTrue(loop.run(loop::inLoop), "main runs on the loop");
            AtomicInteger ran = new AtomicInteger();
            loop.run((Runnable) ran::incrementAndGet);
            assertEquals(1, ran.get());
            assertEquals(State.ACTIVE, loop.state());
        }
    }

    @Test
    void runWrapsMainsCheckedExceptionInAnUncheckedOneKeepingTheCause() {
        try (EventLoop loop = quiet("run-checked").build()) {
            IOException boom = new IOException("boom");
            CompletionException thrown = assertThrows(CompletionException.class, () -> loop.run(() -> {
                throw boom;
            }));
            assertSame(boom, thrown.getCause());
            assertEquals(State.ACTIVE, loop.state());
        }
    }

    @Test
    void aCallerInterruptedWhileRunWaitsGetsAnUncheckedExceptionAndKeepsItsInterruptStatus() throws Exception {
        try (EventLoop loop = quiet("run-interrupted").build()) {
            CountDownLatch mainStarted = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> seen = new CompletableFuture<>();
            Thread caller = Thread.ofPlatform().start(() -> {
                try {
                    loop.run(() -> {
                        mainStarted.countDown();
                        release.await(); // a loop without fibers: main holds the carrier until released
                        return null;
                    });
                    seen.complete("returned");
                } catch (CompletionException e) {
                    seen.complete(e.getCause().getClass().getSimpleName() + ", interrupted " + Thread.currentThread().isInterrupted());
                } catch (Throwable t) {
                    seen.complete("unexpected " + t);
                }
            });
            assertTrue(mainStarted.await(10, TimeUnit.SECONDS));
            caller.interrupt();
            assertEquals("InterruptedException, interrupted true", seen.get(10, TimeUnit.SECONDS));
            release.countDown();
        }
    }

    @Test
    void runRethrowsMainsUncheckedExceptionAndErrorUnchanged() {
        try (EventLoop loop = quiet("run-unchecked").build()) {
            IllegalArgumentException iae = new IllegalArgumentException("bad");
            assertSame(iae, assertThrows(IllegalArgumentException.class, () -> loop.run(() -> {
                throw iae;
            })));
            AssertionError err = new AssertionError("error");
            assertSame(err, assertThrows(AssertionError.class, () -> loop.run(() -> {
                throw err;
            })));
            UnsupportedOperationException uoe = new UnsupportedOperationException("runnable");
            assertSame(uoe, assertThrows(UnsupportedOperationException.class, () -> loop.run((Runnable) () -> {
                throw uoe;
            })));
        }
    }

    @Test
    void runOnTheLoopItselfThrowsWithAHelpfulMessage() throws Exception {
        try (EventLoop loop = quiet("run-on-loop").build()) {
            Throwable fromRun = onLoop(loop, () -> catchThrowable(() -> loop.run(() -> 1)));
            assertTrue(fromRun instanceof IllegalStateException, "was " + fromRun);
            assertTrue(fromRun.getMessage().contains("run-on-loop"), fromRun.getMessage());
            assertTrue(fromRun.getMessage().contains("execute"), "the message should say what to do instead: " + fromRun.getMessage());
            Throwable fromForever = onLoop(loop, () -> catchThrowable(loop::runForever));
            assertTrue(fromForever instanceof IllegalStateException, "was " + fromForever);
            assertEquals(State.ACTIVE, loop.state());
            assertEquals(7, loop.run(() -> 7), "the refused call left the loop usable");
        }
    }

    @Test
    void aSecondConcurrentRunIsRefused() throws Exception {
        try (EventLoop loop = quiet("run-twice").build()) {
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Object> first = CompletableFuture.supplyAsync(() -> {
                try {
                    return loop.run(() -> {
                        entered.countDown();
                        release.await();
                        return "first";
                    });
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, r -> Thread.ofPlatform().start(r));
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            assertEquals(State.RUNNING, loop.state());
            IllegalStateException second = assertThrows(IllegalStateException.class, () -> loop.run(() -> "second"));
            assertTrue(second.getMessage().contains("already running"), second.getMessage());
            assertThrows(IllegalStateException.class, loop::runForever);
            release.countDown();
            assertEquals("first", await(first));
            assertEquals(State.ACTIVE, loop.state());
        }
    }

    @Test
    void runForeverReturnsAfterStopFromAnotherThread() throws Exception {
        try (EventLoop loop = quiet("run-forever").build()) {
            for (int round = 0; round < 200; round++) {
                Thread stopper = Thread.ofPlatform().start(() -> {
                    awaitState(loop, State.RUNNING);
                    loop.stop();
                });
                loop.runForever();
                stopper.join();
                assertEquals(State.ACTIVE, loop.state());
            }
            assertEquals("still serving", loop.run(() -> "still serving"));
        }
    }

    @Test
    void runForeverServesWorkUntilStopped() throws Exception {
        try (EventLoop loop = quiet("run-forever-work").build()) {
            List<Integer> seen = new ArrayList<>();
            Thread submitter = Thread.ofPlatform().start(() -> {
                awaitState(loop, State.RUNNING);
                for (int i = 0; i < 100; i++) {
                    int n = i;
                    loop.execute(() -> seen.add(n));
                }
                loop.execute(loop::stop);
            });
            loop.runForever();
            submitter.join();
            assertEquals(100, onLoop(loop, seen::size));
        }
    }

    @Test
    void stopMakesAPendingRunThrow() throws Exception {
        try (EventLoop loop = quiet("run-stopped").build()) {
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> catchThrowable(() -> loop.run(() -> {
                entered.countDown();
                release.await();
                return "late";
            })), r -> Thread.ofPlatform().start(r));
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            loop.stop();
            Throwable t = await(outcome);
            release.countDown();
            assertTrue(t instanceof IllegalStateException, "was " + t);
            assertTrue(t.getMessage().contains("stopped"), t.getMessage());
            assertEquals(1, loop.run(() -> 1));
        }
    }

    @Test
    void stopWithNobodyRunningDoesNothing() throws Exception {
        try (EventLoop loop = quiet("stop-idle").build()) {
            loop.stop();
            assertEquals(State.NEW, loop.state());
            assertEquals("ok", loop.run(() -> "ok"));
            loop.stop();
            assertEquals("ok again", loop.run(() -> "ok again"));
        }
    }

    @Test
    void closeIsIdempotentAlsoFromManyThreads() throws Exception {
        EventLoop loop = quiet("close-twice").build();
        loop.run(() -> null);
        Thread[] closers = new Thread[4];
        for (int i = 0; i < closers.length; i++) {
            closers[i] = Thread.ofPlatform().start(loop::close);
        }
        loop.close();
        for (Thread t : closers) {
            t.join();
        }
        loop.close();
        assertEquals(State.CLOSED, loop.state());
        assertTrue(loop.terminationFuture().isDone());
    }

    @Test
    void closeCancelsPendingTimersAndLetsQueuedTasksRun() throws Exception {
        EventLoop loop = quiet("close-drain").build();
        List<String> seen = new ArrayList<>();
        CountDownLatch gate = new CountDownLatch(1);
        TimerHandle far = loop.schedule(() -> seen.add("far timer"), Duration.ofHours(1));
        TimerHandle fromLoop = onLoop(loop, () -> loop.schedule(() -> seen.add("loop timer"), Duration.ofHours(2)));
        loop.execute(() -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            seen.add("gate");
        });
        TimerHandle late = loop.schedule(() -> seen.add("late timer"), Duration.ofHours(3)); // not yet taken in
        loop.execute(() -> seen.add("queued 1"));
        loop.execute(() -> {
            seen.add("queued 2");
            loop.execute(() -> seen.add("submitted while closing"));
        });
        Thread closer = Thread.ofPlatform().start(loop::close);
        awaitState(loop, State.CLOSING);
        assertThrows(LoopClosedException.class, () -> loop.execute(() -> seen.add("refused")));
        gate.countDown();
        closer.join();
        assertEquals(State.CLOSED, loop.state());
        // the loop has ended: reading its confined list from here is safe (join is a happens-before)
        assertEquals(List.of("gate", "queued 1", "queued 2", "submitted while closing"), seen);
        for (TimerHandle h : List.of(far, fromLoop, late)) {
            assertTrue(h.isCancelled(), h + " should be cancelled");
            assertFalse(h.hasFired());
            assertFalse(h.cancel(), "cancel() after close finds it cancelled already");
        }
    }

    @Test
    void submissionsAfterCloseAreRefusedWithAClearMessage() {
        EventLoop loop = quiet("closed-loop").build();
        loop.execute(() -> { });
        loop.close();
        Executable[] refused = {
            () -> loop.execute(() -> { }),
            () -> loop.schedule(() -> { }, Duration.ofSeconds(1)),
            () -> loop.scheduleAt(() -> { }, 0),
        };
        for (Executable e : refused) {
            LoopClosedException ex = assertThrows(LoopClosedException.class, e);
            assertTrue(ex.getMessage().contains("closed"), ex.getMessage());
            assertTrue(ex.getMessage().contains("closed-loop"), "the message names the loop: " + ex.getMessage());
        }
    }

    @Test
    void runAndRunForeverOnAClosedLoopThrowIllegalState() {
        EventLoop loop = quiet("closed-run").build();
        loop.close();
        IllegalStateException run = assertThrows(IllegalStateException.class, () -> loop.run(() -> 1));
        assertTrue(run.getMessage().contains("closed"), run.getMessage());
        IllegalStateException forever = assertThrows(IllegalStateException.class, loop::runForever);
        assertTrue(forever.getMessage().contains("closed"), forever.getMessage());
    }

    @Test
    void closeFromTheLoopItselfDoesNotDeadlock() throws Exception {
        EventLoop loop = quiet("close-self").build();
        CompletableFuture<String> after = new CompletableFuture<>();
        loop.execute(() -> {
            loop.close();
            after.complete("close() returned on the loop");
        });
        assertEquals("close() returned on the loop", await(after));
        await(loop.terminationFuture());
        assertEquals(State.CLOSED, loop.state());
        loop.close(); // and again from outside: returns at once
    }

    @Test
    void closeFromMainDuringRunReturnsMainsResult() throws Exception {
        EventLoop loop = quiet("close-in-main").build();
        assertEquals("done", loop.run(() -> {
            loop.close();
            return "done";
        }));
        await(loop.terminationFuture());
        assertEquals(State.CLOSED, loop.state());
    }

    @Test
    void closeReleasesRunForever() throws Exception {
        EventLoop loop = quiet("close-forever").build();
        Thread closer = Thread.ofPlatform().start(() -> {
            awaitState(loop, State.RUNNING);
            loop.close();
        });
        loop.runForever();
        closer.join();
        assertEquals(State.CLOSED, loop.state());
    }

    @Test
    void terminationFutureCompletesAndCannotBeCompletedByCallers() throws Exception {
        EventLoop loop = quiet("termination").build();
        loop.execute(() -> { });
        CompletableFuture<Void> t = loop.terminationFuture();
        assertFalse(t.isDone());
        t.complete(null); // a caller's copy: completing it must not fake the loop's end
        assertFalse(loop.terminationFuture().isDone());
        CompletableFuture<Void> real = loop.terminationFuture();
        loop.close();
        assertNull(await(real));
        assertTrue(loop.terminationFuture().isDone());
    }

    @Test
    void closeOfANewLoop() throws Exception {
        EventLoop loop = quiet("close-new").build();
        assertEquals(State.NEW, loop.state());
        loop.close();
        assertEquals(State.CLOSED, loop.state());
        assertNull(await(loop.terminationFuture()));
        assertThrows(LoopClosedException.class, () -> loop.execute(() -> { }));
        loop.close();
    }

    private static Throwable catchThrowable(Executable e) {
        try {
            e.execute();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }
}
