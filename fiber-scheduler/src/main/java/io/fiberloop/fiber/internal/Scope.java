package io.fiberloop.fiber.internal;

import io.fiberloop.fiber.CancelledException;
import io.fiberloop.loop.TimerHandle;
import java.time.Duration;

/**
 * One cancel scope of a strand (trio's {@code CancelScope}): it can be cancelled, by a call or by
 * its deadline, and it can shield the code inside from cancellations outside. The public
 * {@code CancelScope}, {@code Fibers.withTimeout} and {@code Fibers.nonCancellable} are built on it.
 *
 * <p>A scope is entered once, by the strand that runs its body, and exited once; while it is
 * entered it is linked into that strand's chain of scopes (innermost first), which
 * {@link Strand#pendingCancellation()} walks at every suspension point. When its cancellation
 * reaches the scope's own exit, the scope has caught it ({@link #caught(Throwable)}).
 *
 * <pre>
 *   NEW --enter--> ENTERED --exit--> EXITED        cancelled: set by cancel() or the deadline,
 *                                                  in any of the three states (never cleared)
 * </pre>
 *
 * <p>Threading: the strand's loop, but for {@link #cancelled()}, which any thread may read.
 */
public final class Scope implements Runnable {
    private final String what;
    /** The message when the deadline passed, if it differs from the default. */
    private String expiredText;
    /** The next scope out, while entered. */
    Scope outer;
    private Strand strand;
    boolean shield;
    private volatile boolean cancelled;
    private boolean byDeadline;
    private long deadline = Long.MAX_VALUE;
    /** A deadline relative to the entry, set before it: nanoseconds, or -1. */
    private long timeoutNanos = -1;
    private TimerHandle timer;
    private boolean entered;
    private boolean exited;
    private boolean caught;

    /**
     * A scope that is neither cancelled nor shielded and has no deadline.
     *
     * @param what what it is, for messages ({@code "cancel scope"})
     */
    public Scope(String what) {
        this.what = what;
    }

    /**
     * A scope whose deadline is {@code timeout} after it is entered ({@code Fibers.withTimeout}).
     *
     * @param timeout the time its body is allowed
     * @return the scope
     */
    public static Scope timeout(Duration timeout) {
        Scope s = new Scope("withTimeout");
        s.expiredText = "deadline of " + timeout.toMillis() + " ms expired";
        s.timeoutNanos = nanos(timeout);
        return s;
    }

    /**
     * A scope that shields its body from the cancellations outside it ({@code Fibers.nonCancellable}).
     *
     * @return the scope
     */
    public static Scope shielded() {
        Scope s = new Scope("shield");
        s.shield = true;
        return s;
    }

    private static long nanos(Duration d) {
        try {
            return Math.max(0, d.toNanos());
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    // ------------------------------------------------------------------ entering and exiting

    /**
     * Enters the scope in {@code strand} (the current strand): links it as the innermost scope and
     * arms its deadline. If arming fails (a closing loop refuses the timer), the scope is exited
     * again and the {@link CancelledException} propagates.
     *
     * @param strand the current strand
     * @throws IllegalStateException if the scope was entered before: a scope runs once
     */
    public void enter(Strand strand) {
        if (entered) {
            throw new IllegalStateException("this cancel scope has already run: a scope runs its body once; create a new one");
        }
        entered = true;
        this.strand = strand;
        outer = strand.scopes;
        strand.scopes = this;
        if (timeoutNanos >= 0) {
            long now = strand.loop().now();
            deadline = now + timeoutNanos < now ? Long.MAX_VALUE : now + timeoutNanos;
            timeoutNanos = -1;
        }
        try {
            arm();
        } catch (RuntimeException | Error e) {
            exit();
            throw e;
        }
    }

    /** Unlinks the scope (and any inner scope left linked) and disarms its deadline. */
    public void exit() {
        if (exited || !entered) {
            return;
        }
        exited = true;
        strand.scopes = outer;
        disarm();
    }

    /**
     * Whether {@code e}, escaping the scope's body, is the scope's own cancellation, which the
     * scope then absorbs (trio's {@code cancelled_caught}): its {@link CancelledException}, or the
     * {@link InterruptedException} of a JDK blocking call that the cancellation interrupted and
     * the body let escape.
     *
     * @param e what escaped the body
     * @return whether the scope caught it
     */
    public boolean caught(Throwable e) {
        boolean ours;
        if (e instanceof ScopeCancelledException sc) {
            ours = sc.scope == this;
        } else if (e instanceof InterruptedException && cancelled && strand != null) {
            CancelledException pending = strand.pendingCancellation();
            ours = pending instanceof ScopeCancelledException sc && sc.scope == this;
        } else {
            ours = false;
        }
        if (ours) {
            caught = true;
        }
        return ours;
    }

    /** {@return whether the scope caught its own cancellation at its exit} */
    public boolean cancelledCaught() {
        return caught;
    }

    // ------------------------------------------------------------------ cancelling

    /**
     * Cancels the scope: its body gets {@link CancelledException} at its suspension points, at
     * once if it is suspended now. Loop thread.
     */
    public void cancel() {
        cancelled = true;
        disarm();
        if (running()) {
            strand.interruptWait();
        }
    }

    /** Marks the scope cancelled without waking its body: for a scope that is not running. Any thread. */
    public void requestCancel() {
        cancelled = true;
    }

    /** The deadline passed: a wake-up ({@code EventLoop.scheduleWakeAt}), fired by the loop, possibly in the middle of an I/O poll. */
    @Override
    public void run() {
        timer = null;
        if (!cancelled) {
            byDeadline = true;
            cancel();
        }
    }

    /** {@return whether the scope was cancelled, by a call or its deadline. Any thread} */
    public boolean cancelled() {
        return cancelled;
    }

    /** {@return whether its body runs now} */
    public boolean running() {
        return entered && !exited;
    }

    CancelledException exception() {
        String message = !byDeadline ? what + " was cancelled" : expiredText != null ? expiredText : what + ": its deadline passed";
        return new ScopeCancelledException(message, this);
    }

    // ------------------------------------------------------------------ deadline and shield

    /** {@return the deadline on the loop's clock, or {@link Long#MAX_VALUE} for none (or none yet)} */
    public long deadline() {
        return deadline;
    }

    /**
     * Moves the deadline. Loop thread while the scope runs.
     *
     * @param deadlineNanos a time of the loop's clock; {@link Long#MAX_VALUE} for none
     */
    public void deadline(long deadlineNanos) {
        deadline = deadlineNanos;
        timeoutNanos = -1;
        if (running() && !cancelled) {
            disarm();
            arm();
        }
    }

    /**
     * Sets the deadline {@code timeout} from now, or from the entry if the scope has not been
     * entered yet.
     *
     * @param timeout how long
     */
    public void deadlineAfter(Duration timeout) {
        if (running()) {
            long now = strand.loop().now();
            long n = nanos(timeout);
            deadline(now + n < now ? Long.MAX_VALUE : now + n);
        } else if (!exited) {
            deadline = Long.MAX_VALUE;
            timeoutNanos = nanos(timeout);
        }
    }

    /** {@return whether the scope shields its body from the cancellations outside it} */
    public boolean shield() {
        return shield;
    }

    /**
     * Turns the shield on or off. Loop thread while the scope runs; turning it off delivers a
     * cancellation that is pending outside.
     *
     * @param on whether to shield
     */
    public void shield(boolean on) {
        shield = on;
        if (!on && running() && strand.pendingCancellation() != null) {
            strand.interruptWait();
        }
    }

    private void arm() {
        if (cancelled || deadline == Long.MAX_VALUE) {
            return;
        }
        if (deadline <= strand.loop().now()) {
            byDeadline = true;
            cancel();
            return;
        }
        timer = strand.scheduleWakeAt(this, deadline);
    }

    private void disarm() {
        TimerHandle t = timer;
        if (t != null) {
            timer = null;
            t.cancel();
        }
    }

    /** The cancellation a scope raises in its body; the scope absorbs it at its exit. */
    static final class ScopeCancelledException extends CancelledException {
        private static final long serialVersionUID = 1L;
        final transient Scope scope;

        ScopeCancelledException(String message, Scope scope) {
            super(message);
            this.scope = scope;
        }
    }

    @Override
    public String toString() {
        return "Scope[" + what + (cancelled ? ", cancelled" : "") + (shield ? ", shield" : "")
                + (deadline != Long.MAX_VALUE ? ", deadline " + deadline : "") + "]";
    }
}
