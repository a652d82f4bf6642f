package io.fiberloop.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * Cache-line padding (the JCTools idiom: a superclass's fields are laid out before a subclass's),
 * so that the counter the loop thread bumps on every task and the flag the benchmark thread spins
 * on sit on different cache lines, away from any other object.
 */
abstract class TallyPad0 {
    long p00, p01, p02, p03, p04, p05, p06, p07;
}

abstract class TallyCount extends TallyPad0 {
    /** Written by the loop thread only (read after {@link Tally#await}). */
    long count;
}

abstract class TallyPad1 extends TallyCount {
    long p10, p11, p12, p13, p14, p15, p16, p17;
}

abstract class TallyDone extends TallyPad1 {
    /** Batches completed; written by the loop thread only, read by the benchmark thread. */
    volatile long done;
}

abstract class TallyPad2 extends TallyDone {
    long p20, p21, p22, p23, p24, p25, p26, p27;
}

/**
 * The loop-side state of a batch benchmark and the one completion mechanism every contender uses:
 * each task bumps {@link #count}; the batch's last action bumps {@link #done} (a release store),
 * and the benchmark thread spins on it ({@link Thread#onSpinWait()}). Spinning keeps the wait out of
 * the figures as far as possible (no park/unpark on the benchmark thread's side), and it is the same
 * code for fiberloop and its baselines.
 */
final class Tally extends TallyPad2 {
    private static final VarHandle DONE;
    private static final long TIMEOUT_NANOS = 30_000_000_000L;

    static {
        try {
            DONE = MethodHandles.lookup().findVarHandle(TallyDone.class, "done", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A task that bumps the counter: the "no-op-ish" task being submitted. */
    final Runnable increment = this::increment;
    /** The last task of a batch: bumps the counter and signals the batch done. */
    final Runnable last = this::incrementAndSignal;

    private void increment() {
        count++;
    }

    private void incrementAndSignal() {
        count++;
        signal();
    }

    /** Loop thread (the only writer of {@code done}): marks one more batch done. */
    void signal() {
        DONE.setRelease(this, (long) DONE.getOpaque(this) + 1);
    }

    /**
     * Benchmark thread: spins until {@code target} batches are done.
     *
     * @throws IllegalStateException if that takes more than 30 s (a loop that died or lost a task)
     */
    void await(long target) {
        if ((long) DONE.getAcquire(this) >= target) {
            return;
        }
        long deadline = 0;
        int spins = 0;
        while ((long) DONE.getAcquire(this) < target) {
            Thread.onSpinWait();
            if ((++spins & 0xF_FFFF) == 0) {
                long now = System.nanoTime();
                if (deadline == 0) {
                    deadline = now + TIMEOUT_NANOS;
                } else if (now - deadline > 0) {
                    throw new IllegalStateException("batch " + target + " not done after 30 s (done: " + done + ")");
                }
            }
        }
    }

    /** Benchmark thread, after the last {@link #await}: checks that every task ran exactly once. */
    void verify(long expectedCount, String what) {
        long c = count;
        if (c != expectedCount) {
            throw new IllegalStateException(what + ": expected " + expectedCount + " tasks to have run, counted " + c);
        }
    }
}
