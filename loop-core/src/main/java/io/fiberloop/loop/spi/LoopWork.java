package io.fiberloop.loop.spi;

import io.fiberloop.loop.EventLoop;
import java.util.function.BooleanSupplier;

/**
 * What a loop offers the {@link LoopHost} that runs its carrier: its work, as a sequence of turns
 * that the host runs on a thread of its choosing on the carrier (fiberloop's fibers run it in a
 * <em>work fiber</em>), and the signals the loop's watchdog reads.
 *
 * <p>A turn, as asyncio's {@code _run_once}: poll the I/O driver (blocking only when nothing of
 * the loop or its host is ready, until the next deadline), fire the due timers, run the tasks that
 * were queued when the turn began. Once the loop is closing, the work cancels the timers, tells
 * the host ({@link LoopHost#onClose()}), drains, tells it again ({@link LoopHost#onTerminated()})
 * and closes the driver; then it has {@linkplain #finished() finished}.
 *
 * <p>Threading: the carrier, but for {@link #wakeupPoller()}, which any thread may call.
 */
public interface LoopWork {

    /** {@return the loop this work belongs to} */
    EventLoop loop();

    /**
     * Runs the loop's work on the calling thread (on the carrier) until it has finished or
     * {@code runner} is retired. Wrapped in the driver's {@link IoDriver#runWorker}, so that the
     * runner has the driver's thread-bound context for its whole life.
     *
     * @param runner the runner, marked while it runs a task
     */
    void run(WorkRunner runner);

    /**
     * The body of a host's second runner ({@link LoopHost#runTasksBeside()}): runs on the calling
     * thread (on the carrier), wrapped in the driver's {@link IoDriver#runWorker} as {@link #run}
     * is. Each time {@code next} returns true, it runs the tasks queued then, as a turn would,
     * marking {@code runner}, if the loop's runner is still inside the driver's poll (else the
     * poll's turn runs them); it returns once {@code next} returns false or the runner is retired.
     *
     * @param runner the second runner, marked while it runs a task
     * @param next waits for the next batch: true to run one, false to end
     */
    void runBeside(WorkRunner runner, BooleanSupplier next);

    /** {@return whether the work has finished: the loop closed, drained, and closed its driver} */
    boolean finished();

    /** Wakes a runner that waits (or is about to wait) in the driver's poll. Any thread. */
    void wakeupPoller();

    /** Counts one unit of the host's work (a continuation) as progress, for the watchdog. */
    void progressed();

    /**
     * Tells the watchdog whether the carrier is idle (parked, waiting for work) or busy.
     *
     * @param idle whether it is idle
     */
    void idle(boolean idle);

    /** {@return what the watchdog was last told: whether the carrier is idle} */
    boolean idle();

    /** {@return the host that runs the carrier} */
    LoopHost host();
}
