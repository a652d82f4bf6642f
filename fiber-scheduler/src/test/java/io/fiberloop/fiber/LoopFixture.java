package io.fiberloop.fiber;

import static org.junit.jupiter.api.Assertions.fail;

import io.fiberloop.loop.EventLoop;
import io.fiberloop.loop.LoopClock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the tests of this module share: loops on an auto-advancing virtual clock (sleeps and
 * timeouts take no real time, and happen at exact times), the loop's time for event logs, and
 * waiting until a plain thread blocks.
 */
public final class LoopFixture {
    private LoopFixture() {
    }

    /** @return a new loop on an auto-advancing virtual clock */
    public static EventLoop virtualLoop() {
        return FiberLoops.builder().clock(LoopClock.autoAdvancing()).build();
    }

    /**
     * @param name the loop's name
     * @return a new named loop on an auto-advancing virtual clock
     */
    public static EventLoop virtualLoop(String name) {
        return FiberLoops.builder().name(name).clock(LoopClock.autoAdvancing()).build();
    }

    /**
     * @param loop a loop
     * @return its clock's time as a duration, for event logs ({@code "PT0.05S"})
     */
    public static String at(EventLoop loop) {
        return Duration.ofNanos(loop.now()).toString();
    }

    /**
     * Waits (spinning, bounded) until {@code t} is parked or blocked: it is then inside the
     * blocking call.
     *
     * @param t a plain thread about to block
     */
    public static void awaitBlocked(Thread t) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            if (System.nanoTime() > deadline) {
                fail("thread " + t + " never blocked; state " + t.getState());
            }
            Thread.onSpinWait();
        }
    }
}
