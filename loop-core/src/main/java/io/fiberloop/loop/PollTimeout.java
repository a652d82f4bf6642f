package io.fiberloop.loop;

import io.fiberloop.loop.internal.VirtualTimeLimit;

/**
 * How long a loop's turn may block in its driver's poll, on the loop's clock, and the virtual
 * clock's auto-jump (trio's autojump clock): a loop on an auto-advancing {@link VirtualClock} that
 * has nothing to do moves the clock to its next deadline instead of waiting for it.
 *
 * <pre>
 *   no jump pending ──(idle; next deadline d in the future;     ──► jump pending at d:
 *        ▲              threshold t &gt; 0: poll for t of real time)     the poll waits t
 *        │                                                              │
 *        └──(after the poll: if the loop stayed idle and d is still ◄───┘
 *             its next deadline, the clock jumps to d; either way)
 *
 *   threshold 0: the clock jumps to d at once, and the poll does not wait.
 * </pre>
 *
 * <p>The system clock and a virtual clock that is not auto-advancing never jump: the poll waits
 * until the next deadline (real time), or until woken (a virtual clock wakes its loops when it is
 * advanced by hand).
 *
 * <p>Threading: the loop's carrier only.
 */
final class PollTimeout {
    private static final long NO_JUMP = Long.MIN_VALUE;

    private final VirtualClock virtualClock;
    /** Tests only: a limit on jumps (fiberloop-test's virtual-time budget), or null. */
    private final VirtualTimeLimit limit;
    private long jumpTarget = NO_JUMP;

    /**
     * @param clock the loop's clock
     * @param limit a limit on auto-advance jumps, or {@code null}
     */
    PollTimeout(LoopClock clock, VirtualTimeLimit limit) {
        this.virtualClock = clock instanceof VirtualClock vc ? vc : null;
        this.limit = limit;
    }

    /**
     * How long the poll of an idle loop (no task or host work ready) may block.
     *
     * @param next the next timer's deadline, {@link Long#MAX_VALUE} for none
     * @return 0 to poll without blocking, {@link Long#MAX_VALUE} to block until woken, or nanoseconds
     */
    long forIdle(long next) {
        if (virtualClock == null) {
            if (next == Long.MAX_VALUE) {
                return Long.MAX_VALUE;
            }
            long now = System.nanoTime();
            if (next <= now) {
                return 0;
            }
            long wait = next - now; // compared first: a deadline far in the past must not overflow into a long wait
            return wait < 0 ? Long.MAX_VALUE : wait;
        }
        if (next == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        if (next <= virtualClock.nanoTime()) {
            return 0;
        }
        if (!virtualClock.isAutoAdvancing()) {
            return Long.MAX_VALUE;
        }
        if (VirtualTimeLimit.refuses(limit, next)) {
            return 0; // the limit's callback made work: poll again without jumping
        }
        long threshold = virtualClock.thresholdNanos();
        if (threshold == 0) {
            virtualClock.advanceTo(next);
            return 0;
        }
        jumpTarget = next;
        return threshold;
    }

    /**
     * Whether a timer is due on a virtual clock (advanced by another thread meanwhile): then the
     * poll must not block. Always false on the system clock, whose due timers
     * {@link #forIdle} accounts for.
     *
     * @param next the next timer's deadline
     * @return whether it is due on the virtual clock
     */
    boolean virtualDue(long next) {
        return virtualClock != null && next <= virtualClock.nanoTime();
    }

    /**
     * After the poll: makes a pending jump if the loop stayed idle and the deadline it was for is
     * still the next one.
     *
     * @param stillIdle whether no work arrived during the poll
     * @param next the next timer's deadline now
     */
    void afterPoll(boolean stillIdle, long next) {
        long target = jumpTarget;
        if (target == NO_JUMP) {
            return;
        }
        jumpTarget = NO_JUMP;
        if (stillIdle && next == target) {
            virtualClock.advanceTo(target);
        }
    }

    /** {@return whether a jump waits for the end of the poll (so {@link #afterPoll} has work)} */
    boolean jumpPending() {
        return jumpTarget != NO_JUMP;
    }
}
