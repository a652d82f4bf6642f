package io.fiberloop.loop;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Helpers shared by the loop-core tests. */
final class TestLoops {
    private TestLoops() {
    }

    /** A builder with the watchdog off, so that tests that block the loop on purpose log nothing. */
    static EventLoop.Builder quiet(String name) {
        return EventLoop.builder().name(name).watchdog(null);
    }

    /**
     * Runs {@code work} as a task on the loop (through {@code execute}, so that it also works while
     * another thread is in {@code run}) and returns its result.
     */
    static <T> T onLoop(EventLoop loop, Callable<T> work) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(work.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return await(f);
    }

    /**
     * Returns once the loop has run a full turn that began after this call: every task queued and
     * every foreign timer or cancellation submitted before it has been taken in, and every timer due
     * on the clock as it reads now has fired. (A task that resubmits itself runs on the next turn,
     * whose timers fire before its tasks run.)
     */
    static void settle(EventLoop loop) throws Exception {
        CompletableFuture<Void> f = new CompletableFuture<>();
        loop.execute(() -> loop.execute(() -> f.complete(null)));
        await(f);
    }

    static <T> T await(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }

    /** Burns the CPU of the calling thread for {@code d} (a deliberately slow task). */
    static void busySpin(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }

    /** Spins (no sleep) until the loop reaches {@code state}; callers carry a {@code @Timeout}. */
    static void awaitState(EventLoop loop, EventLoop.State state) {
        while (loop.state() != state) {
            Thread.onSpinWait();
        }
    }
}
