package io.fiberloop.loop.internal;

import io.fiberloop.loop.EventLoop;

/**
 * What fiberloop's other modules (the fiber scheduler, the test kit) may see of a loop beyond its
 * API: its schedule exploration, and whether work is pending, for tests that wait until every
 * other fiber is blocked. Implemented in {@code io.fiberloop.loop}, which installs it when its
 * loop class is initialised.
 *
 * <p>Internal to fiberloop: not an API.
 */
public abstract class LoopInternals {
    private static volatile LoopInternals instance;

    /** For the implementation in {@code io.fiberloop.loop} only. */
    protected LoopInternals() {
    }

    /**
     * Installs the implementation; only the first call counts.
     *
     * @param impl the implementation
     */
    public static synchronized void install(LoopInternals impl) {
        if (instance == null) {
            instance = impl;
        }
    }

    /** {@return the implementation (initialising the loop classes if needed)} */
    public static LoopInternals get() {
        LoopInternals i = instance;
        if (i == null) {
            EventLoop.builder(); // initialises the loop package, which installs the implementation
            i = instance;
        }
        return i;
    }

    /**
     * Makes the loops of {@code builder} explore schedules from {@code exploration}; {@code null}
     * turns exploration off (the default). Each loop needs its own exploration.
     *
     * @param builder a loop builder
     * @param exploration the exploration, or {@code null}
     * @return the builder
     */
    public abstract EventLoop.Builder explore(EventLoop.Builder builder, Exploration exploration);

    /**
     * Limits how far the auto-advancing virtual clock of {@code builder}'s loops may jump (see
     * {@link VirtualTimeLimit}); {@code null} removes the limit (the default).
     *
     * @param builder a loop builder
     * @param limit the limit, or {@code null}
     * @return the builder
     */
    public abstract EventLoop.Builder limitVirtualTime(EventLoop.Builder builder, VirtualTimeLimit limit);

    /**
     * {@return its exploration, or {@code null} (the usual FIFO order)}
     *
     * @param loop a loop
     */
    public abstract Exploration exploration(EventLoop loop);

    /**
     * Whether the loop has work that would run without time passing: queued tasks (local or from
     * other threads), timers other threads scheduled and the loop has not taken yet, or a timer due
     * on the loop's clock now, or
     * I/O work its driver can do at once ({@link io.fiberloop.loop.spi.IoDriver#hasPendingWork()}). Loop thread only.
     *
     * @param loop a loop
     * @return whether work is pending
     * @throws IllegalStateException off the loop's thread
     */
    public abstract boolean workPending(EventLoop loop);

    /**
     * The deadline of the loop's next timer. Loop thread only.
     *
     * @param loop a loop
     * @return the deadline on the loop's clock, {@link Long#MAX_VALUE} for none
     * @throws IllegalStateException off the loop's thread
     */
    public abstract long nextDeadline(EventLoop loop);
}
