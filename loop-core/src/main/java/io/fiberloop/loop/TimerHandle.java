package io.fiberloop.loop;

/**
 * A pending timer of an {@link EventLoop}, returned by {@link EventLoop#schedule} and
 * {@link EventLoop#scheduleAt}: asyncio's {@code TimerHandle}.
 *
 * <p>States: pending, then exactly one of fired (its callback was started) or cancelled.
 *
 * <h2>Threading</h2>
 * Every method is safe from any thread. Cancelling on the loop removes the timer at once;
 * cancelling from another thread marks it at once (it will never fire) and the loop removes it on
 * its next turn, so cancelled timers never pile up.
 */
public interface TimerHandle {

    /**
     * Cancels the timer if it has not fired yet.
     *
     * @return {@code true} if this call cancelled it; {@code false} if it had already fired or been cancelled
     */
    boolean cancel();

    /** {@return whether the timer was cancelled before it fired} */
    boolean isCancelled();

    /** {@return whether the timer's callback has been started} */
    boolean hasFired();

    /** {@return the deadline on the loop's clock, in nanoseconds ({@link EventLoop#now()})} */
    long deadlineNanos();
}
