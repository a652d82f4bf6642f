package io.fiberloop.netty.internal;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.internal.Strand;
import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.TimerHandle;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * How the connections of both packages (byte and message connections, the HTTP server's) wait in
 * a fiber and wake it. Not exported: the module's own plumbing.
 */
public final class Parking {
    private Parking() {
    }

    /**
     * Parks the calling fiber once (callers loop on their own condition); cancellation and
     * deadlines raise {@link io.fiberloop.fiber.CancelledException}, before and after.
     *
     * @param what what the fiber waits on, for the interrupt's message ("a connection")
     * @throws InterruptedIOException if the thread was interrupted (its status is kept)
     */
    public static void parkChecked(String what) throws InterruptedIOException {
        Fibers.checkCancelled();
        LockSupport.park();
        Fibers.checkCancelled();
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting on " + what);
        }
    }

    /**
     * Schedules {@code wake}, a timer that only wakes the calling fiber (a read timeout), on its
     * loop. A loop that has begun to close (another thread called {@code close()} while the fiber
     * ran) refuses new timers and cancels its tasks: the wait then raises
     * {@link io.fiberloop.fiber.CancelledException}, as every suspension point of a closing loop
     * does.
     *
     * @param loop the calling fiber's loop
     * @param wake the timer's task
     * @param delay how long from now
     * @return the timer
     * @throws io.fiberloop.fiber.CancelledException if the loop is closing
     */
    public static TimerHandle wakeAfter(EventLoop loop, Runnable wake, Duration delay) {
        Strand me = Strand.currentOrNull();
        return me != null ? me.scheduleWake(wake, delay) : loop.scheduleWake(wake, delay);
    }

    /**
     * As {@link #parkChecked(String)}, for a caller that has its strand at hand (no look-up).
     *
     * @param me the calling fiber's strand
     * @param what what the fiber waits on, for the interrupt's message
     * @throws InterruptedIOException if the thread was interrupted (its status is kept)
     */
    public static void parkChecked(Strand me, String what) throws InterruptedIOException {
        me.checkCancelled();
        LockSupport.park();
        me.checkCancelled();
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting on " + what);
        }
    }

    /** Unparks {@code t} if there is one. */
    public static void wake(Thread t) {
        if (t != null) {
            LockSupport.unpark(t);
        }
    }
}
