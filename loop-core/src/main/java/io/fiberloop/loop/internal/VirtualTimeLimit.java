package io.fiberloop.loop.internal;

/**
 * A limit on how far an auto-advancing virtual clock may jump, for tests (fiberloop-test's
 * virtual-time budget): the first time an idle loop would jump past {@code limitNanos}, it runs
 * {@code onReached} instead (which cancels the test) and polls again; later jumps are not limited,
 * so the loop can wind down. Unlike a timer at the limit, it does not make the clock jump while
 * the loop waits for something from outside (a future another thread completes) and no timer is
 * pending.
 *
 * <p>Internal to fiberloop: not an API.
 *
 * <p>Threading: the loop's carrier.
 */
public final class VirtualTimeLimit {
    private final long limitNanos;
    private Runnable onReached;

    /**
     * A limit on how far the virtual clock may jump.
     *
     * @param limitNanos the clock's time past which a jump is refused once
     * @param onReached runs on the loop the first time a jump would pass the limit
     */
    public VirtualTimeLimit(long limitNanos, Runnable onReached) {
        this.limitNanos = limitNanos;
        this.onReached = onReached;
    }

    /** {@return the limit, on the clock's scale} */
    public long limitNanos() {
        return limitNanos;
    }

    /**
     * Loop only: whether a jump to {@code target} is refused (the first one past the limit, after
     * which {@code onReached} has run).
     *
     * @param target the jump's target
     * @return whether to refuse it
     */
    boolean refuses(long target) {
        Runnable r = onReached;
        if (target <= limitNanos || r == null) {
            return false;
        }
        onReached = null;
        r.run();
        return true;
    }

    /**
     * For {@code io.fiberloop.loop}: {@link #refuses} across the package boundary.
     *
     * @param limit a limit, or {@code null}
     * @param target the jump's target
     * @return whether the jump is refused
     */
    public static boolean refuses(VirtualTimeLimit limit, long target) {
        return limit != null && limit.refuses(target);
    }
}
