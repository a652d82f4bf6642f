package io.fiberloop.fiber.sync;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.FiberTimeoutException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Waiters;
import java.time.Duration;
import java.util.Objects;

/**
 * A meeting point for a fixed number of fibers (Python's {@code Barrier}, the JDK's
 * {@code CyclicBarrier}): each calls {@link #await()}, which suspends until {@link #parties()}
 * fibers have arrived; then all of them resume together. The barrier is reusable: the next
 * {@code parties} arrivals form the next generation.
 *
 * {@snippet :
 * Barrier stepDone = Barrier.create(workers.size());
 * for (Worker w : workers) {
 *     Fibers.spawn(() -> {
 *         for (int step = 0; step < steps; step++) {
 *             w.compute(step);
 *             int arrival = stepDone.await();        // 0 for the first to arrive ... parties-1 for the last
 *             if (arrival == 0) log.info("step {} done", step);
 *         }
 *         return null;
 *     });
 * }
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>{@link #await()} returns the caller's <em>arrival index</em> in its generation: 0 for the
 *       first fiber to arrive, {@code parties - 1} for the last, which does not suspend. The waiters
 *       resume in the order they arrived.</li>
 *   <li>Generations: when the last party arrives, the generation is complete and the barrier is at
 *       once ready for the next one; a fast fiber that calls {@code await()} again before the others
 *       have resumed joins the next generation.</li>
 *   <li>The optional <em>action</em> runs once per generation, in the last arriving fiber, before
 *       any waiter resumes. If it throws, the barrier breaks and the exception is thrown to that
 *       last fiber.</li>
 *   <li><b>Broken state (as Python's):</b> if a waiter is cancelled or times out while it waits,
 *       it breaks the barrier for that generation: every other waiter of the generation gets
 *       {@link BarrierBrokenException}, the cancelled one its {@link CancelledException} (or
 *       {@link FiberTimeoutException}), and every later {@code await} throws
 *       {@link BarrierBrokenException} until {@link #reset()}. A waiter cancelled after its
 *       generation completed (while it was about to resume) breaks nothing: the others proceed.</li>
 *   <li>{@link #tryAwait()} never suspends: it arrives only if it completes the generation.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * A barrier belongs to one loop: the loop it is created on or, when it is created off any loop, the
 * loop of its first use. {@code await} needs a fiber of that loop; the other methods may also run
 * in a loop callback. From another loop or a plain thread every method throws
 * {@link IllegalStateException}: to meet across loops, use channels. A loop is single-threaded, so
 * the barrier is plain fields: it costs no atomics.
 */
public final class Barrier extends LoopBound {
    private final int parties;
    private final Runnable action;
    private Generation gen = new Generation();
    /** Broken until reset(). */
    private boolean broken;
    private String brokenBy;

    /** The arrivals of one generation. */
    private static final class Generation {
        final Waiters waiters = new Waiters();
        int arrived;
        boolean broken;
        String why;
    }

    private Barrier(int parties, Runnable action) {
        super("Barrier");
        if (parties < 1) {
            throw new IllegalArgumentException("Barrier: parties must be at least 1, not " + parties);
        }
        this.parties = parties;
        this.action = action;
    }

    /**
     * Creates a barrier for {@code parties} fibers.
     *
     * <p>Threading: any thread.
     *
     * @param parties how many fibers must arrive to complete a generation, at least 1
     * @return a new barrier
     * @throws IllegalArgumentException if {@code parties} is less than 1
     */
    public static Barrier create(int parties) {
        return new Barrier(parties, null);
    }

    /**
     * Creates a barrier for {@code parties} fibers that runs {@code action} once per generation, in
     * the last arriving fiber, before the others resume.
     *
     * <p>Threading: any thread.
     *
     * @param parties how many fibers must arrive, at least 1
     * @param action what to run when a generation completes; if it throws, the barrier breaks
     * @return a new barrier
     */
    public static Barrier create(int parties, Runnable action) {
        return new Barrier(parties, Objects.requireNonNull(action, "action"));
    }

    /**
     * Arrives at the barrier and suspends until {@link #parties()} fibers have arrived.
     *
     * <p>Threading: a fiber of the barrier's loop.
     *
     * @return the arrival index: 0 for the first to arrive, {@code parties - 1} for the last
     * @throws BarrierBrokenException if the barrier is or becomes broken while waiting
     * @throws CancelledException if the calling fiber is cancelled (which breaks the barrier if the
     *     fiber was waiting in an incomplete generation)
     * @throws IllegalStateException in a loop callback, on another loop or on a plain thread
     */
    public int await() {
        Strand me = strand("Barrier.await()", "tryAwait()");
        me.checkCancelled();
        return arriveAndWait(me);
    }

    /**
     * As {@link #await()}, giving up after {@code timeout} on the loop's clock. A timeout breaks the
     * barrier, as a cancellation does (the other waiters get {@link BarrierBrokenException}).
     *
     * <p>Threading: a fiber of the barrier's loop.
     *
     * @param timeout how long to wait
     * @return the arrival index
     * @throws FiberTimeoutException if the generation did not complete in time (the barrier is then broken)
     * @throws BarrierBrokenException if the barrier is or becomes broken while waiting
     * @throws CancelledException if the calling fiber is cancelled
     */
    public int await(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        Strand me = strand("Barrier.await(timeout)", "tryAwait()");
        me.checkCancelled();
        return Fibers.withTimeout(timeout, () -> arriveAndWait(me));
    }

    /**
     * Arrives only if this arrival completes the generation, never suspending: then the waiters are
     * released and the arrival index ({@code parties - 1}) is returned; otherwise nothing happens.
     *
     * <p>Threading: the barrier's loop (a fiber or a loop callback).
     *
     * @return {@code parties - 1} if the generation completed, or {@code -1} if the caller did not arrive
     * @throws BarrierBrokenException if the barrier is broken
     */
    public int tryAwait() {
        onLoop("Barrier.tryAwait()");
        checkNotBroken();
        Generation g = gen;
        if (g.arrived + 1 < parties) {
            return -1;
        }
        int index = g.arrived++;
        trip(g);
        return index;
    }

    /**
     * Returns the barrier to its initial state: a broken barrier works again, and fibers waiting in
     * the current generation get {@link BarrierBrokenException} (as Python's {@code reset}).
     *
     * <p>Threading: the barrier's loop (a fiber or a loop callback).
     */
    public void reset() {
        onLoop("Barrier.reset()");
        Generation g = gen;
        if (!g.waiters.isEmpty()) {
            breakGeneration(g, "reset() was called");
        }
        gen = new Generation();
        broken = false;
        brokenBy = null;
    }

    /**
     * Breaks the barrier: current waiters, and later callers until {@link #reset()}, get
     * {@link BarrierBrokenException} (as Python's {@code abort}).
     *
     * <p>Threading: the barrier's loop (a fiber or a loop callback).
     */
    public void abort() {
        onLoop("Barrier.abort()");
        breakBarrier("abort() was called");
    }

    /**
     * The number of fibers that complete a generation.
     *
     * <p>Threading: any thread.
     *
     * @return how many fibers must arrive to complete a generation
     */
    public int parties() {
        return parties;
    }

    /**
     * How many fibers have arrived in the current generation and wait.
     *
     * <p>Threading: the barrier's loop.
     *
     * @return the number of waiting fibers
     */
    public int waiting() {
        onLoop("Barrier.waiting()");
        return gen.waiters.size();
    }

    /**
     * Whether the barrier is broken (until {@link #reset()}).
     *
     * <p>Threading: the barrier's loop.
     *
     * @return whether it is broken
     */
    public boolean isBroken() {
        onLoop("Barrier.isBroken()");
        return broken;
    }

    @Override
    public String toString() {
        return "Barrier[" + gen.waiters.size() + "/" + parties + " waiting" + (broken ? ", broken" : "") + ", " + loopName() + "]";
    }

    // ------------------------------------------------------------------ internals (loop thread)

    private int arriveAndWait(Strand me) {
        checkNotBroken();
        Generation g = gen;
        int index = g.arrived++;
        if (g.arrived == parties) {
            trip(g);
            return index;
        }
        Waiters.Waiter w = new Waiters.Waiter(me);
        g.waiters.add(w);
        try {
            me.awaitUntil(w);
            if (!g.broken) {
                me.checkCancelled(); // a cancellation that raced with the completion: the generation passed anyway
            }
        } catch (Throwable t) {
            if (!w.granted) {
                g.waiters.unlink(w);
                breakBarrier(me + " was cancelled while waiting at the barrier");
            }
            throw t;
        }
        if (g.broken) {
            throw brokenException(g.why);
        }
        return index;
    }

    /** The last party arrived in {@code g}: start the next generation, run the action, release {@code g}. */
    private void trip(Generation g) {
        gen = new Generation();
        if (action != null) {
            try {
                action.run();
            } catch (Throwable t) {
                String why = "the barrier action threw " + t;
                breakGeneration(g, why);
                breakBarrier(why);
                throw t;
            }
        }
        for (Waiters.Waiter w = g.waiters.poll(); w != null; w = g.waiters.poll()) {
            w.grant();
        }
    }

    private void breakBarrier(String why) {
        if (!broken) {
            broken = true;
            brokenBy = why;
        }
        breakGeneration(gen, why);
    }

    private static void breakGeneration(Generation g, String why) {
        g.broken = true;
        g.why = why;
        for (Waiters.Waiter w = g.waiters.poll(); w != null; w = g.waiters.poll()) {
            w.grant();
        }
    }

    private void checkNotBroken() {
        if (broken) {
            throw brokenException(brokenBy);
        }
    }

    private static BarrierBrokenException brokenException(String why) {
        return new BarrierBrokenException("the barrier is broken (" + why + "); call reset() to use it again");
    }
}
