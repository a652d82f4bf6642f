package io.fiberloop.fiber.sync;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.FiberCallable;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Waiters;
import java.time.Duration;
import java.util.Objects;

/**
 * A counting semaphore for the fibers of one loop (asyncio's and trio's {@code Semaphore}): a
 * number of permits; {@link #acquire()} takes one, suspending while there are none, and
 * {@link #release()} returns one. Waiters are served first-come first-served.
 *
 * {@snippet :
 * Semaphore downloads = Semaphore.create(4);     // at most 4 downloads at a time
 * for (URI uri : uris) {
 *     Fibers.spawn(() -> downloads.withPermit(() -> fetch(uri)));
 * }
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>{@link #availablePermits()} is never negative. {@link #release()} hands its permit directly
 *       to the oldest waiter when there is one (the count does not move), otherwise adds one to the
 *       count. So no later arrival can overtake a waiter, not even with {@link #tryAcquire()}.</li>
 *   <li>Any code of the loop may release, including a fiber that never acquired and a loop callback
 *       (a semaphore has no owner). Releasing more than was acquired raises the count above the
 *       initial one; {@link BoundedSemaphore} refuses that.</li>
 *   <li><b>Cancellation-safe:</b> a waiter cancelled (or timed out) while waiting leaves the queue;
 *       if a permit had already been handed to it, it releases it again, to the next waiter, before
 *       {@link CancelledException} surfaces. No permit is ever lost.</li>
 *   <li>{@link #acquire()} is a cancellation point even when a permit is available; taking one does
 *       not yield to other fibers.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * A semaphore belongs to one loop: the loop it is created on or, when it is created off any loop,
 * the loop of its first use. {@code acquire} and its timed form need a fiber of that loop;
 * {@code tryAcquire()}, {@code release()} and the queries may also run in a loop callback. From
 * another loop or a plain thread every method throws {@link IllegalStateException}: to coordinate
 * across loops or with threads, use a channel. A loop is single-threaded, so the semaphore is plain
 * fields: it costs no atomics, no {@code volatile} access and no monitor.
 *
 * <h2>Pitfalls</h2>
 * {@snippet :
 * // BAD: the permit leaks if work() throws or the fiber is cancelled inside it
 * sem.acquire(); work(); sem.release();
 * // GOOD
 * sem.withPermit(() -> work());
 * }
 */
public final class Semaphore extends LoopBound {
    private int permits;
    /** The most permits there may be ({@link BoundedSemaphore}), or -1 for no bound. */
    private final int bound;
    /** The fibers waiting for a permit; one that gives up after the hand-over hands it on. */
    private final HandOffQueue waiters = new HandOffQueue(w -> releaseOne());

    Semaphore(String kind, int permits, int bound) {
        super(kind);
        if (permits < 0) {
            throw new IllegalArgumentException(kind + ": permits must be at least 0, not " + permits);
        }
        this.permits = permits;
        this.bound = bound;
    }

    /**
     * Creates a semaphore with {@code permits} permits, bound to the current loop (or, off any
     * loop, to the loop of its first use).
     *
     * <p>Threading: any thread.
     *
     * @param permits the initial number of permits, at least 0
     * @return a new semaphore
     * @throws IllegalArgumentException if {@code permits} is negative
     */
    public static Semaphore create(int permits) {
        return new Semaphore("Semaphore", permits, -1);
    }

    /**
     * Takes a permit, suspending the calling fiber while there is none.
     *
     * <p>Threading: a fiber of the semaphore's loop.
     *
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting; it then
     *     holds no permit
     * @throws IllegalStateException in a loop callback, on another loop or on a plain thread
     */
    public void acquire() {
        Strand me = strand(kind + ".acquire()", "tryAcquire()");
        me.checkCancelled();
        if (permits > 0) {
            permits--;
            return;
        }
        waitFor(me);
    }

    /**
     * Takes a permit if one is available, never suspending.
     *
     * <p>Threading: the semaphore's loop (a fiber or a loop callback).
     *
     * @return whether a permit was taken
     */
    public boolean tryAcquire() {
        onLoop(kind + ".tryAcquire()");
        if (permits > 0) {
            permits--;
            return true;
        }
        return false;
    }

    /**
     * Takes a permit, waiting at most {@code timeout} on the loop's clock. A waiter that times out
     * leaves the queue without a permit.
     *
     * <p>Threading: a fiber of the semaphore's loop.
     *
     * @param timeout how long to wait; zero or negative never suspends
     * @return whether a permit was taken
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     */
    public boolean tryAcquire(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        Strand me = strand(kind + ".tryAcquire(timeout)", "tryAcquire()");
        me.checkCancelled();
        if (permits > 0) {
            permits--;
            return true;
        }
        return HandOffQueue.within(timeout, () -> waitFor(me));
    }

    /**
     * Returns a permit: hands it to the oldest waiter (which resumes on a later turn of the loop),
     * or adds it to the count.
     *
     * <p>Threading: the semaphore's loop (a fiber or a loop callback).
     *
     * @throws IllegalStateException for a {@link BoundedSemaphore} already at its initial count, or
     *     called off the semaphore's loop
     */
    public void release() {
        onLoop(kind + ".release()");
        if (bound >= 0 && permits >= bound) {
            throw new IllegalStateException(kind + ".release(): released more often than acquired; all " + bound
                    + " permits are already available (a bounded semaphore never exceeds its initial count)");
        }
        releaseOne();
    }

    /**
     * Runs {@code body} holding a permit: {@link #acquire()}, the body, then {@link #release()} even
     * if the body throws.
     *
     * <p>Threading: a fiber of the semaphore's loop.
     *
     * @param body the work
     * @param <T> its result type
     * @param <X> what it may throw
     * @return what {@code body} returned
     * @throws X what {@code body} threw
     */
    public <T, X extends Throwable> T withPermit(FiberCallable<T, X> body) throws X {
        Objects.requireNonNull(body, "body");
        acquire();
        try {
            return body.call();
        } finally {
            release();
        }
    }

    /**
     * The permits available now (never negative; 0 while fibers wait).
     *
     * <p>Threading: the semaphore's loop.
     *
     * @return the count
     */
    public int availablePermits() {
        onLoop(kind + ".availablePermits()");
        return permits;
    }

    /**
     * How many fibers wait for a permit.
     *
     * <p>Threading: the semaphore's loop.
     *
     * @return the number of waiters
     */
    public int waiting() {
        onLoop(kind + ".waiting()");
        return waiters.size();
    }

    @Override
    public String toString() {
        return kind + "[" + permits + " available" + (bound >= 0 ? " of " + bound : "") + ", " + waiters.size() + " waiting, "
                + loopName() + "]";
    }

    // ------------------------------------------------------------------ internals (loop thread)

    private void waitFor(Strand me) {
        waiters.await(me, new Waiters.Waiter(me));
    }

    private void releaseOne() {
        Waiters.Waiter next = waiters.poll();
        if (next == null) {
            permits++;
        } else {
            next.grant();
        }
    }
}
