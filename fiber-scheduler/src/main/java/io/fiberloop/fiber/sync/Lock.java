package io.fiberloop.fiber.sync;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.FiberCallable;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.internal.HeldLock;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Waiters;
import java.time.Duration;
import java.util.Objects;

/**
 * A mutual-exclusion lock for the fibers of one loop (asyncio's and trio's {@code Lock}):
 * non-reentrant, owned by the fiber that acquired it, handed to waiters first-come first-served.
 *
 * {@snippet :
 * Lock lock = Lock.create();
 * lock.lock();                        // suspends this fiber while another fiber holds it
 * try {
 *     account.debit(amount);          // code that suspends (I/O, sleep) can sit here safely
 * } finally {
 *     lock.unlock();
 * }
 * int n = lock.withLock(() -> counter++);   // the same, in one call
 * }
 *
 * <h2>Why a lock at all on a single-threaded loop</h2>
 * Between two suspension points a fiber runs alone, so plain code needs no lock. A {@code Lock}
 * is for a critical section that <em>suspends</em> (a read-modify-write around a network call, a
 * multi-message exchange on a shared connection): while its owner is suspended, other fibers that
 * call {@link #lock()} wait.
 *
 * <h2>Semantics</h2>
 * <table>
 *   <caption>States of a lock</caption>
 *   <tr><th>state</th><th>{@link #owner()}</th><th>{@code lock()}</th><th>{@code unlock()}</th></tr>
 *   <tr><td>free</td><td>{@code null}</td><td>takes it at once</td><td>{@code IllegalStateException}</td></tr>
 *   <tr><td>held</td><td>the owning fiber</td><td>the caller waits at the end of the FIFO queue;
 *       by the owner: {@code IllegalStateException} (non-reentrant)</td>
 *       <td>by the owner: hands the lock to the oldest waiter, or frees it;
 *       by anyone else: {@code IllegalStateException} naming the owner</td></tr>
 * </table>
 * <ul>
 *   <li><b>FIFO, no barging:</b> {@code unlock()} hands the lock directly to the oldest waiter, which
 *       owns it from that moment; a fiber that arrives later cannot overtake it, not even with
 *       {@link #tryLock()}.</li>
 *   <li><b>Cancellation-safe:</b> a waiter cancelled (or timed out) while waiting leaves the queue;
 *       if the lock had already been handed to it, it hands it on to the next waiter before
 *       {@link CancelledException} surfaces, so the lock is never lost.</li>
 *   <li>{@link #lock()} is a cancellation point: a cancelled fiber gets {@link CancelledException}
 *       even when the lock is free (to take a lock during cleanup, use {@link Fibers#nonCancellable}).
 *       Taking a free lock does not yield to other fibers.</li>
 *   <li>A fiber that ends while holding the lock keeps it held: always unlock in {@code finally}, or
 *       use {@link #withLock}.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * A lock belongs to one loop: the loop it is created on or, when it is created off any loop (a
 * plain thread, a static initialiser), the loop of its first use. Every method must be called on
 * that loop; {@link #lock()}, {@link #tryLock()} and {@link #unlock()} from a fiber (the owner is a
 * fiber), the queries from a fiber or a loop callback. From another loop or a plain thread every
 * method throws {@link IllegalStateException}: to coordinate across loops or with threads, use a
 * channel. Because a loop is single-threaded, the lock is plain fields: it costs no atomics, no
 * {@code volatile} access and no monitor.
 *
 * <h2>Diagnostics</h2>
 * While the owner is suspended, every fiber waiting for the lock waits too. A fiber that stays
 * suspended for long while holding a lock (20 ms with the project's {@code fiberloop.jfc}) is
 * reported by the JFR event {@code io.fiberloop.FiberParkedHoldingLock}, with the fiber's name,
 * the locks it held, the call it was suspended in and for how long; {@link #named(String)} names
 * a lock for that report and for {@link #toString()}.
 *
 * <h2>Pitfalls</h2>
 * {@snippet :
 * // BAD: non-reentrant; the second lock() throws IllegalStateException (it would deadlock)
 * lock.lock(); helperThatAlsoLocks(lock);
 * // GOOD: take it once, at the outermost level, and pass "I hold it" down by design
 * }
 */
public final class Lock extends LoopBound {
    private final String name;
    private final HeldLock held;
    private Strand owner;
    /** The fibers waiting for the lock; one that gives up after the hand-over hands it on. */
    private final HandOffQueue waiters = new HandOffQueue(w -> release());

    private Lock(String name) {
        super("Lock");
        this.name = name;
        this.held = new HeldLock("Lock", name, this);
    }

    /**
     * Creates a free lock, bound to the current loop (or, off any loop, to the loop of its first use).
     *
     * <p>Threading: any thread.
     *
     * @return a new lock
     */
    public static Lock create() {
        return new Lock(null);
    }

    /**
     * Creates a free lock with a name, which diagnostics show: {@link #toString()}, and the JFR
     * event {@code io.fiberloop.FiberParkedHoldingLock} (a fiber suspended for long while holding
     * it) names it {@code Lock 'name'} instead of {@code Lock@1b6d3586}. (Not an overload of
     * {@link #create()}, so that the method reference {@code Lock::create} stays unambiguous.)
     *
     * <p>Threading: any thread.
     *
     * @param name what the lock guards, such as {@code "accounts"}
     * @return a new lock
     * @throws IllegalArgumentException if {@code name} is blank
     */
    public static Lock named(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("Lock.named(name): the name is blank; name the lock after what it guards "
                    + "(\"accounts\"), or call Lock.create() for an unnamed one");
        }
        return new Lock(name);
    }

    /**
     * The name given to {@link #named(String)}.
     *
     * <p>Threading: any thread.
     *
     * @return the name, or {@code null} for an unnamed lock
     */
    public String name() {
        return name;
    }

    /**
     * Takes the lock, suspending the calling fiber while another fiber holds it; waiters are
     * served first-come first-served.
     *
     * <p>Threading: a fiber of the lock's loop.
     *
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting; it then
     *     does not hold the lock
     * @throws IllegalStateException if the calling fiber already holds it (non-reentrant), in a loop
     *     callback, on another loop or on a plain thread
     */
    public void lock() {
        Strand me = strand("Lock.lock()", "tryLock()");
        me.checkCancelled();
        if (owner == null) {
            own(me);
            return;
        }
        checkNotOwner(me, "lock()");
        waitFor(me);
    }

    /**
     * Takes the lock if it is free, never suspending.
     *
     * <p>Threading: a fiber of the lock's loop.
     *
     * @return whether the calling fiber now holds the lock ({@code false} when it is held, or handed
     *     to a waiter that has not run yet)
     * @throws IllegalStateException if the calling fiber already holds it, or called off the lock's loop
     */
    public boolean tryLock() {
        Strand me = strand("Lock.tryLock()", null);
        if (owner == null) {
            own(me);
            return true;
        }
        checkNotOwner(me, "tryLock()");
        return false;
    }

    /**
     * Takes the lock, waiting at most {@code timeout} on the loop's clock (virtual clocks included).
     * A waiter that times out leaves the queue without taking the lock.
     *
     * <p>Threading: a fiber of the lock's loop.
     *
     * @param timeout how long to wait; zero or negative never suspends, as {@link #tryLock()}
     * @return whether the calling fiber now holds the lock
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     * @throws IllegalStateException as {@link #lock()}
     */
    public boolean tryLock(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        Strand me = strand("Lock.tryLock(timeout)", "tryLock()");
        me.checkCancelled();
        if (owner == null) {
            own(me);
            return true;
        }
        checkNotOwner(me, "tryLock(timeout)");
        return HandOffQueue.within(timeout, () -> waitFor(me));
    }

    /**
     * Releases the lock: hands it to the oldest waiter (which owns it at once and resumes on a later
     * turn of the loop), or frees it.
     *
     * <p>Threading: the owning fiber.
     *
     * @throws IllegalStateException if the lock is free, or held by another fiber (the message names
     *     the owner), or called off the lock's loop
     */
    public void unlock() {
        onLoop("Lock.unlock()");
        Strand me = Strand.currentOrNull();
        if (owner != me) {
            if (owner == null) {
                throw new IllegalStateException("Lock.unlock(): the lock is not locked");
            }
            throw new IllegalStateException("Lock.unlock(): the lock is held by " + owner + ", not by "
                    + (me == null ? "a loop callback" : String.valueOf(me)) + "; only the fiber that locked it may unlock it");
        }
        release();
    }

    /**
     * Runs {@code body} holding the lock: {@link #lock()}, then the body, then {@link #unlock()}
     * even if the body throws.
     *
     * <p>Threading: a fiber of the lock's loop.
     *
     * @param body the critical section
     * @param <T> its result type
     * @param <X> what it may throw
     * @return what {@code body} returned
     * @throws X what {@code body} threw
     * @throws CancelledException if cancelled while waiting for the lock (the body did not run)
     */
    public <T, X extends Throwable> T withLock(FiberCallable<T, X> body) throws X {
        Objects.requireNonNull(body, "body");
        lock();
        try {
            return body.call();
        } finally {
            unlock();
        }
    }

    /**
     * Creates a condition variable bound to this lock, as {@link Condition#create(Lock)}.
     *
     * <p>Threading: any thread.
     *
     * @return a new condition
     */
    public Condition newCondition() {
        return Condition.create(this);
    }

    /**
     * Whether the lock is held (or handed to a waiter that has not resumed yet).
     *
     * <p>Threading: the lock's loop (a fiber or a loop callback).
     *
     * @return whether it is held
     */
    public boolean isLocked() {
        onLoop("Lock.isLocked()");
        return owner != null;
    }

    /**
     * Whether the calling fiber holds the lock.
     *
     * <p>Threading: the lock's loop.
     *
     * @return whether the current fiber is the owner
     */
    public boolean isHeldByCurrentFiber() {
        onLoop("Lock.isHeldByCurrentFiber()");
        Strand me = Strand.currentOrNull();
        return me != null && owner == me;
    }

    /**
     * The fiber that holds the lock: for diagnostics.
     *
     * <p>Threading: the lock's loop.
     *
     * @return the owner, or {@code null} when free
     */
    public Fiber owner() {
        onLoop("Lock.owner()");
        return owner == null ? null : owner.fiber();
    }

    /**
     * How many fibers wait for the lock.
     *
     * <p>Threading: the lock's loop.
     *
     * @return the number of waiters
     */
    public int waiting() {
        onLoop("Lock.waiting()");
        return waiters.size();
    }

    @Override
    public String toString() {
        return "Lock[" + (name == null ? "" : "'" + name + "', ") + (owner == null ? "free" : "held by " + owner) + ", " + waiters.size() + " waiting, " + loopName() + "]";
    }

    // ------------------------------------------------------------------ internals (loop thread)

    private void checkNotOwner(Strand me, String op) {
        if (owner == me) {
            throw new IllegalStateException("Lock." + op + ": " + me + " already holds this lock; Lock is not reentrant "
                    + "(waiting for itself would deadlock): take it once, at the outermost level");
        }
    }

    /** Queues {@code me} and suspends until the lock is handed to it. */
    private void waitFor(Strand me) {
        waiters.await(me, new Waiters.Waiter(me));
    }

    /** The owner (or a fiber it was handed to) gives the lock up: to the oldest waiter, or free. */
    void release() {
        Waiters.Waiter next = waiters.poll();
        held.released();
        if (next == null) {
            owner = null;
        } else {
            own(next.strand);
            next.grant();
        }
    }

    /** {@code s} owns the lock from now on; the lock was free or just released. */
    private void own(Strand s) {
        owner = s;
        held.heldBy(s);
    }

    /** Condition support: the owner is {@code me}. */
    boolean ownedBy(Strand me) {
        return owner == me && me != null;
    }

    /** Condition support: takes the lock for {@code me} (a fiber of this loop), shielded from cancellation. */
    void relockShielded(Strand me) {
        if (owner == null) {
            own(me);
            return;
        }
        Fibers.nonCancellable(() -> {
            waitFor(me);
            return null;
        });
    }
}
