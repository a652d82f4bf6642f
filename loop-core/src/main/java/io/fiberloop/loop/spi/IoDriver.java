package io.fiberloop.loop.spi;

/**
 * The I/O system of one event loop: the loop waits in {@link #poll(long)} when it has nothing
 * ready, and other threads interrupt that wait with {@link #wakeup()}.
 *
 * <h2>Threading</h2>
 * {@link #poll(long)} and {@link #close()} are called only by the loop's <em>work runner</em>:
 * on the loop's carrier thread, or, when the loop hosts fibers, inside the loop's work fiber (a
 * virtual thread mounted on the carrier). Implementations must therefore not assume that the
 * calling thread is a platform thread, and should process their I/O events inside {@code poll} so
 * that handlers run inside that fiber (this is what keeps a handler that blocks on a monitor held
 * by a parked fiber from deadlocking the carrier). {@link #wakeup()} is called from any thread.
 *
 * <p>On a fiber host, the thread that calls {@code poll} can change: when the work fiber blocks
 * inside a task, the loop hands its work to a new work fiber, and later polls come from that one.
 * All of them are virtual threads mounted on the same carrier (one OS thread), and a work fiber is
 * never replaced while it is inside {@code poll}; a driver that records an owning thread must
 * follow the change.
 *
 * <p>A driver may let the loop's fibers run in the middle of {@code poll} by yielding the work
 * fiber ({@link Thread#yield()}), as the Netty driver does between slices of a long io_uring or epoll run.
 * The loop counts as busy meanwhile (its watchdog watches those fibers); its timers wait until
 * {@code poll} returns, except the due wake-up timers
 * ({@link io.fiberloop.loop.EventLoop#scheduleWake}) ahead of the first due plain timer, which such
 * a driver fires just before it yields ({@link PollSupport#fireWakeTimers()}), and its tasks wait
 * too unless the driver asks for them to run meanwhile ({@link PollSupport#runTasks()}: on a
 * second runner of the loop's host, never on the thread inside {@code poll}).
 *
 * <p>A driver that blocks natively inside {@code poll} (for instance in {@code epoll_wait}) pins
 * the carrier while it waits; the loop calls it with a non-zero timeout only when nothing else of
 * the loop is ready, so the pin costs nothing.
 */
public interface IoDriver extends AutoCloseable {

    /**
     * Receives what the loop offers the driver in the middle of a poll. Called once, by the loop,
     * on the thread that builds it, before the first {@link #poll(long)}; the default ignores it
     * (a driver that never lets fibers run mid-poll has no use for it).
     *
     * @param support the loop's mid-poll support
     */
    default void attach(PollSupport support) {
    }

    /**
     * Runs the loop's work runner, {@code body}, on the calling thread: the loop calls it once per
     * work runner (once per work fiber on a fiber host, or once on the carrier otherwise), on that
     * runner's thread, and {@code body} returns when the runner ends. A driver overrides it to give
     * the runner thread-bound context for its whole life, such as Netty's fast thread-locals
     * (without which Netty's allocator treats the runner as a foreign thread). The default runs
     * {@code body} as it is. Must run {@code body} exactly once and let its exceptions through.
     *
     * @param body the work runner's loop
     */
    default void runWorker(Runnable body) {
        body.run();
    }

    /**
     * Processes ready I/O, waiting up to {@code timeoutNanos} for some to arrive.
     *
     * @param timeoutNanos {@code 0} to process what is ready without waiting; a positive value to
     *     wait at most that long; {@link Long#MAX_VALUE} to wait until I/O or {@link #wakeup()}
     * @return the number of I/O events or driver tasks processed (statistics only)
     */
    int poll(long timeoutNanos);

    /**
     * Whether the driver has work it can do at once, without waiting for anything outside the
     * process: operations the loop's fibers queued for it, or deliveries of an in-memory network
     * that are due. The loop then polls without blocking, and an auto-advancing
     * {@link io.fiberloop.loop.VirtualClock} does not jump to the next timer before that work is
     * done (so an in-memory exchange happens at the virtual time it was made). Called by the loop's
     * work runner, inside or between polls; the default says no.
     *
     * @return whether a {@code poll(0)} now would make progress
     */
    default boolean hasPendingWork() {
        return false;
    }

    /**
     * Makes a {@link #poll(long)} in progress return promptly, or, if none is in progress, the
     * next one. Safe from any thread; cheap to call more than once.
     */
    void wakeup();

    /** Releases the driver's resources. Called once, by the loop's work runner, as the loop closes. */
    @Override
    void close();
}
