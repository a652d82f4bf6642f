package io.fiberloop.loop.spi;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * A module that runs a loop's carrier thread instead of the loop itself: fiberloop's fibers,
 * which run continuations of virtual threads on the carrier and the loop's {@link LoopWork} inside
 * a work fiber. A loop without a host runs its work directly on its carrier.
 *
 * <p>Threading: as each method says; the loop calls {@link #runCarrier()} on its carrier once.
 */
public interface LoopHost {

    /**
     * The carrier thread's body: runs the host's own work and, by {@link LoopWork#run}, the loop's.
     * Called once, on the carrier, when the loop starts; returns once the loop's work has
     * {@linkplain LoopWork#finished() finished} and the host has nothing more to run. An exception
     * escaping it closes the loop.
     */
    void runCarrier();

    /**
     * Whether the host has work ready on the carrier (runnable continuations): the loop then polls
     * its driver without blocking, and its runner lets that work run between turns. Carrier.
     *
     * @return whether the host's own work is ready
     */
    boolean hasReadyWork();

    /**
     * Runs a batch of the loop's tasks beside its runner, which is inside the driver's poll
     * ({@link PollSupport#runTasks()}): the host starts, or wakes, a second runner of its own that
     * calls {@link LoopWork#runBeside}, and lets it run before the poll's runner resumes from its
     * next yield. A host that finds that runner suspended inside a task retires it (it ends once
     * the task returns) and starts another for the next batch. The default runs none. Carrier,
     * from inside the poll.
     *
     * @return whether a batch will run: false if this host runs none
     */
    default boolean runTasksBeside() {
        return false;
    }

    /** Wakes the carrier if it waits for the host's own work. Any thread; cheap when it is awake. */
    void wakeCarrier();

    /**
     * Starts the loop's main ({@code EventLoop.run}), and completes {@code result} with its
     * outcome. Called on the carrier, inside the loop's work.
     *
     * @param main the main
     * @param result completed with its value or failure
     * @param <T> its result type
     */
    <T> void startMain(Callable<T> main, CompletableFuture<T> result);

    /**
     * Describes what the carrier runs now, for the watchdog's stall reports (the fiber's name and
     * stack, say). Called from the watchdog's thread.
     *
     * @return a description, or {@code null}
     */
    default String describeRunning() {
        return null;
    }

    /**
     * Called once as the loop starts closing, inside its work, after its timers were cancelled and
     * before its queued tasks and the host's work are drained: the place to cancel live fibers so
     * that their {@code finally} blocks run.
     */
    default void onClose() {
    }

    /**
     * Called once when closing has drained what it could, inside the loop's work, just before the
     * I/O driver closes: the place to release whoever still waits for work that will never run.
     */
    default void onTerminated() {
    }

    /** {@return how many units of the host's work ran (continuations), for the loop's statistics} */
    default long workRun() {
        return 0;
    }
}
