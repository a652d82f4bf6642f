package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static io.fiberloop.loop.TestLoops.settle;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A million cancelled timers leave nothing behind: not in the heap, not in its array, not their tasks. */
class TimerMemoryTest {
    private static final int N = 1_000_000;

    /** A distinct object per timer, so that a weak reference to one tells whether it is retained. */
    private record Tick(int n) implements Runnable {
        @Override
        public void run() {
            throw new AssertionError("cancelled timer " + n + " fired");
        }
    }

    @Test
    @Timeout(60)
    void aMillionCancelledTimersAreReleased() throws Exception {
        try (EventLoop loop = quiet("timer-memory").build()) {
            DefaultEventLoop impl = (DefaultEventLoop) loop;
            int[] sampled = {0, 1, N / 4, N / 2 - 1, N / 2, N / 2 + 1, 3 * N / 4, N - 1};
            List<WeakReference<Runnable>> loopHalf = new ArrayList<>();
            List<WeakReference<Runnable>> foreignHalf = new ArrayList<>();
            TimerHandle[] handles = onLoop(loop, () -> {
                TimerHandle[] hs = new TimerHandle[N];
                int s = 0;
                for (int i = 0; i < N; i++) {
                    Tick tick = new Tick(i);
                    // deadlines spread out, so that cancellation removes from all over the heap
                    hs[i] = loop.schedule(tick, Duration.ofDays(1).plusMillis((i * 7919L) % 100_000));
                    if (s < sampled.length && sampled[s] == i) {
                        (i < N / 2 ? loopHalf : foreignHalf).add(new WeakReference<>(tick));
                        s++;
                    }
                }
                return hs;
            });
            assertEquals(N, onLoop(loop, () -> loop.stats().pendingTimers()));
            int grown = onLoop(loop, impl::timerHeapCapacity);
            assertTrue(grown >= N, "heap array " + grown);

            int cancelledOnLoop = onLoop(loop, () -> {
                int c = 0;
                for (int i = 0; i < N / 2; i++) {
                    c += handles[i].cancel() ? 1 : 0;
                }
                return c;
            });
            assertEquals(N / 2, cancelledOnLoop);
            assertEquals(N - N / 2, onLoop(loop, () -> loop.stats().pendingTimers()));

            AtomicInteger cancelledElsewhere = new AtomicInteger();
            Thread canceller = Thread.ofPlatform().name("canceller").start(() -> {
                int c = 0;
                for (int i = N / 2; i < N; i++) {
                    c += handles[i].cancel() ? 1 : 0;
                }
                cancelledElsewhere.set(c);
            });
            canceller.join();
            assertEquals(N - N / 2, cancelledElsewhere.get());
            settle(loop);

            assertEquals(0, onLoop(loop, () -> loop.stats().pendingTimers()));
            int shrunk = onLoop(loop, impl::timerHeapCapacity);
            assertTrue(shrunk <= 256, "the heap array did not shrink: " + shrunk + " slots for 0 timers");

            for (TimerHandle h : handles) {
                if (!h.isCancelled() || h.hasFired()) {
                    throw new AssertionError(h + " should be cancelled");
                }
            }
            // the handles are still reachable here; the tasks of cancelled timers must not be
            assertTrue(collected(loopHalf), "tasks of timers cancelled on the loop are still reachable");
            assertTrue(collected(foreignHalf), "tasks of timers cancelled from another thread are still reachable");
            assertFalse(handles[0].cancel());
            Reference.reachabilityFence(handles);
        }
    }

    private static boolean collected(List<WeakReference<Runnable>> refs) {
        for (int attempt = 0; attempt < 20; attempt++) {
            if (refs.stream().allMatch(r -> r.refersTo(null))) {
                return true;
            }
            System.gc();
        }
        return refs.stream().allMatch(r -> r.refersTo(null));
    }
}
