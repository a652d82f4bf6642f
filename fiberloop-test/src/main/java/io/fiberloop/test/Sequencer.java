package io.fiberloop.test;

import io.fiberloop.fiber.sync.Event;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Forces blocks of code in different fibers to run in an explicit order (trio's
 * {@code Sequencer}): block 0 starts at once; block {@code n} starts only once block {@code n - 1}
 * has finished. Each step number is used once.
 *
 * {@snippet :
 * Sequencer seq = Sequencer.create();
 * Task<Void> a = Fibers.spawn(() -> { seq.run(1, () -> lock.lock()); seq.run(3, () -> lock.unlock()); return null; });
 * Task<Void> b = Fibers.spawn(() -> { seq.run(0, () -> {}); seq.run(2, () -> assertFalse(lock.tryLock())); return null; });
 * Fibers.joinAll(a, b);
 * }
 *
 * <p>If a block throws, the sequencer is broken: every later block throws
 * {@link IllegalStateException} at once instead of waiting forever, so a test fails at the first
 * error rather than at its timeout.
 *
 * <p>Threading: the fibers of one loop, the first caller's; another thread gets
 * {@link IllegalStateException}.
 */
public final class Sequencer {
    private final Map<Integer, Event> done = new HashMap<>();
    private final Map<Integer, Boolean> claimed = new HashMap<>();
    private Throwable broken;
    private int brokenAt;
    private final LoopAffinity affinity = new LoopAffinity("sequencer");

    private Sequencer() {
    }

    /** {@return a new sequencer; its first block is number 0} */
    public static Sequencer create() {
        return new Sequencer();
    }

    /**
     * Runs {@code body} as block {@code step}, once block {@code step - 1} has finished.
     * Suspends the calling fiber until then.
     *
     * @param step the block's number, from 0; each number once
     * @param body the block
     * @throws IllegalArgumentException if {@code step} is negative or was used before
     * @throws IllegalStateException if an earlier block threw (the sequencer is broken)
     */
    public void run(int step, Runnable body) {
        call(step, () -> {
            body.run();
            return null;
        });
    }

    /**
     * Runs {@code body} as block {@code step}, as {@link #run(int, Runnable)}, and returns its value.
     *
     * @param step the block's number, from 0; each number once
     * @param body the block
     * @param <T> its result type
     * @return what {@code body} returned
     * @throws IllegalArgumentException if {@code step} is negative or was used before
     * @throws IllegalStateException if an earlier block threw (the sequencer is broken), or off the
     *     sequencer's loop
     */
    public <T> T call(int step, Callable<T> body) {
        affinity.check();
        if (step < 0) {
            throw new IllegalArgumentException("a sequencer's steps start at 0, was " + step);
        }
        if (claimed.putIfAbsent(step, Boolean.TRUE) != null) {
            throw new IllegalArgumentException("step " + step + " of this sequencer was used already: give each block its own number");
        }
        if (step > 0) {
            event(step - 1).await();
        }
        checkBroken(step);
        try {
            T value = body.call();
            event(step).set();
            return value;
        } catch (Throwable e) {
            if (broken == null) {
                broken = e;
                brokenAt = step;
            }
            event(step).set(); // later steps wake, and throw
            if (e instanceof RuntimeException r) {
                throw r;
            }
            if (e instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("sequencer step " + step + " threw " + e, e);
        }
    }

    private void checkBroken(int step) {
        if (broken != null) {
            throw new IllegalStateException("sequencer step " + step + " cannot run: step " + brokenAt + " threw " + broken, broken);
        }
    }

    private Event event(int step) {
        return done.computeIfAbsent(step, k -> Event.create());
    }
}
