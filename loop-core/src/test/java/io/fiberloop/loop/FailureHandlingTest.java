package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.await;
import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.fiberloop.loop.EventLoop.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Exceptions escaping tasks and timer callbacks. */
@Timeout(10)
class FailureHandlingTest {

    @Test
    void aFailedLambdaIsLoggedAsTheClassItWasWrittenInNotItsIdentity() {
        Runnable lambda = () -> { };
        assertEquals("a task from FailureHandlingTest", DefaultEventLoop.describe(lambda));
        assertEquals("closing the I/O driver x", DefaultEventLoop.describe("closing the I/O driver x"));
        Runnable named = new Runnable() {
            @Override
            public void run() {
            }

            @Override
            public String toString() {
                return "flush of channel 7";
            }
        };
        assertEquals("task flush of channel 7", DefaultEventLoop.describe(named));
    }

    @Test
    void anExceptionEscapingATaskDoesNotStopTheLoop() throws Exception {
        // default handler: logged at ERROR (expected in the test output), the loop keeps running
        try (EventLoop loop = quiet("fail-default").build()) {
            List<String> seen = new ArrayList<>();
            CompletableFuture<List<String>> done = new CompletableFuture<>();
            loop.execute(() -> seen.add("before"));
            loop.execute(() -> {
                throw new IllegalStateException("expected by FailureHandlingTest: a failing task");
            });
            loop.execute(() -> {
                throw new StackOverflowError("expected by FailureHandlingTest: an Error");
            });
            loop.schedule(() -> {
                throw new IllegalStateException("expected by FailureHandlingTest: a failing timer");
            }, Duration.ZERO);
            loop.execute(() -> seen.add("after"));
            TestLoops.settle(loop);
            loop.execute(() -> done.complete(List.copyOf(seen)));
            assertEquals(List.of("before", "after"), await(done));
            assertEquals(State.ACTIVE, loop.state());
        }
    }

    @Test
    void aCustomHandlerReceivesTheLoopTheErrorAndTheTask() throws Exception {
        record Failure(EventLoop loop, Throwable error, Object source, boolean onLoop) {
        }
        List<Failure> failures = new ArrayList<>(); // loop-confined: the handler runs on the loop
        List<EventLoop> self = new ArrayList<>();
        EventLoop loop = quiet("fail-custom")
                .exceptionHandler((l, e, src) -> failures.add(new Failure(l, e, src, self.get(0).inLoop())))
                .build();
        self.add(loop);
        try (loop) {
            RuntimeException taskError = new RuntimeException("task");
            Runnable task = () -> {
                throw taskError;
            };
            Error timerError = new AssertionError("timer");
            Runnable timerTask = () -> {
                throw timerError;
            };
            loop.execute(task);
            loop.schedule(timerTask, Duration.ZERO);
            List<Failure> got = onLoop(loop, () -> {
                // a task submitted after both, on a later turn: both failures are in
                CompletableFuture<List<Failure>> f = new CompletableFuture<>();
                loop.execute(() -> f.complete(List.copyOf(failures)));
                return f;
            }).get();
            assertEquals(2, got.size(), got.toString());
            Failure first = got.stream().filter(f -> f.error() == taskError).findFirst().orElseThrow();
            assertSame(loop, first.loop());
            assertSame(task, first.source());
            assertEquals(true, first.onLoop());
            Failure second = got.stream().filter(f -> f.error() == timerError).findFirst().orElseThrow();
            assertSame(loop, second.loop());
            assertSame(timerTask, second.source());
        }
    }

    @Test
    void aHandlerThatThrowsDoesNotKillTheLoop() throws Exception {
        try (EventLoop loop = quiet("fail-handler")
                .exceptionHandler((l, e, src) -> {
                    throw new IllegalStateException("expected by FailureHandlingTest: the handler fails too");
                })
                .build()) {
            List<String> seen = new ArrayList<>();
            loop.execute(() -> seen.add("1"));
            loop.execute(() -> {
                throw new RuntimeException("expected by FailureHandlingTest: a failing task");
            });
            loop.schedule(() -> {
                throw new RuntimeException("expected by FailureHandlingTest: a failing timer");
            }, Duration.ZERO);
            loop.execute(() -> seen.add("2"));
            TestLoops.settle(loop);
            assertEquals(List.of("1", "2"), onLoop(loop, () -> List.copyOf(seen)));
            assertEquals(State.ACTIVE, loop.state());
            assertEquals("alive", loop.run(() -> "alive"));
        }
    }
}
