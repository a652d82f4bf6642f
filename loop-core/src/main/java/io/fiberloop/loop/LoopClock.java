package io.fiberloop.loop;

import java.time.Duration;

/**
 * The source of a loop's time, in nanoseconds on an arbitrary monotonic origin (as
 * {@link System#nanoTime()}). Timers, timeouts and {@code sleep} of a loop all follow it.
 *
 * <p>Two clocks exist: {@link #system()}, the default, and {@link VirtualClock}, for tests, in
 * which time moves only when advanced (or, in auto-advance mode, whenever the loop is idle).
 */
public sealed interface LoopClock permits SystemClock, VirtualClock {

    /**
     * Reads the clock. Safe from any thread.
     *
     * @return the current time in nanoseconds; only differences between two readings are meaningful
     */
    long nanoTime();

    /**
     * The system's monotonic clock, {@link System#nanoTime()}.
     *
     * @return the shared system clock
     */
    static LoopClock system() {
        return SystemClock.INSTANCE;
    }

    /**
     * A new virtual clock starting at zero, advanced only by {@link VirtualClock#advance(Duration)}.
     *
     * @return a new virtual clock
     */
    static VirtualClock virtual() {
        return new VirtualClock(false, Duration.ZERO);
    }

    /**
     * A new virtual clock that jumps to the next timer's deadline whenever its loop is idle
     * (trio's autojump clock): a test of a one-hour timeout finishes at once.
     *
     * @return a new auto-advancing virtual clock
     */
    static VirtualClock autoAdvancing() {
        return new VirtualClock(true, Duration.ZERO);
    }
}
