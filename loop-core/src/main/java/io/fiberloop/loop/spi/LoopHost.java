package io.fiberloop.loop.spi;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * The fiber side of a hosted loop, created by a {@link LoopHostProvider}.
 *
 * <p>A hosted loop's carrier runs only continuations. The loop's own work (tasks, timer callbacks
 * and the I/O driver's poll) runs inside a <em>work fiber</em> that the host creates; when that
 * fiber blocks inside a task (for instance on a monitor that a parked fiber holds), the loop
 * starts a fresh work fiber so that timers and I/O keep running, and the blocked one retires once
 * its task returns.
 */
public interface LoopHost {

    /**
     * Creates (does not start) a virtual thread of this loop that runs {@code body}. Called on the
     * carrier.
     *
     * @param name the thread's name
     * @param body the loop's work
     * @return an unstarted virtual thread scheduled on this loop
     */
    Thread newWorkFiber(String name, Runnable body);

    /**
     * Starts {@code main} in a new root fiber of this loop and completes {@code result} with its
     * outcome. Called on the carrier, inside the work fiber.
     *
     * @param main the loop's main
     * @param result completed with main's value or failure
     * @param <T> the main's result type
     */
    <T> void startMain(Callable<T> main, CompletableFuture<T> result);

    /**
     * Describes what the carrier is running right now, for stall reports of the watchdog (for
     * instance the fiber's name and stack). Called from the watchdog thread.
     *
     * @return a description, or {@code null} when the host does not know
     */
    default String describeRunning() {
        return null;
    }

    /**
     * Called once as the loop starts closing, inside the work fiber, after its timers were
     * cancelled and before its queued tasks and runnable fibers are drained: the place to cancel
     * the host's live fibers so that their {@code finally} blocks run.
     */
    default void onClose() {
    }

    /**
     * Called once when closing has drained what it could, inside the work fiber, just before the
     * I/O driver closes: the place to release whoever still waits for a fiber that will never run
     * again.
     */
    default void onTerminated() {
    }
}
