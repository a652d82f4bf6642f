package io.fiberloop.fiber.sync;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.FiberCallable;
import java.time.Duration;

/**
 * A {@link Semaphore} that refuses to be released more often than it was acquired (Python's
 * {@code BoundedSemaphore}): {@link #release()} when every initial permit is already available
 * throws {@link IllegalStateException}, which catches a double release at the place it happens.
 *
 * {@snippet :
 * BoundedSemaphore pool = BoundedSemaphore.create(3);
 * pool.acquire();
 * pool.release();
 * pool.release();   // IllegalStateException: released more often than acquired
 * }
 *
 * <h2>Semantics</h2>
 * As {@link Semaphore}: permits handed to waiters first-come first-served, cancellation-safe (a
 * waiter cancelled while waiting never keeps or loses a permit), {@code try*} variants that never
 * suspend, timed variants on the loop's clock. The count never exceeds the initial one.
 *
 * <h2>Threading</h2>
 * As {@link Semaphore}: bound to the loop it is created on (or, created off any loop, to the loop
 * of its first use); from another loop or a plain thread every method throws
 * {@link IllegalStateException} pointing to channels. Plain fields: it costs no atomics.
 */
public final class BoundedSemaphore {
    private final Semaphore sem;
    private final int initial;

    private BoundedSemaphore(int permits) {
        this.sem = new Semaphore("BoundedSemaphore", permits, permits);
        this.initial = permits;
    }

    /**
     * Creates a bounded semaphore with {@code permits} permits, its maximum.
     *
     * <p>Threading: any thread.
     *
     * @param permits the initial (and maximum) number of permits, at least 0
     * @return a new bounded semaphore
     * @throws IllegalArgumentException if {@code permits} is negative
     */
    public static BoundedSemaphore create(int permits) {
        return new BoundedSemaphore(permits);
    }

    /**
     * Takes a permit, suspending while there is none; see {@link Semaphore#acquire()}.
     *
     * <p>Threading: a fiber of the semaphore's loop.
     *
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     */
    public void acquire() {
        sem.acquire();
    }

    /**
     * Takes a permit if one is available, never suspending.
     *
     * <p>Threading: the semaphore's loop (a fiber or a loop callback).
     *
     * @return whether a permit was taken
     */
    public boolean tryAcquire() {
        return sem.tryAcquire();
    }

    /**
     * Takes a permit, waiting at most {@code timeout} on the loop's clock.
     *
     * <p>Threading: a fiber of the semaphore's loop.
     *
     * @param timeout how long to wait; zero or negative never suspends
     * @return whether a permit was taken
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     */
    public boolean tryAcquire(Duration timeout) {
        return sem.tryAcquire(timeout);
    }

    /**
     * Returns a permit, to the oldest waiter or to the count.
     *
     * <p>Threading: the semaphore's loop (a fiber or a loop callback).
     *
     * @throws IllegalStateException if every initial permit is already available (over-release)
     */
    public void release() {
        sem.release();
    }

    /**
     * Runs {@code body} holding a permit.
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
        return sem.withPermit(body);
    }

    /**
     * The permits available now.
     *
     * <p>Threading: the semaphore's loop.
     *
     * @return the count, between 0 and {@link #maxPermits()}
     */
    public int availablePermits() {
        return sem.availablePermits();
    }

    /**
     * The initial number of permits, which the count never exceeds.
     *
     * <p>Threading: any thread.
     *
     * @return the maximum
     */
    public int maxPermits() {
        return initial;
    }

    /**
     * How many fibers wait for a permit.
     *
     * <p>Threading: the semaphore's loop.
     *
     * @return the number of waiters
     */
    public int waiting() {
        return sem.waiting();
    }

    @Override
    public String toString() {
        return sem.toString();
    }
}
