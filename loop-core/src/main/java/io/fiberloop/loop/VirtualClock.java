package io.fiberloop.loop;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A clock for tests: time moves only when {@link #advance(Duration) advanced}, or, in auto-advance
 * mode, jumps to the next timer's deadline whenever a loop using it has nothing else to do (after
 * it has been idle for the {@linkplain #autoAdvanceThreshold() threshold} of real time, zero by
 * default), as trio's {@code MockClock(autojump_threshold=0)}.
 *
 * {@snippet :
 * VirtualClock clock = LoopClock.autoAdvancing();
 * try (EventLoop loop = EventLoop.builder().clock(clock).build()) {
 *     loop.run(() -> loop.schedule(() -> System.out.println("an hour later"), Duration.ofHours(1)));
 * }
 * }
 *
 * <h2>Threading</h2>
 * Safe from any thread. Advancing wakes every loop that uses the clock so that due timers fire.
 * One clock may drive several loops (for a test of a cross-loop protocol); auto-advance then jumps
 * when the loop that is idle asks, so give each loop its own clock unless you advance by hand.
 */
public final class VirtualClock implements LoopClock {
    private final boolean autoAdvance;
    private final long thresholdNanos;
    private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile long now;

    VirtualClock(boolean autoAdvance, Duration threshold) {
        this.autoAdvance = autoAdvance;
        this.thresholdNanos = threshold.toNanos();
    }

    /**
     * An auto-advancing clock that jumps only after its loop has been idle for {@code threshold}
     * of real time, which leaves real I/O (on loopback, say) time to arrive first.
     *
     * @param threshold real idle time before a jump; zero jumps at once
     * @return a new auto-advancing virtual clock
     */
    public static VirtualClock autoAdvancing(Duration threshold) {
        Objects.requireNonNull(threshold, "threshold");
        if (threshold.isNegative()) {
            throw new IllegalArgumentException("threshold must not be negative, was " + threshold);
        }
        return new VirtualClock(true, threshold);
    }

    @Override
    public long nanoTime() {
        return now;
    }

    /**
     * Moves time forward and wakes the loops that use this clock, so that the timers now due fire.
     *
     * @param delta how far to move; must not be negative
     * @return the new time in nanoseconds
     */
    public long advance(Duration delta) {
        Objects.requireNonNull(delta, "delta");
        if (delta.isNegative()) {
            throw new IllegalArgumentException("a clock cannot go back: advance(" + delta + ")");
        }
        long t = advanceNanos(delta.toNanos());
        listeners.forEach(Runnable::run);
        return t;
    }

    /** Sets the time to {@code target} if that is later; used by auto-advance. */
    synchronized long advanceTo(long target) {
        if (target > now) {
            now = target;
        }
        return now;
    }

    private synchronized long advanceNanos(long delta) {
        now = Math.addExact(now, delta);
        return now;
    }

    /** {@return whether this clock jumps to the next deadline when its loop is idle} */
    public boolean isAutoAdvancing() {
        return autoAdvance;
    }

    /** {@return the real idle time after which an auto-advancing clock jumps} */
    public Duration autoAdvanceThreshold() {
        return Duration.ofNanos(thresholdNanos);
    }

    long thresholdNanos() {
        return thresholdNanos;
    }

    void addListener(Runnable wakeup) {
        listeners.add(wakeup);
    }

    void removeListener(Runnable wakeup) {
        listeners.remove(wakeup);
    }

    @Override
    public String toString() {
        return "VirtualClock[now=" + Duration.ofNanos(now) + (autoAdvance ? ", auto-advance" : "") + "]";
    }
}
