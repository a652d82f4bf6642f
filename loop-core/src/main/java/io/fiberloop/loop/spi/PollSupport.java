package io.fiberloop.loop.spi;

/**
 * What a loop offers its {@link IoDriver} for use in the middle of {@link IoDriver#poll}: given
 * once, through {@link IoDriver#attach(PollSupport)}, before the first poll.
 *
 * <p>Threading: only inside {@code poll}, by the thread that runs it (the loop's work runner).
 */
public interface PollSupport {

    /**
     * Fires the loop's due wake-up timers ({@link io.fiberloop.loop.EventLoop#scheduleWake}), in
     * deadline order, and stops at the first due timer that is a plain one (it fires after the poll,
     * with the timers behind it, so that timers still fire in deadline order). Timers scheduled
     * meanwhile wait for the next call. A driver that lets the loop's fibers run in the middle of a
     * poll calls it just before, so that the fibers the timers wake run then too.
     *
     * @return the number of timers fired
     * @throws IllegalStateException if called outside the loop's poll
     */
    int fireWakeTimers();

    /**
     * Lets the loop's queued tasks run in the middle of the poll: the loop's host runs the tasks
     * queued now on a second runner of its own (fiberloop's fibers: a second work fiber), which
     * runs when the driver next yields ({@link Thread#yield()}), before the yielding runner
     * resumes. They run as a turn runs its tasks: in the order they were queued, only those queued
     * when the batch begins (the tasks they queue wait for the next batch or turn), and a task that
     * blocks keeps that runner (the others wait for the next batch or turn, in order). A driver
     * that yields in the middle of long runs calls it just before it yields, so that what Netty's
     * handlers queued as loop tasks (a read handler's call, an HTTP exchange) answers within the
     * run, as woken fibers do. Their calls to the driver are made off the thread that is inside
     * {@code poll}: the driver queues them and carries them out after the yield.
     *
     * @return whether a batch will run at the next yield: false when no task is queued, or the
     *     loop has no host that can run one (its tasks then wait until the poll returns)
     * @throws IllegalStateException if called outside the loop's poll
     */
    boolean runTasks();
}
