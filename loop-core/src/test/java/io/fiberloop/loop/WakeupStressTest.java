package io.fiberloop.loop;

import static io.fiberloop.loop.TestLoops.onLoop;
import static io.fiberloop.loop.TestLoops.quiet;
import static io.fiberloop.loop.TestLoops.settle;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lost-wakeup race: other threads submit to a loop at the moment it runs out of work and goes
 * to sleep in its driver, round after round; a wakeup lost even once leaves the loop asleep with
 * work queued, and the round's bounded wait fails.
 */
class WakeupStressTest {
    /** How long each test keeps starting rounds; then the last round ends it. */
    private static final Duration BUDGET = Duration.ofMillis(2500);
    /** The bound on the wait for the rounds to end: far more than any round needs. */
    private static final long LIMIT_SECONDS = 10;
    /** Submitters; a round uses one or all of them, so a lost wakeup has no later submission to hide it. */
    private static final int SUBMITTERS = 2;
    /** At most this many spin-waits before a submission, to sweep it across the loop's way to sleep. */
    private static final int JITTER = 256;

    /** What a submitter does to the loop in a round: something that must make {@code ran} run on it. */
    interface Poke {
        void poke(EventLoop loop, Runnable ran);
    }

    /**
     * The rounds. Each round's last submission to run, on the loop, starts the next round: the
     * submitters, spinning on {@code go}, submit while the loop returns from that task and heads
     * for its driver's poll (each after a random few spins), which is where a wakeup can be lost.
     */
    private static final class Rounds {
        final EventLoop loop;
        final Poke poke;
        final boolean single;
        final Runnable prepare;
        final long deadline = System.nanoTime() + BUDGET.toNanos();
        final CompletableFuture<Integer> done = new CompletableFuture<>();
        final AtomicLong submitted = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        /** The round the submitters may play; {@link Integer#MAX_VALUE}: stop. */
        volatile int go;
        // loop-confined
        int round;
        int remaining;
        long ranCount;

        /**
         * @param single whether every round has one submission (else rounds alternate one and all)
         * @param prepare runs on the loop just before a round starts
         */
        Rounds(EventLoop loop, boolean single, Runnable prepare, Poke poke) {
            this.loop = loop;
            this.single = single;
            this.prepare = prepare;
            this.poke = poke;
        }

        int active(int r) {
            return single || r % 2 == 1 ? 1 : SUBMITTERS;
        }

        /** On the loop: the next round, or the end. */
        void next() {
            if (System.nanoTime() - deadline > 0) {
                go = Integer.MAX_VALUE;
                done.complete(round);
                return;
            }
            round++;
            remaining = active(round);
            prepare.run();
            go = round; // the submitters are off while this task is still returning
        }

        /** On the loop: one submission ran. */
        final Runnable ran = () -> {
            ranCount++;
            if (--remaining == 0) {
                next();
            }
        };

        void submitter(int index) {
            try {
                for (int r = 1; ; r++) {
                    int g;
                    for (int spins = 0; (g = go) < r; spins++) {
                        if (spins < 10_000) {
                            Thread.onSpinWait();
                        } else {
                            Thread.yield(); // two cores, perhaps busy: let the loop run
                        }
                    }
                    if (g == Integer.MAX_VALUE) {
                        return;
                    }
                    r = g;
                    if (index < active(r)) {
                        for (int i = ThreadLocalRandom.current().nextInt(JITTER); i > 0; i--) {
                            Thread.onSpinWait();
                        }
                        submitted.incrementAndGet();
                        poke.poke(loop, ran);
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }

        /** Plays the rounds and checks that every submission ran. */
        void play() throws Exception {
            Thread[] threads = new Thread[SUBMITTERS];
            for (int i = 0; i < SUBMITTERS; i++) {
                int index = i;
                threads[i] = Thread.ofPlatform().daemon().name(loop.name() + "-submitter-" + i).start(() -> submitter(index));
            }
            try {
                loop.execute(this::next);
                int rounds;
                try {
                    rounds = done.get(LIMIT_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    int r = go;
                    fail("round " + r + " did not end within " + LIMIT_SECONDS + " s: " + submitted.get()
                            + " submissions, the loop is " + loop.state() + " with " + loop.stats().queueDepth()
                            + " tasks queued: a lost wakeup (or a submitter failed: " + failure.get() + ")");
                    return;
                }
                for (Thread t : threads) {
                    assertTrue(t.join(Duration.ofSeconds(LIMIT_SECONDS)), t.getName() + " did not end");
                }
                assertNull(failure.get(), "a submitter failed");
                settle(loop);
                long ranTotal = onLoop(loop, () -> ranCount);
                assertEquals(submitted.get(), ranTotal, "every submission ran exactly once, over " + rounds + " rounds");
                assertTrue(rounds > 10, "only " + rounds + " rounds in " + BUDGET);
            } finally {
                go = Integer.MAX_VALUE;
            }
        }
    }

    @Test
    @Timeout(60)
    void executeFromOtherThreadsAsTheLoopGoesToSleep() throws Exception {
        EventLoop loop = quiet("wakeup-execute").build();
        try (AutoCloseable c = closing(loop)) {
            new Rounds(loop, false, () -> { }, EventLoop::execute).play();
        }
    }

    @Test
    @Timeout(60)
    void timersFromOtherThreadsAsTheLoopGoesToSleep() throws Exception {
        EventLoop loop = quiet("wakeup-schedule").build();
        try (AutoCloseable c = closing(loop)) {
            new Rounds(loop, false, () -> { }, (l, ran) -> l.schedule(ran, Duration.ZERO)).play();
        }
    }

    @Test
    @Timeout(60)
    void aVirtualClockAdvancedFromAnotherThreadAsTheLoopGoesToSleep() throws Exception {
        VirtualClock clock = LoopClock.virtual();
        EventLoop loop = quiet("wakeup-clock").clock(clock).build();
        try (AutoCloseable c = closing(loop)) {
            Rounds[] rounds = new Rounds[1];
            // each round, the loop sets a timer 1 ns ahead and goes to sleep; only the advance can wake it
            rounds[0] = new Rounds(loop, true, () -> loop.scheduleAt(rounds[0].ran, loop.now() + 1),
                    (l, ran) -> clock.advance(Duration.ofNanos(1)));
            rounds[0].play();
        }
    }

    /**
     * Closes {@code loop} with a bounded wait: a loop that lost a wakeup may not wake for its close
     * either, and the round's failure must still be reported (close's own failure is added to it).
     */
    private static AutoCloseable closing(EventLoop loop) {
        return () -> {
            Thread closer = Thread.ofPlatform().daemon().name(loop.name() + "-closer").start(loop::close);
            if (!closer.join(Duration.ofSeconds(LIMIT_SECONDS))) {
                throw new AssertionError("loop '" + loop.name() + "' did not close within " + LIMIT_SECONDS + " s");
            }
        };
    }
}
