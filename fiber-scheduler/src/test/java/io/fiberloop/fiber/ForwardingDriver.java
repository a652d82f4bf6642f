package io.fiberloop.fiber;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.spi.IoDriver;
import io.fiberloop.loop.spi.IoDriverFactory;
import io.fiberloop.loop.spi.PollSupport;

/**
 * The loop's parking driver, forwarded to: a test overrides what it watches or changes (a poll
 * that yields mid-run, a close that counts) and leaves the rest to the parking driver.
 */
public class ForwardingDriver implements IoDriver {
    /** The parking driver everything goes to. */
    protected final IoDriver parking;

    /**
     * A driver for {@code loop}.
     *
     * @param loop the loop being built
     */
    public ForwardingDriver(EventLoop loop) {
        this.parking = IoDriverFactory.parking().create(loop);
    }

    @Override
    public void attach(PollSupport support) {
        parking.attach(support);
    }

    @Override
    public void runWorker(Runnable body) {
        parking.runWorker(body);
    }

    @Override
    public int poll(long timeoutNanos) {
        return parking.poll(timeoutNanos);
    }

    @Override
    public boolean hasPendingWork() {
        return parking.hasPendingWork();
    }

    @Override
    public void wakeup() {
        parking.wakeup();
    }

    @Override
    public void close() {
        parking.close();
    }
}
