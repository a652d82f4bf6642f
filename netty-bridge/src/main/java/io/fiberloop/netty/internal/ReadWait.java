package io.fiberloop.netty.internal;

import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.loop.TimerHandle;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The reading side's wait of a {@link ChannelCore}: the one fiber that waits for input and the
 * timeout of its wait. One per connection, created with its core. The core and its subclasses
 * decide what "readable" means (bytes buffered, a message, the end of a request body) and call
 * {@link #wake()} when it may have changed; the core also wakes the reader when the connection
 * fails or closes.
 *
 * <p>A timed wait schedules this object itself as a loop wake-up ({@code Strand.scheduleWake}):
 * one loop timer per wait, cancelled when the wait ends, and no task object per wait.
 *
 * <p>Threading: the carrier of the connection's loop only, as its core.
 */
final class ReadWait implements Runnable {
    private final ChannelCore core;
    /** The fiber waiting in {@link #await}, if any. */
    private Thread reader;
    private boolean timedOut;

    ReadWait(ChannelCore core) {
        this.core = core;
    }

    /** Wakes the fiber waiting to read, if any. */
    void wake() {
        Parking.wake(reader);
    }

    /** The wait's timer went off: the body of {@link ChannelCore#awaitReadable}'s timeout. Loop task. */
    @Override
    public void run() {
        timedOut = true;
        Parking.wake(reader);
    }

    /**
     * The body of {@link ChannelCore#awaitReadable}: suspends the calling fiber until
     * {@code ready} holds, the connection fails, closes or is closed by this side, or
     * {@code timeoutNanos} (when positive) passes.
     *
     * @param ready the condition to wait for
     * @param timeoutNanos the longest wait, or 0 for none
     * @param what what reads, for messages
     * @return {@code false} if the wait timed out with {@code ready} still false
     * @throws IllegalStateException if another fiber is waiting to read, or the caller is not a fiber
     * @throws InterruptedIOException if the fiber is interrupted
     */
    boolean await(BooleanSupplier ready, long timeoutNanos, String what) throws InterruptedIOException {
        Thread me = Thread.currentThread();
        if (reader != null && reader != me) {
            throw new IllegalStateException("another fiber (" + reader.getName() + ") is already reading from " + core
                    + ": only one fiber may read a connection at a time");
        }
        ChannelCore c = core;
        Strand strand = c.requireFiber(what);
        reader = me;
        TimerHandle timer = timeoutNanos > 0 ? strand.scheduleWake(this, Duration.ofNanos(timeoutNanos)) : null;
        timedOut = false;
        try {
            while (!ready.getAsBoolean() && c.failure == null && !c.closedLocally && !c.inactive && !timedOut) {
                Parking.parkChecked(strand, c.noun());
            }
            return !timedOut || ready.getAsBoolean();
        } finally {
            reader = null;
            if (timer != null) {
                timer.cancel();
            }
        }
    }
}
