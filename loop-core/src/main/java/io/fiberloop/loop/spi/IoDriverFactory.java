package io.fiberloop.loop.spi;

import io.fiberloop.loop.EventLoop;

/**
 * Creates the {@link IoDriver} of a loop. Given to {@link EventLoop.Builder#ioDriver}.
 */
@FunctionalInterface
public interface IoDriverFactory {

    /**
     * Creates the driver of {@code loop}. Called once, on the thread that builds the loop.
     *
     * @param loop the loop that will own the driver (not started yet)
     * @return a new driver, owned by {@code loop} from now on
     */
    IoDriver create(EventLoop loop);

    /**
     * The driver loop-core ships: no I/O at all, the loop's work runner parks while it waits
     * ({@link java.util.concurrent.locks.LockSupport#parkNanos}), and {@link IoDriver#wakeup()}
     * unparks it.
     *
     * @return the factory of parking drivers
     */
    static IoDriverFactory parking() {
        return loop -> new ParkingIoDriver();
    }
}
