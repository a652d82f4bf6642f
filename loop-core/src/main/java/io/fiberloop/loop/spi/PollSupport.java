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
}
