package io.fiberloop.fiber.sync;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.fiber.internal.Waiters;
import java.time.Duration;
import java.util.Objects;

/**
 * A flag that fibers can wait for (asyncio's {@code Event}): {@link #set()} raises it and wakes
 * every waiting fiber, {@link #clear()} lowers it, {@link #await()} suspends until it is raised.
 *
 * {@snippet :
 * Event ready = Event.create();
 * Fibers.spawn(() -> { ready.await(); serve(); return null; });   // waits
 * loadConfiguration();
 * ready.set();                                                   // every waiter resumes
 * }
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>{@link #set()} wakes every fiber waiting at that moment, in the order they started waiting;
 *       each of them returns from {@code await()} even if the event is cleared again before it
 *       resumes (the wake-up is theirs, as in asyncio). Fibers that call {@code await()} while the
 *       event is set return at once.</li>
 *   <li>The non-suspending form of {@code await()} is {@link #isSet()}.</li>
 *   <li><b>Cancellation-safe:</b> a waiter cancelled (or timed out) leaves the waiting list and
 *       affects no other waiter. {@code await()} is a cancellation point even when the event is
 *       set; it does not yield then.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * An event belongs to one loop: the loop it is created on or, when it is created off any loop, the
 * loop of its first use. {@code await} needs a fiber of that loop; {@code set}, {@code clear} and
 * {@code isSet} may also run in a loop callback. From another loop or a plain thread every method
 * throws {@link IllegalStateException}: to signal across loops or from threads, use a channel (or
 * complete a {@link java.util.concurrent.CompletableFuture} that the fiber awaits with
 * {@link Fibers#await}). A loop is single-threaded, so the event is plain fields: it costs no
 * atomics.
 */
public final class Event extends LoopBound {
    private boolean flag;
    private final Waiters waiters = new Waiters();

    private Event() {
        super("Event");
    }

    /**
     * Creates an event that is not set, bound to the current loop (or, off any loop, to the loop of
     * its first use).
     *
     * <p>Threading: any thread.
     *
     * @return a new event
     */
    public static Event create() {
        return new Event();
    }

    /**
     * Sets the event and wakes every waiting fiber (they resume on a later turn, in the order they
     * started waiting). Setting an event that is set does nothing.
     *
     * <p>Threading: the event's loop (a fiber or a loop callback).
     */
    public void set() {
        onLoop("Event.set()");
        flag = true;
        for (Waiters.Waiter w = waiters.poll(); w != null; w = waiters.poll()) {
            w.grant();
        }
    }

    /**
     * Clears the event: later calls to {@link #await()} wait again. Fibers already woken by
     * {@link #set()} still return.
     *
     * <p>Threading: the event's loop (a fiber or a loop callback).
     */
    public void clear() {
        onLoop("Event.clear()");
        flag = false;
    }

    /**
     * Whether the event is set: the form of {@link #await()} that never suspends.
     *
     * <p>Threading: the event's loop (a fiber or a loop callback).
     *
     * @return whether it is set
     */
    public boolean isSet() {
        onLoop("Event.isSet()");
        return flag;
    }

    /**
     * Suspends the calling fiber until the event is set; returns at once if it is.
     *
     * <p>Threading: a fiber of the event's loop.
     *
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     * @throws IllegalStateException in a loop callback, on another loop or on a plain thread
     */
    public void await() {
        Strand me = strand("Event.await()", "isSet()");
        me.checkCancelled();
        if (!flag) {
            waitFor(me);
        }
    }

    /**
     * Waits at most {@code timeout} on the loop's clock for the event to be set.
     *
     * <p>Threading: a fiber of the event's loop.
     *
     * @param timeout how long to wait; zero or negative never suspends, as {@link #isSet()}
     * @return {@code true} if the event was set (or a {@link #set()} woke this fiber), {@code false}
     *     on timeout
     * @throws CancelledException if the calling fiber is cancelled, before or while waiting
     */
    public boolean await(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        Strand me = strand("Event.await(timeout)", "isSet()");
        me.checkCancelled();
        if (flag) {
            return true;
        }
        if (!timeout.isPositive()) {
            return false;
        }
        return Fibers.withTimeoutOrNull(timeout, () -> {
            waitFor(me);
            return Boolean.TRUE;
        }) != null;
    }

    /**
     * How many fibers wait for the event.
     *
     * <p>Threading: the event's loop.
     *
     * @return the number of waiters
     */
    public int waiting() {
        onLoop("Event.waiting()");
        return waiters.size();
    }

    @Override
    public String toString() {
        return "Event[" + (flag ? "set" : "clear") + ", " + waiters.size() + " waiting, " + loopName() + "]";
    }

    private void waitFor(Strand me) {
        Waiters.Waiter w = new Waiters.Waiter(me);
        waiters.add(w);
        try {
            me.awaitUntil(w);
        } catch (Throwable t) {
            waiters.unlink(w); // a wake-up from set() is not a resource: nothing to hand on
            throw t;
        }
    }
}
