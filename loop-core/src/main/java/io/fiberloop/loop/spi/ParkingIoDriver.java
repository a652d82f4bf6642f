package io.fiberloop.loop.spi;

import java.util.concurrent.locks.LockSupport;

/**
 * A driver with no I/O: waiting is a park of the polling thread (the carrier, or the loop's work
 * fiber), waking is its unpark. The {@code woken} flag closes the race in which a wakeup arrives
 * before the poller has published itself: both sides write their own volatile and then read the
 * other's, so at least one of them sees the other.
 */
final class ParkingIoDriver implements IoDriver {
    private volatile Thread poller;
    private volatile boolean woken;

    @Override
    public int poll(long timeoutNanos) {
        if (timeoutNanos <= 0) {
            woken = false;
            return 0;
        }
        poller = Thread.currentThread();
        if (!woken) {
            if (timeoutNanos == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, timeoutNanos);
            }
        }
        poller = null;
        woken = false;
        return 0;
    }

    @Override
    public void wakeup() {
        woken = true;
        Thread t = poller;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void close() {
        poller = null;
    }

    @Override
    public String toString() {
        return "ParkingIoDriver";
    }
}
