package io.fiberloop.loop.spi;

/**
 * A timer task that only makes fibers runnable: it unparks or interrupts a fiber, sets a flag the
 * fiber reads, queues a connection's operations on the loop's I/O driver, and returns. It never
 * blocks and never runs user code or I/O of its own. (Interrupting a virtual thread that sits in an
 * interruptible JDK channel call closes that channel: the JDK's doing, and a fiber of a loop should
 * not be in such a call.) If one throws anyway, the loop's exception handler runs inside the
 * driver's poll.
 *
 * <p>Because of that promise the loop may fire such a timer while its I/O driver is in the middle
 * of a poll ({@link PollSupport#fireWakeTimers()}), so that a fiber sleeping through a long I/O run
 * wakes near its deadline instead of at the end of the run. A timer whose task is a plain
 * {@link Runnable} fires only between polls, as always.
 *
 * <p>Implement it only for tasks that keep the promise: a wake task that blocked would stall the
 * loop's I/O (the loop does not hand its work to another work fiber in the middle of a poll).
 */
public interface WakeTask extends Runnable {
}
