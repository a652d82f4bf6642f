package io.fiberloop.fiber.sync;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Waiters;
import java.time.Duration;

/**
 * The FIFO queue of fibers waiting for what a primitive hands out one at a time: a {@link Lock}'s
 * ownership, a {@link Semaphore}'s permit, a {@link CapacityLimiter}'s token. Whoever frees one
 * hands it straight to the oldest waiter ({@link #poll()}, then {@link Waiters.Waiter#grant()}), so a
 * fiber that arrives later cannot take it first.
 *
 * <h2>Cancellation</h2>
 * A waiter that is cancelled or times out ({@link #await}) leaves the queue and gets nothing. If it
 * was granted already (woken, but cancelled before it resumed), it gives what it got back through
 * the primitive's {@link HandOn}, which passes it to the next waiter or frees it: nothing is lost.
 *
 * <p>Threading: the primitive's loop only (plain fields, like the primitive).
 */
final class HandOffQueue {
    /** What a waiter that gives up after its grant does with what it was granted. */
    @FunctionalInterface
    interface HandOn {
        /**
         * Gives back what {@code w} was granted: to the next waiter, or to the primitive.
         *
         * @param w the waiter, off the queue and granted
         */
        void handOn(Waiters.Waiter w);
    }

    private final Waiters waiters = new Waiters();
    private final HandOn handOn;

    /**
     * An empty queue.
     *
     * @param handOn gives back a grant whose waiter gave up before it resumed
     */
    HandOffQueue(HandOn handOn) {
        this.handOn = handOn;
    }

    /**
     * Queues {@code w} and suspends {@code me} until {@code w} is granted. If {@code me} is
     * cancelled (or times out) first, {@code w} leaves the queue; if it is cancelled after the grant
     * but before it resumes, the grant is handed on. Either way the exception is rethrown.
     *
     * @param me the calling fiber
     * @param w its waiter (a subclass may carry what it waits on behalf of)
     */
    void await(Strand me, Waiters.Waiter w) {
        waiters.add(w);
        try {
            me.awaitUntil(w);
            me.checkCancelled(); // cancelled after the hand-over but before resuming: hand it on
        } catch (Throwable t) {
            if (w.granted) {
                handOn.handOn(w);
            } else {
                waiters.unlink(w);
            }
            throw t;
        }
    }

    /**
     * Runs {@code await} (which suspends until granted) within {@code timeout} on the loop's clock:
     * the slow path of a {@code tryAcquire(timeout)}.
     *
     * @param timeout how long to wait; zero or negative does not wait
     * @param await queues the calling fiber and suspends it until granted ({@link #await})
     * @return whether the grant came in time ({@code false} at once for a non-positive timeout)
     */
    static boolean within(Duration timeout, Runnable await) {
        if (!timeout.isPositive()) {
            return false;
        }
        return Fibers.withTimeoutOrNull(timeout, () -> {
            await.run();
            return Boolean.TRUE;
        }) != null;
    }

    /** {@return the oldest waiter, taken off the queue (then grant it), or {@code null} if none waits} */
    Waiters.Waiter poll() {
        return waiters.poll();
    }

    /** {@return the oldest waiter, left in the queue (follow {@code next()} for the others), or {@code null}} */
    Waiters.Waiter peek() {
        return waiters.peek();
    }

    /** {@return how many fibers wait} */
    int size() {
        return waiters.size();
    }

    /** {@return whether no fiber waits} */
    boolean isEmpty() {
        return waiters.isEmpty();
    }
}
