package io.fiberloop.fiber.sync;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Waiters;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * A condition variable bound to a {@link Lock} (asyncio's {@code Condition}, the JDK's
 * {@code Condition}): a fiber holding the lock waits with {@link #await()}, which releases the lock
 * while it waits and takes it back before returning; another fiber holding the lock wakes waiters
 * with {@link #signal()} or {@link #signalAll()}.
 *
 * {@snippet :
 * Lock lock = Lock.create();
 * Condition notEmpty = lock.newCondition();
 * Deque<Job> jobs = new ArrayDeque<>();
 *
 * // consumer
 * lock.lock();
 * try {
 *     notEmpty.awaitUntil(() -> !jobs.isEmpty());    // re-checks after every wake-up
 *     run(jobs.poll());
 * } finally {
 *     lock.unlock();
 * }
 *
 * // producer
 * lock.withLock(() -> { jobs.add(job); notEmpty.signal(); return null; });
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>{@link #signal()} wakes the fiber that has waited longest; {@link #signalAll()} wakes them
 *       all, in the order they started waiting. A signal with nobody waiting is lost (it is not
 *       stored): always wait for a predicate, as {@link #awaitUntil(BooleanSupplier)} does.</li>
 *   <li>A woken fiber takes the lock back before {@code await} returns: it queues for the lock like
 *       any other fiber, so it resumes only once the signaller (and any earlier lock waiter) has
 *       unlocked.</li>
 *   <li><b>Cancellation-safe:</b> a waiter that is cancelled (or times out) still takes the lock
 *       back, shielded from the cancellation, <em>before</em> {@link CancelledException} surfaces,
 *       so its {@code finally { lock.unlock(); }} is always right. If a signal had been delivered to
 *       it, it passes the signal on to the next waiter, so no wake-up is lost.</li>
 *   <li>There is no {@code try*} form: a signal is not stored, so a wait that does not suspend could
 *       never see one. The non-suspending equivalent is testing your predicate under the lock.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * A condition belongs to its lock's loop. {@code await*}, {@code signal} and {@code signalAll} must
 * be called by the fiber that holds the lock, else they throw {@link IllegalStateException}; from
 * another loop or a plain thread every method throws {@link IllegalStateException} pointing to
 * channels. A loop is single-threaded, so the condition is plain fields: it costs no atomics.
 */
public final class Condition {
    private final Lock lock;
    private final Waiters waiters = new Waiters();

    private Condition(Lock lock) {
        this.lock = lock;
    }

    /**
     * Creates a condition bound to {@code lock}; several conditions may share one lock.
     *
     * <p>Threading: any thread.
     *
     * @param lock the lock that guards the state the condition is about
     * @return a new condition
     */
    public static Condition create(Lock lock) {
        return new Condition(Objects.requireNonNull(lock, "lock"));
    }

    /**
     * Creates a condition with a lock of its own (get it with {@link #lock()}).
     *
     * <p>Threading: any thread.
     *
     * @return a new condition
     */
    public static Condition create() {
        return new Condition(Lock.create());
    }

    /**
     * The lock this condition is bound to.
     *
     * <p>Threading: any thread.
     *
     * @return the lock
     */
    public Lock lock() {
        return lock;
    }

    /**
     * Releases the lock, suspends until signalled, then takes the lock back.
     *
     * <p>Threading: the fiber that holds the lock.
     *
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting; the
     *     fiber holds the lock again when it is thrown
     * @throws IllegalStateException if the calling fiber does not hold the lock, or off the lock's loop
     */
    public void await() {
        Strand me = lock.strand("Condition.await()", null);
        requireOwner(me, "await()");
        me.checkCancelled();
        waitFor(me);
    }

    /**
     * Releases the lock, suspends until signalled or until {@code timeout} has passed on the loop's
     * clock, then takes the lock back (even on timeout).
     *
     * <p>Threading: the fiber that holds the lock.
     *
     * @param timeout how long to wait; zero or negative returns {@code false} at once, keeping the lock
     * @return {@code true} if signalled, {@code false} on timeout
     * @throws CancelledException if the calling fiber is cancelled; it holds the lock again then
     * @throws IllegalStateException if the calling fiber does not hold the lock
     */
    public boolean await(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        Strand me = lock.strand("Condition.await(timeout)", null);
        requireOwner(me, "await(timeout)");
        me.checkCancelled();
        if (!timeout.isPositive()) {
            return false;
        }
        return Fibers.withTimeoutOrNull(timeout, () -> {
            waitFor(me);
            return Boolean.TRUE;
        }) != null;
    }

    /**
     * Waits until {@code predicate} holds (asyncio's {@code wait_for}): tests it, and while it is
     * false, {@link #await()}s and tests it again. The predicate runs with the lock held.
     *
     * <p>Threading: the fiber that holds the lock.
     *
     * @param predicate the state to wait for
     * @throws CancelledException if the calling fiber is cancelled; it holds the lock again then
     * @throws IllegalStateException if the calling fiber does not hold the lock
     */
    public void awaitUntil(BooleanSupplier predicate) {
        Objects.requireNonNull(predicate, "predicate");
        Strand me = lock.strand("Condition.awaitUntil()", null);
        requireOwner(me, "awaitUntil()");
        me.checkCancelled();
        while (!predicate.getAsBoolean()) {
            waitFor(me);
        }
    }

    /**
     * As {@link #awaitUntil(BooleanSupplier)}, giving up after {@code timeout} on the loop's clock.
     *
     * <p>Threading: the fiber that holds the lock.
     *
     * @param predicate the state to wait for
     * @param timeout how long to wait
     * @return the predicate's last value: {@code false} means it timed out
     * @throws CancelledException if the calling fiber is cancelled; it holds the lock again then
     */
    public boolean awaitUntil(BooleanSupplier predicate, Duration timeout) {
        Objects.requireNonNull(predicate, "predicate");
        Objects.requireNonNull(timeout, "timeout");
        Strand me = lock.strand("Condition.awaitUntil(timeout)", null);
        requireOwner(me, "awaitUntil(timeout)");
        me.checkCancelled();
        if (predicate.getAsBoolean()) {
            return true;
        }
        if (!timeout.isPositive()) {
            return false;
        }
        Boolean ok = Fibers.withTimeoutOrNull(timeout, () -> {
            while (!predicate.getAsBoolean()) {
                waitFor(me);
            }
            return Boolean.TRUE;
        });
        return ok != null || predicate.getAsBoolean();
    }

    /**
     * Wakes the fiber that has waited longest, if any; it resumes once it has taken the lock back.
     *
     * <p>Threading: the fiber that holds the lock.
     *
     * @throws IllegalStateException if the calling fiber does not hold the lock
     */
    public void signal() {
        lock.onLoop("Condition.signal()");
        requireOwner(Strand.currentOrNull(), "signal()");
        signalOne();
    }

    /**
     * Wakes every waiting fiber; they take the lock back one after the other, in the order they
     * started waiting.
     *
     * <p>Threading: the fiber that holds the lock.
     *
     * @throws IllegalStateException if the calling fiber does not hold the lock
     */
    public void signalAll() {
        lock.onLoop("Condition.signalAll()");
        requireOwner(Strand.currentOrNull(), "signalAll()");
        while (signalOne()) {
            // next
        }
    }

    /**
     * How many fibers wait on this condition (not counting those woken and waiting for the lock).
     *
     * <p>Threading: the lock's loop.
     *
     * @return the number of waiters
     */
    public int waiting() {
        lock.onLoop("Condition.waiting()");
        return waiters.size();
    }

    @Override
    public String toString() {
        return "Condition[" + waiters.size() + " waiting, " + lock + "]";
    }

    // ------------------------------------------------------------------ internals (loop thread)

    private void requireOwner(Strand me, String op) {
        if (!lock.ownedBy(me)) {
            Fiber owner = lock.owner();
            throw new IllegalStateException("Condition." + op + " needs the condition's lock held by the calling "
                    + (me == null ? "fiber (it was called from a loop callback)" : "fiber, " + me) + ", but it is "
                    + (owner == null ? "not locked" : "held by " + owner) + ": call it between lock.lock() and lock.unlock()");
        }
    }

    /** The caller holds the lock: wait for a signal, then take the lock back (see the class doc). */
    private void waitFor(Strand me) {
        Waiters.Waiter w = new Waiters.Waiter(me);
        waiters.add(w);
        lock.release();
        try {
            me.awaitUntil(w);
        } catch (Throwable t) {
            if (!w.granted) {
                waiters.unlink(w);
            }
            lock.relockShielded(me);
            if (w.granted) {
                signalOne(); // the signal was ours: pass it on
            }
            throw t;
        }
        lock.relockShielded(me);
        try {
            me.checkCancelled();
        } catch (CancelledException e) {
            signalOne(); // cancelled after the signal, before resuming: pass it on
            throw e;
        }
    }

    private boolean signalOne() {
        Waiters.Waiter w = waiters.poll();
        if (w == null) {
            return false;
        }
        w.grant();
        return true;
    }
}
