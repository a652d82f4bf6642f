package io.fiberloop.netty.internal;

import io.fiberloop.fiber.Fibers;
import java.io.InterruptedIOException;
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

    /** Unparks {@code t} if there is one. */
    public static void wake(Thread t) {
        if (t != null) {
            LockSupport.unpark(t);
        }
    }
}
