package io.fiberloop.fiber.sync;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fiber;
import io.fiberloop.fiber.FiberCallable;
import io.fiberloop.fiber.Task;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Waiters;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * trio's {@code CapacityLimiter}: at most {@link #totalTokens()} borrowers at a time, each holding
 * one token, with the holders known by identity. Like a semaphore, but a token belongs to a
 * <em>borrower</em> (by default the calling fiber, or for a task its fiber, {@link Task#fiber()}),
 * so a fiber cannot take two tokens, only a holder can give one back, the total can be changed at
 * run time, and {@link #statistics()} says who holds what.
 *
 * {@snippet :
 * CapacityLimiter db = CapacityLimiter.create(10);      // at most 10 queries in flight
 * Row row = db.withToken(() -> query(sql));
 *
 * db.totalTokens(20);                                  // raise the limit: waiters are served at once
 * CapacityLimiter.Statistics s = db.statistics();       // borrowed, total, borrowers, waiting
 *
 * // a token held on behalf of something that outlives this fiber (a connection, a job id)
 * db.acquireOnBehalfOf(job);
 * // ... later, from any fiber of the loop:
 * db.releaseOnBehalfOf(job);
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>Borrowers are compared with {@code equals}. A borrower holds at most one token: acquiring a
 *       second one for it throws {@link IllegalStateException}, as does releasing for a borrower
 *       that holds none.</li>
 *   <li>Tokens go to waiters first-come first-served: a released token (or a token added by raising
 *       {@link #totalTokens(int)}) is handed directly to the oldest waiter, so a later arrival
 *       cannot overtake it. Lowering the total takes no token back: holders keep theirs, and no new
 *       borrower is served until the borrowed count is below the new total.</li>
 *   <li><b>Cancellation-safe:</b> a waiter cancelled (or timed out) while waiting leaves the queue;
 *       if a token had already been handed to it, it gives the token on to the next waiter before
 *       {@link CancelledException} surfaces.</li>
 *   <li>{@code acquire} is a cancellation point even when a token is free; taking a free token does
 *       not yield to other fibers.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * A limiter belongs to one loop: the loop it is created on or, when it is created off any loop,
 * the loop of its first use. {@code acquire}, {@code tryAcquire()} and {@code release()} (whose
 * borrower is the calling fiber) and the timed forms need a fiber of that loop; the
 * {@code *OnBehalfOf} forms that do not suspend, and the queries, may also run in a loop callback.
 * From another loop or a plain thread every method throws {@link IllegalStateException} pointing to
 * channels. A loop is single-threaded, so the limiter is plain fields: it costs no atomics.
 */
public final class CapacityLimiter extends LoopBound {
    private int total;
    private final Set<Object> borrowers = new LinkedHashSet<>();
    /** The fibers waiting for a token; one that gives up after the hand-over gives the token back. */
    private final HandOffQueue waiters = new HandOffQueue(w -> {
        borrowers.remove(((TokenWaiter) w).borrower);
        serveWaiters();
    });

    /**
     * A snapshot of a limiter (trio's {@code CapacityLimiterStatistics}).
     *
     * @param borrowedTokens the tokens held now
     * @param totalTokens the current total
     * @param borrowers who holds them, in the order they got them
     * @param tasksWaiting how many fibers wait for a token
     */
    public record Statistics(int borrowedTokens, int totalTokens, List<Object> borrowers, int tasksWaiting) {
        /** Copies the borrower list. */
        public Statistics {
            borrowers = List.copyOf(borrowers);
        }
    }

    /** A waiter for a token, on behalf of a borrower. */
    private static final class TokenWaiter extends Waiters.Waiter {
        final Object borrower;

        TokenWaiter(Strand strand, Object borrower) {
            super(strand);
            this.borrower = borrower;
        }
    }

    private CapacityLimiter(int totalTokens) {
        super("CapacityLimiter");
        this.total = checkTotal(totalTokens);
    }

    /**
     * Creates a limiter with {@code totalTokens} tokens, bound to the current loop (or, off any
     * loop, to the loop of its first use).
     *
     * <p>Threading: any thread.
     *
     * @param totalTokens how many borrowers may hold a token at a time, at least 1
     * @return a new limiter
     * @throws IllegalArgumentException if {@code totalTokens} is less than 1
     */
    public static CapacityLimiter create(int totalTokens) {
        return new CapacityLimiter(totalTokens);
    }

    // ------------------------------------------------------------------ acquiring

    /**
     * Takes a token for the calling fiber, suspending while none is free.
     *
     * <p>Threading: a fiber of the limiter's loop.
     *
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     * @throws IllegalStateException if the calling fiber already holds a token of this limiter
     */
    public void acquire() {
        Strand me = strand("CapacityLimiter.acquire()", "tryAcquireOnBehalfOf(borrower)");
        acquire(me, me.fiber());
    }

    /**
     * Takes a token for {@code borrower}, suspending the calling fiber while none is free.
     *
     * <p>Threading: a fiber of the limiter's loop.
     *
     * @param borrower who will hold the token (compared with {@code equals})
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     * @throws IllegalStateException if {@code borrower} already holds, or already waits for, a token
     */
    public void acquireOnBehalfOf(Object borrower) {
        Objects.requireNonNull(borrower, "borrower");
        Strand me = strand("CapacityLimiter.acquireOnBehalfOf()", "tryAcquireOnBehalfOf(borrower)");
        acquire(me, borrower);
    }

    /**
     * Takes a token for the calling fiber if one is free, never suspending.
     *
     * <p>Threading: a fiber of the limiter's loop.
     *
     * @return whether the calling fiber now holds a token
     * @throws IllegalStateException if it already holds one
     */
    public boolean tryAcquire() {
        Strand me = strand("CapacityLimiter.tryAcquire()", "tryAcquireOnBehalfOf(borrower)");
        return tryTake(me.fiber());
    }

    /**
     * Takes a token for {@code borrower} if one is free, never suspending.
     *
     * <p>Threading: the limiter's loop (a fiber or a loop callback).
     *
     * @param borrower who will hold the token
     * @return whether {@code borrower} now holds a token
     * @throws IllegalStateException if it already holds one
     */
    public boolean tryAcquireOnBehalfOf(Object borrower) {
        Objects.requireNonNull(borrower, "borrower");
        onLoop("CapacityLimiter.tryAcquireOnBehalfOf()");
        return tryTake(borrower);
    }

    /**
     * Takes a token for the calling fiber, waiting at most {@code timeout} on the loop's clock.
     *
     * <p>Threading: a fiber of the limiter's loop.
     *
     * @param timeout how long to wait; zero or negative never suspends
     * @return whether the calling fiber now holds a token
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     */
    public boolean tryAcquire(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        Strand me = strand("CapacityLimiter.tryAcquire(timeout)", "tryAcquireOnBehalfOf(borrower)");
        return tryAcquire(me, me.fiber(), timeout);
    }

    /**
     * Takes a token for {@code borrower}, waiting at most {@code timeout} on the loop's clock.
     *
     * <p>Threading: a fiber of the limiter's loop.
     *
     * @param borrower who will hold the token
     * @param timeout how long to wait; zero or negative never suspends
     * @return whether {@code borrower} now holds a token
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     */
    public boolean tryAcquireOnBehalfOf(Object borrower, Duration timeout) {
        Objects.requireNonNull(borrower, "borrower");
        Objects.requireNonNull(timeout, "timeout");
        Strand me = strand("CapacityLimiter.tryAcquireOnBehalfOf(timeout)", "tryAcquireOnBehalfOf(borrower)");
        return tryAcquire(me, borrower, timeout);
    }

    // ------------------------------------------------------------------ releasing

    /**
     * Gives back the calling fiber's token: to the oldest waiter, or to the pool.
     *
     * <p>Threading: a fiber of the limiter's loop.
     *
     * @throws IllegalStateException if the calling fiber holds no token of this limiter
     */
    public void release() {
        onLoop("CapacityLimiter.release()");
        Fiber me = Fiber.currentOrNull();
        if (me == null) {
            throw new IllegalStateException("CapacityLimiter.release() was called from a loop callback, which holds no token: "
                    + "use releaseOnBehalfOf(borrower)");
        }
        releaseFor(me, "release()");
    }

    /**
     * Gives back {@code borrower}'s token: to the oldest waiter, or to the pool.
     *
     * <p>Threading: the limiter's loop (a fiber or a loop callback).
     *
     * @param borrower who holds the token
     * @throws IllegalStateException if {@code borrower} holds no token of this limiter
     */
    public void releaseOnBehalfOf(Object borrower) {
        Objects.requireNonNull(borrower, "borrower");
        onLoop("CapacityLimiter.releaseOnBehalfOf()");
        releaseFor(borrower, "releaseOnBehalfOf()");
    }

    /**
     * Runs {@code body} holding a token for the calling fiber: {@link #acquire()}, the body, then
     * {@link #release()} even if the body throws.
     *
     * <p>Threading: a fiber of the limiter's loop.
     *
     * @param body the work
     * @param <T> its result type
     * @param <X> what it may throw
     * @return what {@code body} returned
     * @throws X what {@code body} threw
     */
    public <T, X extends Throwable> T withToken(FiberCallable<T, X> body) throws X {
        Objects.requireNonNull(body, "body");
        acquire();
        try {
            return body.call();
        } finally {
            release();
        }
    }

    // ------------------------------------------------------------------ capacity and statistics

    /**
     * The number of tokens.
     *
     * <p>Threading: the limiter's loop.
     *
     * @return the total
     */
    public int totalTokens() {
        onLoop("CapacityLimiter.totalTokens()");
        return total;
    }

    /**
     * Changes the number of tokens. Raising it serves waiters at once (oldest first); lowering it
     * takes no token back.
     *
     * <p>Threading: the limiter's loop (a fiber or a loop callback).
     *
     * @param totalTokens the new total, at least 1
     * @throws IllegalArgumentException if {@code totalTokens} is less than 1
     */
    public void totalTokens(int totalTokens) {
        onLoop("CapacityLimiter.totalTokens(int)");
        total = checkTotal(totalTokens);
        serveWaiters();
    }

    /**
     * The tokens held now.
     *
     * <p>Threading: the limiter's loop.
     *
     * @return the borrowed count
     */
    public int borrowedTokens() {
        onLoop("CapacityLimiter.borrowedTokens()");
        return borrowers.size();
    }

    /**
     * The tokens free now ({@code 0} when the borrowed count is at or above the total).
     *
     * <p>Threading: the limiter's loop.
     *
     * @return the available count
     */
    public int availableTokens() {
        onLoop("CapacityLimiter.availableTokens()");
        return Math.max(0, total - borrowers.size());
    }

    /**
     * A snapshot: tokens borrowed, total, the borrowers, and how many fibers wait.
     *
     * <p>Threading: the limiter's loop.
     *
     * @return the statistics
     */
    public Statistics statistics() {
        onLoop("CapacityLimiter.statistics()");
        return new Statistics(borrowers.size(), total, List.copyOf(borrowers), waiters.size());
    }

    @Override
    public String toString() {
        return "CapacityLimiter[" + borrowers.size() + "/" + total + " borrowed, " + waiters.size() + " waiting, " + loopName() + "]";
    }

    // ------------------------------------------------------------------ internals (loop thread)

    private static int checkTotal(int totalTokens) {
        if (totalTokens < 1) {
            throw new IllegalArgumentException("CapacityLimiter: totalTokens must be at least 1, not " + totalTokens);
        }
        return totalTokens;
    }

    private boolean free() {
        return borrowers.size() < total && waiters.isEmpty();
    }

    private void checkNotHolding(Object borrower) {
        if (borrowers.contains(borrower)) {
            throw new IllegalStateException("CapacityLimiter: " + borrower + " already holds one of this limiter's tokens; "
                    + "a borrower holds at most one");
        }
    }

    private boolean tryTake(Object borrower) {
        checkNotHolding(borrower);
        if (free()) {
            borrowers.add(borrower);
            return true;
        }
        return false;
    }

    private void acquire(Strand me, Object borrower) {
        me.checkCancelled();
        if (tryTake(borrower)) {
            return;
        }
        waitFor(me, borrower);
    }

    private boolean tryAcquire(Strand me, Object borrower, Duration timeout) {
        me.checkCancelled();
        if (tryTake(borrower)) {
            return true;
        }
        return HandOffQueue.within(timeout, () -> waitFor(me, borrower));
    }

    private void waitFor(Strand me, Object borrower) {
        for (Waiters.Waiter w = waiters.peek(); w != null; w = w.next()) {
            if (((TokenWaiter) w).borrower.equals(borrower)) {
                throw new IllegalStateException("CapacityLimiter: " + borrower + " already waits for one of this limiter's tokens; "
                        + "a borrower holds at most one");
            }
        }
        waiters.await(me, new TokenWaiter(me, borrower));
    }

    private void releaseFor(Object borrower, String op) {
        if (!borrowers.remove(borrower)) {
            throw new IllegalStateException("CapacityLimiter." + op + ": " + borrower + " holds no token of this limiter"
                    + (borrowers.isEmpty() ? " (none is borrowed)" : "; the borrowers are " + borrowers));
        }
        serveWaiters();
    }

    /** Hands free tokens to the oldest waiters. */
    private void serveWaiters() {
        while (borrowers.size() < total) {
            TokenWaiter w = (TokenWaiter) waiters.poll();
            if (w == null) {
                return;
            }
            borrowers.add(w.borrower);
            w.grant();
        }
    }
}
